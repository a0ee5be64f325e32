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
# IMDB's full setting (GRU(64) over 500 words) on 2,000 reviews, half of them held out: a short epoch and a
# validation pass long enough to press Stop during it.
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
    wait_idle(page, after_action=True)

    # Training: the curves are drawn, both within the window without scrolling.
    _train(page)
    page.get_by_text(re.compile(r"Epoch 1/3 · batch \d+/\d+")).first.wait_for(timeout=120_000)
    page.wait_for_selector(f"{CHART} .scatterlayer .trace", timeout=60_000)
    # Both charts' boxes in one go (the polling fragment redraws them twice a second).
    boxes = page.evaluate(f"""() => [...document.querySelectorAll('{CHART}')].slice(0, 2).map(c => {{
        const r = c.getBoundingClientRect(); return {{top: r.top, bottom: r.bottom}}; }})""")
    assert len(boxes) == 2, boxes
    for box in boxes:  # at 1400×1000, without scrolling
        assert box["top"] >= 0 and box["bottom"] <= VIEWPORT["height"], boxes
    page.screenshot(path="test-artifacts/train-imdb-running.png")
    figures["training"] = _stop_and_time(page, re.compile("Stopped by request at epoch"))
    wait_idle(page, after_action=True)

    # Validating: Stop while the epoch's validation pass runs.
    _train(page)
    page.get_by_text(re.compile(r"batch (\d+)/\1 · validating")).first.wait_for(timeout=180_000)
    figures["validating"] = _stop_and_time(page, re.compile(r"Stopped by request (while validating|at epoch)"))
    page.snap("stopped-validating")
    wait_idle(page, after_action=True)

    for phase, (ack, done) in figures.items():
        print(f"\nStop while {phase}: box shows it after {ack:.2f} s, stopped state after {done:.2f} s")
        record_figure(f"stop {phase}: click -> stopped state (s)", done)
    # A deep link makes Streamlit probe /train/_stcore paths first (404s in the console): not this page's errors.
    page.console_errors = [e for e in page.console_errors if "404 (Not Found)" not in e]
    assert_clean(page, "train after three stops")
    # The goal is 1 s on a quiet machine; these limits only catch a Stop that waits for a whole phase to end
    # (loading IMDB the first time takes 40 s, an epoch minutes) on a loaded one. The figures are printed above.
    assert all(ack < 10.0 for ack, _ in figures.values()), figures
    assert all(done < 20.0 for _, done in figures.values()), figures
