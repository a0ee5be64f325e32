"""The Digits page in headless chromium: a digit drawn with the mouse is read by the bundled 8×8 model (the
model's-eye view, the reading figure with Play, the Inside heatmaps), a single dot and a scribble over the canvas
are refused with a message instead of a guess. Screenshots go to test-artifacts/."""

from __future__ import annotations

import math

import pytest
from browser_helpers import assert_clean, canvas_box, draw, reset_canvas, wait_animated, wait_idle
from browser_helpers import open_page as _open_page

pytestmark = pytest.mark.browser

CHART = '[data-testid="stPlotlyChart"]'




def ring(k: int = 48) -> list[tuple[float, float]]:
    """A '0': an upright ellipse around the middle of the canvas, closed."""
    return [(0.5 + 0.22 * math.sin(2 * math.pi * i / k), 0.5 - 0.34 * math.cos(2 * math.pi * i / k))
            for i in range(k + 1)]



def test_a_digit_drawn_with_the_mouse_is_read_and_odd_drawings_are_refused(streamlit_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 2200})
    page.goto(streamlit_server)
    wait_idle(page, after_action=True)
    _open_page(page, "Digits", heading="Digits")
    page.get_by_text("The canvas is blank").wait_for()
    assert page.locator(CHART).count() == 0
    assert_clean(page, "blank canvas")

    draw(page, ring())
    page.get_by_text("The model says 0").wait_for(timeout=90_000)  # the bundled 8×8 model reads a ring as 0
    page.locator(CHART).nth(2).wait_for()  # model's-eye view, reading it, inside the network
    assert page.locator(CHART).count() == 3
    page.get_by_text("your drawing, as the model sees it").wait_for()
    assert page.locator(f"{CHART} .heatmaplayer").count() >= 3
    assert_clean(page, "after drawing")
    page.snap("digits-drawn")
    page.locator(".updatemenu-button", has_text="Play").first.click()
    wait_animated(page)  # the reading figure's slider moved past the first row
    assert_clean(page, "after Play")

    reset_canvas(page)
    box = canvas_box(page)
    page.mouse.click(box["x"] + 140, box["y"] + 140)  # one dab of the pen
    wait_idle(page, after_action=True)
    page.get_by_text("only a dot").wait_for()
    assert page.locator(CHART).count() == 0

    reset_canvas(page)
    zigzag = [(0.02 + 0.96 * (i % 2), 0.02 + 0.96 * i / 39) for i in range(40)]  # back and forth down the canvas
    draw(page, zigzag + [(0.02 + 0.96 * i / 39, 0.98 - 0.96 * (i % 2)) for i in range(40)])
    page.get_by_text("looks like a scribble").wait_for()
    assert page.locator(CHART).count() == 0
    assert_clean(page, "odd drawings")
    page.snap("digits-scribble")
