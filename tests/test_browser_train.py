"""The Train page in headless chromium at 1400×1000 during an IMDB run: the curves are on screen without scrolling
after Train is pressed, and Stop answers within a second while loading data, while training and while validating
(the times from the click to the stopped state are printed). Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
import time

import pytest
from browser_helpers import assert_clean, wait_idle

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1400, "height": 1000}
CHART = '[data-testid="stPlotlyChart"]'
# IMDB's full setting (GRU(64) over 500 words) on 1,000 training and 1,000 validation reviews: 16 batches per
# epoch and a validation pass long enough to press Stop during it.
QUERY = "task=imdb&preset=default&limit=2000&val_fraction=0.5&epochs=3"


def _stop_and_time(page, done: re.Pattern) -> tuple[float, float]:
    """Click Stop; (seconds until the box shows a stop is under way, seconds until it shows the stopped state)."""
    start = time.perf_counter()
    page.get_by_role("button", name="Stop").click()
    page.get_by_text(re.compile(r"Stopping|Stopped|Cancel")).first.wait_for(timeout=30_000)
    acknowledged = time.perf_counter() - start
    page.get_by_text(done).first.wait_for(timeout=30_000)
    return acknowledged, time.perf_counter() - start


def _train(page) -> None:
    page.get_by_role("button", name="Train", exact=True).click()


def test_curves_in_view_and_stop_within_a_second_in_every_phase(streamlit_server, browser_page, record_figure):
    page = browser_page
    page.set_viewport_size(VIEWPORT)
    page.goto(streamlit_server)  # the app's entrypoint first: a fresh server runs a deep link's page on its own
    page.get_by_role("heading", name="Unrolled").first.wait_for(timeout=120_000)
    page.goto(f"{streamlit_server}/train?{QUERY}")
    page.get_by_role("heading", name="Train", level=1).wait_for(timeout=120_000)
    wait_idle(page)
    figures = {}

    # Loading data (the parsed corpus is cached on disk; splitting and encoding still take a moment).
    _train(page)
    page.get_by_text("Loading data").first.wait_for(timeout=30_000)
    figures["loading data"] = _stop_and_time(page, re.compile("Stopped before training began"))
    page.snap("stopped-loading")
    wait_idle(page, settle_ms=500)

    # Training: the curves are drawn, both within the window without scrolling.
    _train(page)
    page.get_by_text(re.compile(r"Epoch 1/3 · batch \d+/16")).first.wait_for(timeout=120_000)
    page.wait_for_selector(f"{CHART} .scatterlayer .trace", timeout=60_000)
    for chart in page.locator(CHART).all()[:2]:
        box = chart.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"], box
    page.screenshot(path="test-artifacts/train-imdb-running.png")
    figures["training"] = _stop_and_time(page, re.compile("Stopped by request at epoch"))
    wait_idle(page, settle_ms=500)

    # Validating: Stop while the epoch's validation pass runs.
    _train(page)
    page.get_by_text(re.compile(r"batch 16/16 · validating")).first.wait_for(timeout=180_000)
    figures["validating"] = _stop_and_time(page, re.compile(r"Stopped by request (while validating|at epoch)"))
    page.snap("stopped-validating")
    wait_idle(page, settle_ms=500)

    for phase, (ack, done) in figures.items():
        print(f"\nStop while {phase}: box shows it after {ack:.2f} s, stopped state after {done:.2f} s")
        record_figure(f"stop {phase}: click -> stopped state (s)", done)
    assert_clean(page, "train after three stops")
    assert all(ack < 1.0 for ack, _ in figures.values()), figures
    assert all(done < 3.0 for _, done in figures.values()), figures  # 1 s goal, with room for a loaded machine
