"""The Sweeps page in headless chromium: define a small letters grid (two cells × two hidden sizes × two seeds),
launch it, watch the live table show each run's state and progress, then read the results — the metric against
each swept field with a ± sd band, parallel coordinates (two fields vary) — and open a run on other pages.
Screenshots in test-artifacts/."""

from __future__ import annotations

import re

import pytest
from browser_helpers import assert_clean, open_page, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GRID = '[data-testid="stDataFrame"]'
RUNS = 8  # cell=rnn,gru × hidden 3,6 × seeds 0,1
# The live table (the page's first table) as a list of {column: text} rows, read from its hidden accessible copy:
# the grid itself is drawn on a canvas.
LIVE_ROWS = """() => {
  const grid = document.querySelector('[data-testid="stDataFrame"]');
  if (!grid) return [];
  const heads = [...grid.querySelectorAll('[role="columnheader"]')].map(c => c.textContent.trim());
  return [...grid.querySelectorAll('[role="row"]')].map(r => [...r.querySelectorAll('[role="gridcell"]')])
    .filter(cells => cells.length === heads.length)
    .map(cells => Object.fromEntries(cells.map((c, i) => [heads[i], c.textContent.trim()])));
}"""
# A run is training and part of its batches are done.
PART_DONE = f"() => ({LIVE_ROWS})().some(r => r.state === 'running' && +r.done > 0 && +r.done < 1)"


def picked(page, name: str) -> bool:
    """Whether a run picker (a select box) on the page shows the run ``name``."""
    values = page.locator('input[role="combobox"]').evaluate_all("els => els.map(e => e.value)")
    return any(v.startswith(name + " ") for v in values)


def test_launch_a_grid_watch_it_fill_then_chart_and_open_its_runs(streamlit_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 2400})
    page.goto(streamlit_server)
    wait_idle(page, after_action=True)
    open_page(page, "Sweeps", heading="Sweeps")
    page.get_by_text("No sweeps yet").wait_for()

    page.get_by_label("Other fields", exact=True).fill("cell=rnn,gru")
    page.get_by_label("Hidden sizes", exact=True).fill("3,6")
    # Long enough per run (seconds on a quiet machine, with workers reused) that the live table, polled every
    # POLL_SECONDS, shows a run part-way through: 40 epochs could finish between two polls on an idle machine.
    page.get_by_label("Epochs", exact=True).fill("200")
    page.get_by_label("Seeds", exact=True).fill("0,1")
    page.get_by_role("button", name="Launch sweep").click()

    # The live table appears with all eight runs, and fills in as they train: a run seen running with part of its
    # batches done, then every run finished at 100%.
    page.wait_for_function(f"() => ({LIVE_ROWS})().length === {RUNS}", timeout=120_000)
    page.wait_for_function(PART_DONE, timeout=300_000, polling=100)
    seen_running = [r for r in page.evaluate(LIVE_ROWS) if r["state"] == "running"]
    page.snap("sweeps-running")
    page.get_by_text(re.compile(r"Finished · 8 of 8 runs done")).wait_for(timeout=600_000)
    # The fragment that saw the end reruns the whole page, which then draws the results.
    page.locator('[data-testid="stPlotlyChart"] .parcoords').first.wait_for(timeout=120_000)
    wait_idle(page, timeout=120_000, after_action=True)
    assert seen_running, "no run was seen training in the live table"
    rows = page.evaluate(LIVE_ROWS)
    assert len(rows) == RUNS and {r["state"] for r in rows} == {"finished"}, rows
    assert {float(r["done"]) for r in rows} == {1.0}, rows  # every run has trained all of its batches
    assert sorted((r["cell"], r["hidden_size"], r["seed"]) for r in rows) == sorted(
        (c, h, s) for c in ("rnn", "gru") for h in ("3", "6") for s in ("0", "1"))

    # Results: the summary table, the metric against each swept field with its band, parallel coordinates.
    metric = page.get_by_label("Metric", exact=True)
    metric.click()
    page.get_by_role("option", name="val_loss", exact=True).click()  # the loss always differs between seeds
    wait_idle(page, after_action=True)
    titles = page.locator('[data-testid="stPlotlyChart"] .gtitle').all_text_contents()
    assert sorted(titles[:2]) == ["val_loss vs cell", "val_loss vs hidden_size"], titles
    page.locator('[data-testid="stPlotlyChart"] .parcoords').first.wait_for()
    bands = page.locator('[data-testid="stPlotlyChart"] .scatterlayer .fills path')
    assert bands.count() >= 2
    heights = [b["height"] for b in (bands.nth(i).bounding_box() for i in range(bands.count())) if b]
    assert max(heights) > 2, f"the ± sd bands have no height: {heights}"  # seeds disagree, so a visible band
    assert page.get_by_text("How to read this: each dot is the mean over seeds").count() == 2
    assert_clean(page, "Sweeps results")
    page.snap("sweeps-results")

    # Every finished run can be opened elsewhere: the picker lists all eight; one opens on the Inside page and in
    # the letters playground, and the Runs page lists it as sweep/run.
    picker = page.get_by_label("Run", exact=True)
    picker.scroll_into_view_if_needed()
    picker.click()
    page.get_by_role("option").first.wait_for()
    options = page.get_by_role("option").all_text_contents()
    assert len(options) == RUNS and all("seed" in o for o in options), options
    page.get_by_role("option").nth(RUNS - 1).click()
    wait_idle(page, after_action=True)
    link = page.get_by_role("link", name=re.compile("Look inside"))
    href = link.get_attribute("href") or ""
    name = re.search(r"run=([^&]+)", href)
    assert name, href
    run_name = name.group(1).replace("%2F", "/")
    sweep, run = run_name.split("/")
    assert sweep.startswith("sweep-letters") and run.startswith("r007-")
    link.click()
    page.get_by_role("heading", name="Inside", level=1).wait_for()
    wait_idle(page, timeout=120_000, after_action=True)
    assert picked(page, run_name)  # the Inside page's picker opened the sweep's run
    assert_clean(page, "Inside with a sweep's run")
    page.snap("sweeps-inside")

    open_page(page, "Letters playground")
    assert picked(page, run_name)  # the playground opens the same run next
    assert_clean(page, "Letters playground with a sweep's run")

    open_page(page, "Runs")
    page.locator(f'{GRID} [role="gridcell"]').first.wait_for(state="attached")
    runs_text = page.locator(GRID).first.text_content() or ""
    assert runs_text.count(f"{sweep}/") == RUNS  # the Runs page lists every run of the sweep as sweep/run
