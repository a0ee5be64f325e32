"""The playgrounds in headless chromium: a curve drawn with the mouse on the Sine playground's canvas becomes the
model's input and a prediction curve appears; cleared, right-to-left, single-dot and off-canvas drawings give a
notice or a message; Play runs the heatmaps; the Letters playground flags a bad letter and shows the bars.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import math
import re

import pytest
from browser_helpers import assert_clean, canvas_box, draw, reset_canvas, wait_animated, wait_idle
from browser_helpers import open_page as _open_page

pytestmark = pytest.mark.browser

CHART = '[data-testid="stPlotlyChart"]'


def open_page(page, title: str) -> None:
    _open_page(page, title, heading=title, after_action=True)




def wave(start: float, stop: float, amp: float = 0.35, cycles: float = 2.0, k: int = 50) -> list[tuple[float, float]]:
    return [(start + (stop - start) * i / (k - 1), 0.5 - amp * math.sin(2 * math.pi * cycles * i / (k - 1)))
            for i in range(k)]



def prediction_shown(page) -> None:
    page.locator(f"{CHART} .legendtext", has_text=re.compile("^prediction$")).first.wait_for(timeout=90_000)


def test_drawing_on_the_sine_canvas_gives_a_prediction_and_odd_drawings_a_message(streamlit_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 2000})
    page.goto(streamlit_server)
    wait_idle(page, after_action=True)
    open_page(page, "Sine playground")
    page.get_by_text("The canvas is blank").wait_for()
    assert page.locator(CHART).count() == 0
    assert_clean(page, "blank canvas")

    draw(page, wave(0.05, 0.95))
    prediction_shown(page)
    page.get_by_text("your drawing, resampled to 60 steps — close to a sine").first.wait_for()
    page.locator(f"{CHART} .legendtext", has_text=re.compile("^true cosine$")).first.wait_for()
    assert page.locator(CHART).count() == 2  # the curves, and the unrolled heatmaps beneath
    assert page.locator(f"{CHART} .heatmaplayer").count() >= 1
    assert_clean(page, "after drawing")
    page.snap("sine-drawn")

    page.locator(".updatemenu-button", has_text="Play").first.click()
    wait_animated(page)  # the animation has moved past its first frame
    assert_clean(page, "after Play")

    reset_canvas(page)
    draw(page, wave(0.95, 0.05))
    page.get_by_text("drawn right to left").first.wait_for()
    prediction_shown(page)

    reset_canvas(page)
    box = canvas_box(page)
    page.mouse.click(box["x"] + 100, box["y"] + 100)
    wait_idle(page, after_action=True)
    page.get_by_text("That is a single dot").wait_for()
    assert page.locator(CHART).count() == 0

    reset_canvas(page)
    draw(page, wave(0.3, 1.3, amp=0.8, cycles=1.5))  # past the right edge, above and below the canvas
    page.get_by_text("left the canvas").first.wait_for()
    prediction_shown(page)
    assert_clean(page, "odd drawings")
    page.snap("sine-off-canvas")


def test_letters_playground_flags_a_bad_letter_and_shows_the_bars(streamlit_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 2000})
    page.goto(streamlit_server)
    wait_idle(page, after_action=True)
    open_page(page, "Letters playground")
    page.get_by_role("button", name="b", exact=True).click()
    wait_idle(page, after_action=True)
    assert page.get_by_label("Letters", exact=True).input_value() == "ab"
    box = page.get_by_label("Letters", exact=True)
    box.fill("ab?c")
    box.press("Enter")
    wait_idle(page, after_action=True)
    page.locator("s", has_text="?").first.wait_for()
    page.get_by_text("not in the model's alphabet").wait_for()
    bars = page.locator(f"{CHART}").first
    assert bars.locator(".barlayer .trace").count() == 3  # one bar chart per letter read: a, b, c
    assert_clean(page, "letters")
    page.snap("letters")


def test_letters_playground_follows_typing_key_by_key(streamlit_server, browser_page):
    """No Enter: each letter typed is read as soon as typing pauses, as the page promises."""
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(streamlit_server)
    wait_idle(page, after_action=True)
    open_page(page, "Letters playground")
    box = page.get_by_label("Letters", exact=True)
    box.fill("")
    box.press("Enter")
    page.get_by_text("Type or click at least one letter").wait_for(timeout=20_000)
    read = page.locator('[data-testid="stMetric"]', has_text="Letters read")
    for typed in ("a", "ab", "abc"):
        box.press_sequentially(typed[-1])  # one key, then nothing: no Enter, no click elsewhere
        page.wait_for_function(
            "t => { const m = [...document.querySelectorAll('[data-testid=\"stMetric\"]')]"
            ".find(e => e.innerText.includes('Letters read')); return m && m.innerText.includes(t); }",
            arg=typed, timeout=20_000)
        assert box.evaluate("el => el === document.activeElement")  # the person keeps typing in the box
    assert read.first.inner_text().split()[-1] == "abc"
    assert_clean(page, "letters typing")


def test_an_always_visible_button_clears_the_canvas(streamlit_server, browser_page):
    """The canvas's own toolbar shows only while hovering; the page's Clear drawing button is always in view."""
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(streamlit_server)
    wait_idle(page, after_action=True)
    open_page(page, "Sine playground")
    draw(page, wave(0.05, 0.95))
    prediction_shown(page)
    page.mouse.move(5, 5)  # away from the canvas: the component's toolbar is hidden, the button is not
    clear = page.get_by_role("button", name="Clear drawing")
    assert clear.is_visible()
    clear.click()
    wait_idle(page, after_action=True)
    page.get_by_text("The canvas is blank").wait_for(timeout=20_000)
    assert "toolbar" not in page.locator('[data-testid="stMain"]').inner_text()
    assert_clean(page, "sine cleared")
