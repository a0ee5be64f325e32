"""Inside at 1400×1000 in headless chromium, on a letters run, a one-step letters LSTM and the bundled IMDB run:
nothing is cut off. The quantity chips show their whole names; in every figure the step text (equations at step 0),
the Play buttons, the time axis's step-0 tick and every letter or word under the input row are drawn, inside their
chart and the page, and the letters and words stay in the input row's band (plotly hides an inside tick label that
reaches past the axis ends, and a few-step figure has a fixed width its text must fit); on the letters run the
training replay, drawn once its expander is opened, is measured too. Measured from the SVG bounding boxes;
screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browser_helpers import assert_clean, choose, fresh_page, open_page, wait_drawn, wait_idle

from tests.test_inside_page import train_and_save

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORT = {"width": 1400, "height": 1000}
SLACK = 1.0  # px: sub-pixel rounding of text boxes
# Every box the checks need, in viewport px, for each Inside figure on the page (drawn by app.light_chart).
GEOMETRY = """() => {
  const box = e => { const b = e.getBoundingClientRect();
                     return {l: b.left, t: b.top, r: b.right, b: b.bottom, w: b.width, h: b.height}; };
  const main = document.querySelector('[data-testid="stMain"]');
  return {page: box(main), innerWidth: window.innerWidth,
   charts: [...document.querySelectorAll('.unrolled-chart')].map(gd => {
    const el = gd.closest('[data-testid="stElementContainer"]'), fl = gd._fullLayout;
    const svg = gd.querySelector('.main-svg');
    const top = svg.getBoundingClientRect().top;
    const axes = Object.keys(fl).filter(k => /^xaxis\\d*$/.test(k)).map(k => fl[k]);
    const texts = ax => [...gd.querySelectorAll('g.' + ax._id + 'tick text')]
      .map(t => ({text: t.textContent, ...box(t)}));
    const yTops = Object.keys(fl).filter(k => /^yaxis\\d*$/.test(k)).map(k => top + fl[k]._offset);
    const band = ax => { const y = fl[ax.anchor === 'free' ? 'yaxis' : 'yaxis' + ax.anchor.slice(1)];
      const t = top + y._offset, below = yTops.filter(v => v > t + y._length - 1);
      return {t: t, b: below.length ? Math.min(...below) : box(svg).b}; };
    const ann = gd.querySelector('.annotation[data-index="0"] .annotation-text');
    return {chart: box(el), svg: box(svg), scroll: [el.scrollWidth, el.clientWidth],
      stepText: ann ? {text: ann.textContent, ...box(ann)} : null,
      buttons: [...gd.querySelectorAll('.updatemenu-button')].map(box), slider: (fl.sliders || []).length,
      inputRows: axes.filter(ax => ax.tickmode === 'array' && ax.showticklabels)
        .map(ax => ({id: ax._id, expected: [...ax.ticktext], drawn: texts(ax), band: band(ax)})),
      timeAxes: axes.filter(ax => ((ax.title || {}).text || '') === 'time step')
        .map(ax => ({id: ax._id, drawn: texts(ax)})),
    }; })}; }"""
CHIPS = """() => { const ms = [...document.querySelectorAll('[data-testid="stMultiSelect"]')]
    .find(m => m.querySelector('label').innerText.trim() === 'Show');
  const box = e => { const b = e.getBoundingClientRect(); return {l: b.left, t: b.top, r: b.right, b: b.bottom}; };
  return {field: box(ms.querySelector('[data-testid="stMultiSelectTagsContainer"]')),
    chips: [...ms.querySelectorAll('[data-tag]')].map(c => { const s = c.querySelector('span[title]');
      return {text: s.textContent, title: s.title, full: s.scrollWidth <= s.clientWidth, ...box(c)}; })}; }"""


def inside(outer: dict, inner: dict, what: str) -> None:
    """``inner`` lies fully within ``outer`` (boxes with l, t, r, b), and was drawn at all."""
    assert inner["r"] - inner["l"] > 0 and inner["b"] - inner["t"] > 0, f"{what} is not drawn"
    for side, sign in (("l", -1), ("t", -1), ("r", 1), ("b", 1)):
        assert sign * (inner[side] - outer[side]) <= SLACK, f"{what} is cut off ({side}): {inner} outside {outer}"


def check_layout(page, where: str, quantities: list[str]) -> None:
    # Each widget's code loads on its first use in a tab, and the figure may now be drawn before the quantity
    # picker's has arrived: wait for the picker's chips to be there.
    page.locator('[data-testid="stMultiSelect"]', has_text="Show").locator("[data-tag]").first.wait_for()
    chips = page.evaluate(CHIPS)
    assert [c["text"] for c in chips["chips"]] == quantities, chips
    for c in chips["chips"]:
        assert c["full"] and c["text"] == c["title"], f"{where}: chip {c['text']!r} is shortened"
        inside(chips["field"], c, f"{where}: chip {c['text']!r}")
    geo = page.evaluate(GEOMETRY)
    # The page scrolls up and down, not sideways: its visible area is the main column's width.
    visible = {"l": geo["page"]["l"], "r": min(geo["page"]["r"], geo["innerWidth"]), "t": -1e9, "b": 1e9}
    assert geo["charts"], f"{where}: no figure"
    for k, ch in enumerate(geo["charts"]):
        name = f"{where}, figure {k + 1}"
        inside(visible, ch["chart"], f"{name}: the chart")
        inside(ch["chart"], ch["svg"], f"{name}: the figure")
        assert ch["scroll"][0] <= ch["scroll"][1], f"{name}: the chart scrolls sideways {ch['scroll']}"
        text = ch["stepText"]
        assert text and text["text"].startswith("step 0 "), f"{name}: no step-0 text {text}"
        inside(ch["svg"], text, f"{name}: the step-0 text")
        assert len(ch["buttons"]) == (2 if ch["slider"] else 0), f"{name}: Play/Pause missing"  # none for one step
        for b in ch["buttons"]:
            inside(ch["svg"], b, f"{name}: a Play/Pause button")
        zero = [t for ax in ch["timeAxes"] for t in ax["drawn"] if t["text"] == "0"]
        assert zero, f"{name}: no step-0 tick on the time axis"
        for t in zero:
            inside(ch["svg"], t, f"{name}: the time axis's step-0 tick")
        assert ch["inputRows"], f"{name}: no letters or words under the input row"
        for row in ch["inputRows"]:
            drawn = [t for t in row["drawn"] if t["w"] > 0 and t["h"] > 0]  # plotly hides a label with display:none
            assert [t["text"] for t in drawn] == row["expected"], f"{name}: input labels hidden or missing"
            band = {"l": ch["svg"]["l"], "r": ch["svg"]["r"], "t": row["band"]["t"], "b": row["band"]["b"]}
            for t in drawn:
                inside(ch["svg"], t, f"{name}: input label {t['text']!r}")
                inside(band, t, f"{name}: input label {t['text']!r} (in the input row's band)")


def snap(page, name: str) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its own container, so the window is made as tall
    as the page for it (same width, so the layout measured above stays as it was)."""
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height) + 40, 8000)})
    page.wait_for_timeout(500)
    page.screenshot(path=f"test-artifacts/inside-layout-{name}.png")
    page.set_viewport_size(VIEWPORT)


