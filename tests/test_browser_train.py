"""The Train page in headless chromium at 1400×1000 during an IMDB run: the curves are on screen without scrolling
after Train is pressed, and Stop answers within a second while loading data, building the model, training and
validating: the box shows the stop at once and the stopped state follows (both times from the click are printed
and recorded as figures). Screenshots go to test-artifacts/."""

from __future__ import annotations

import re

import pytest
from browser_helpers import assert_clean, open_page, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.quiet]  # it times Stop: run alone (make test)

VIEWPORT = {"width": 1400, "height": 1000}
CHART = '[data-testid="stPlotlyChart"]'
# IMDB's full setting (GRU(64) over 500 words) on 2,000 reviews, half of them held out: a short epoch and a
# validation pass long enough to press Stop during it.
QUERY = "task=imdb&preset=default&limit=2000&val_fraction=0.5&epochs=3"


ACK = re.compile(r"Stopping:|Cancelling…|Stopped before training began|Stopped by request")
BEFORE_TRAINING = re.compile("Stopped before training began")
STOPPED_TRAINING = re.compile(r"Stopped by request (at|while validating)")
STOPPED_ANYWHERE = re.compile(f"{BEFORE_TRAINING.pattern}|{STOPPED_TRAINING.pattern}")
FIRST_BATCHES = re.compile(r"Epoch 1/3 · batch \d+/\d+")


# In the page: the time of the click on Stop, and of the first frame whose alerts match ``ack`` and ``done``
# (Playwright's own click first waits for the button to hold still, which a busy page can stretch to a second or
# more; the person's click is the event, so the times run from it).
WATCH_STOP = """([ack, done]) => {
    if (window.__stopWatch) window.__stopWatch.disconnect();
    const t = window.__stopTimes = {};
    const alerts = () => [...document.querySelectorAll('[data-testid^="stAlertContent"]')].map(a => a.textContent);
    document.addEventListener('click', e => {
        const label = e.target.closest('button')?.textContent || '';
        if (t.click === undefined && label.includes('Stop')) t.click = performance.now();
    }, {capture: true});
    const check = () => {
        if (t.click === undefined) return;
        const now = performance.now(), texts = alerts();
        if (t.ack === undefined && texts.some(x => new RegExp(ack).test(x))) t.ack = now;
        if (t.done === undefined && texts.some(x => new RegExp(done).test(x))) t.done = now;
    };
    window.__stopWatch = new MutationObserver(check);
    window.__stopWatch.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def _stop_and_time(page, done: re.Pattern) -> tuple[float, float]:
    """Click Stop; (seconds from the click until the box shows the stop, and until it shows the stopped state)."""
    page.evaluate(WATCH_STOP, [ACK.pattern, done.pattern])
    page.get_by_role("button", name="Stop").click()
    page.wait_for_function("() => window.__stopTimes.ack !== undefined", timeout=30_000, polling=100)
    page.wait_for_function("() => window.__stopTimes.done !== undefined", timeout=30_000, polling=100)
    t = page.evaluate("() => window.__stopTimes")
    return (t["ack"] - t["click"]) / 1000, (t["done"] - t["click"]) / 1000


def _train(page) -> None:
    page.get_by_role("button", name="Train", exact=True).click()


def _next(page) -> None:
    """Let the page settle after a stopped job (its full-page rerun) before the next Train."""
    wait_idle(page, after_action=True)


def _catch(page, figures: dict, phase: str, most: int = 3) -> int:
    """Stop while the box shows ``phase`` ("Loading data" or "Building the model": each lasts a second or less, and
    the box polls twice a second, so a try can miss it: then the job is stopped wherever it is, and tried again, up
    to ``most`` tries). Returns the tries it took, 0 if every try missed it."""
    for tries in range(1, most + 1):
        _train(page)
        page.get_by_text(re.compile(f"{phase}|Epoch 1/3 · batch")).first.wait_for(timeout=120_000)
        if page.get_by_text(phase).count():
            figures[phase.lower()] = _stop_and_time(page, STOPPED_ANYWHERE)
            page.snap(f"stopped-{phase.lower().replace(' ', '-')}")
            _next(page)
            return tries
        _stop_and_time(page, STOPPED_ANYWHERE)
        _next(page)
    return 0


def _box_and_form(page) -> dict[str, str]:
    """The job the box names and picks, and the task the form holds."""
    def select(label: str) -> str:  # a selectbox is a combobox whose input holds the chosen option's label
        return page.get_by_role("combobox", name=label).input_value()

    return {"job": page.get_by_text(re.compile("^Job: ")).first.inner_text(), "picked": select("Your jobs"),
            "task": select("Task")}


def test_curves_in_view_and_stop_within_a_second_in_every_phase(streamlit_server, browser_page, record_figure):
    page = browser_page
    page.set_viewport_size(VIEWPORT)
    page.goto(streamlit_server)  # the app's entrypoint first: a fresh server runs a deep link's page on its own
    page.get_by_role("heading", name="Unrolled").first.wait_for(timeout=120_000)
    page.goto(f"{streamlit_server}/train?{QUERY}")
    page.get_by_role("heading", name="Train", level=1).wait_for(timeout=120_000)
    wait_idle(page)
    figures: dict[str, tuple[float, float]] = {}

    # Loading data (the parsed corpus is cached on disk; splitting and encoding still take a moment), then building
    # the model. Either phase may end between the box drawing it and the click reaching the server (the box polls
    # twice a second): then the job stops in the next phase, as it should, and both outcomes count.
    loading_tries = _catch(page, figures, "Loading data")
    tries = _catch(page, figures, "Building the model", most=6)  # a tenth of a second on a fast machine

    # Training: the curves are drawn, both within the window without scrolling.
    _train(page)
    page.get_by_text(FIRST_BATCHES).first.wait_for(timeout=120_000)
    page.wait_for_selector(f"{CHART} .scatterlayer .trace", timeout=60_000)
    # Both charts' boxes in one go (the polling fragment redraws them twice a second).
    boxes = page.evaluate(f"""() => [...document.querySelectorAll('{CHART}')].slice(0, 2).map(c => {{
        const r = c.getBoundingClientRect(); return {{top: r.top, bottom: r.bottom}}; }})""")
    assert len(boxes) == 2, boxes
    for box in boxes:  # at 1400×1000, without scrolling
        assert box["top"] >= 0 and box["bottom"] <= VIEWPORT["height"], boxes
    page.screenshot(path="test-artifacts/train-imdb-running.png")
    figures["training"] = _stop_and_time(page, re.compile("Stopped by request at epoch"))
    _next(page)

    # Validating: Stop while the epoch's validation pass runs.
    _train(page)
    page.get_by_text(re.compile(r"batch (\d+)/\1 · validating")).first.wait_for(timeout=180_000)
    figures["validating"] = _stop_and_time(page, STOPPED_TRAINING)
    page.snap("stopped-validating")
    _next(page)

    # Back on Train after another page: the box and the form show the same task and the same job as before.
    before = _box_and_form(page)
    open_page(page, "Runs", "Runs")
    open_page(page, "Train", "Train")
    page.get_by_text(re.compile("^Job: ")).first.wait_for()
    assert _box_and_form(page) == before, before
    assert before["task"].startswith("imdb") and before["job"].startswith("Job: imdb"), before

    for phase, at in (("Loading data", loading_tries), ("Building the model", tries)):
        print(f"\n{phase}: {'caught at try ' + str(at) if at else 'not caught in 3 tries'}")
    for phase, (ack, done) in figures.items():
        print(f"Stop while {phase}: box shows it after {ack:.2f} s, stopped state after {done:.2f} s")
        record_figure(f"stop {phase}: click -> box shows the stop (s)", ack)
        record_figure(f"stop {phase}: click -> stopped state (s)", done)
    # A deep link makes Streamlit probe /train/_stcore paths first (404s in the console): not this page's errors.
    page.console_errors = [e for e in page.console_errors if "404 (Not Found)" not in e]
    assert_clean(page, "train after the stops")
    # The goal is 1 s (the figures above: acks of 0.14-0.44 s, quiet or beside two CPU hogs, since the server
    # stopped collecting garbage after every script run; 4-6 s under load before). The stopped state also waits
    # for the training step under way (one torch thread per job: a second or more for 64 reviews x 500 words).
    # The limits are generous for a loaded CI machine and still catch a Stop that waits for a phase to end
    # (loading IMDB the first time takes 40 s, an epoch minutes).
    assert loading_tries, "Stop was never pressed while loading data: three tries missed the phase"
    assert all(ack < 10.0 for ack, _ in figures.values()), figures
    assert all(done < 20.0 for _, done in figures.values()), figures