@pytest.fixture
def page(browser, request):
    context, p = fresh_page(browser, VIEWPORT, timeout=120_000)
    try:
        yield p
    finally:
        context.close()


def drawn(page) -> None:
    wait_idle(page, 240_000)
    page.wait_for_function("document.querySelectorAll('.unrolled-chart .hm image').length > 0",
                           timeout=240_000)
    wait_drawn(page, 120_000)
    wait_idle(page, 240_000)


@pytest.mark.parametrize("run", ["letters-4in", "inside-layout-lstm"])
def test_nothing_is_cut_off_on_a_letters_run(streamlit_server, page, run):
    if run == "inside-layout-lstm":  # one step, LSTM: a narrow fixed-width figure under its longest equations
        train_and_save(Path(os.environ["UNROLLED_RUNS_DIR"]), run, "default", cell="lstm", hidden_size=4, epochs=2)
    page.goto(streamlit_server)
    page.get_by_role("heading", name="Unrolled").first.wait_for()
    open_page(page, "Inside", "Inside")
    choose(page, "Run", run)
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('run') === '{run}'")
    drawn(page)
    cell = "RNN" if run == "letters-4in" else "LSTM"
    page.get_by_text(re.compile(f"{cell} \\d+ units")).first.wait_for()
    assert page.locator(".unrolled-chart").count() == 1  # the training replay waits to be opened
    if run == "letters-4in":  # opened, it draws the same view as learned after the last epoch, measured too
        page.get_by_text("Show the training replay").click()
        page.locator(".unrolled-chart").nth(1).wait_for()
        drawn(page)
    names = {"RNN": ["h · hidden state", "pre · pre-activation"],
             "LSTM": ["h · hidden state", "c · cell state", "i · input gate", "f · forget gate", "g · candidate",
                      "o · output gate"]}
    check_layout(page, run, names[cell])
    snap(page, run)
    assert_clean(page, run)


def test_nothing_is_cut_off_on_the_bundled_imdb_run(streamlit_server, page):
    page.goto(streamlit_server)  # the app's entrypoint first: a fresh server's first deep link skips it
    page.get_by_role("heading", name="Unrolled").first.wait_for()
    page.goto(f"{streamlit_server}/inside?run=imdb-gru")
    page.get_by_role("heading", name="Inside").first.wait_for()
    drawn(page)
    check_layout(page, "imdb-gru", ["h · hidden state", "r · reset gate", "z · update gate", "n · candidate"])
    snap(page, "imdb-gru")
    # A deep link makes Streamlit probe /inside/_stcore paths first (404s in the console): not the page's errors.
    page.console_errors = [e for e in page.console_errors if "404 (Not Found)" not in e]
    assert_clean(page, "imdb-gru")
