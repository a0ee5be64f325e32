"""Helpers shared by the browser tests: wait for Streamlit to finish a script run, open a page from the
sidebar, pick an option, draw on a canvas, and check that a page shows no exception, no error alert and no
browser console error."""

from __future__ import annotations

import contextlib
import re

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


RUNNING = '() => document.querySelector(\'[data-testid="stApp"]\')?.dataset.testScriptState === "running"'
# A rerun an action triggers starts within this long even on a busy machine; none starting is not an error.
RERUN_START_MS = 3_000


def wait_idle(page, timeout: float = 120_000, after_action: bool = False) -> None:
    """Wait until the app's script run has finished. ``after_action``: first wait (a condition, up to
    RERUN_START_MS) for the rerun the last click or keystroke triggered to begin, so an idle page seen just
    before that rerun starts is not mistaken for its end. Limits are generous: tests must pass on a busy machine."""
    if after_action:
        with contextlib.suppress(Exception):
            page.wait_for_function(RUNNING, timeout=RERUN_START_MS, polling=50)
    page.wait_for_selector(IDLE, timeout=timeout)


def wait_animated(page, timeout: float = 60_000) -> None:
    """Wait until a plotly animation (Play) has moved its slider past the first frame."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".some(g => ((g._fullLayout || {}).sliders || []).some(s => s.active > 0))",
        timeout=timeout, polling=100)


def wait_drawn(page, timeout: float = 60_000) -> None:
    """Wait until every plotly chart on the page has drawn its main layer (a chart mounts before it draws)."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')].every(g => g.querySelector('.main-svg'))",
        timeout=timeout, polling=100)


def assert_clean(page, where: str) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert exceptions.count() == 0, f"{where}: exception {exceptions.first.inner_text()[:500]}"
    assert errors.count() == 0, f"{where}: error {errors.first.inner_text()[:500]}"
    assert page.console_errors == [], f"{where}: console errors {page.console_errors}"


def open_page(page, title: str, heading: str | None = None, after_action: bool = True) -> None:
    """Click the sidebar link ending in ``title`` (a link's text is its icon's name, then its title)."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=re.compile(f"{re.escape(title)}$")).click()
    if heading:
        page.get_by_role("heading", name=heading, level=1).wait_for()
    else:
        page.get_by_role("heading", level=1).first.wait_for()
    wait_idle(page, after_action=after_action)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` (its text's start) in the selectbox labelled ``label``, typing it first: the dropdown draws only
    the options in view, so with many runs saved the one wanted may not be in the page until the list is filtered."""
    wait_idle(page)
    page.locator('[data-testid="stSelectbox"]', has_text=label).first.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=re.compile(f"^{re.escape(option)}")).first.click()


def canvas_box(page) -> dict:
    canvas = page.locator("canvas.upper-canvas").first  # fabric.js takes the mouse here
    canvas.wait_for()
    return canvas.bounding_box()


def draw(page, points: list[tuple[float, float]]) -> None:
    """One stroke through ``points`` (fractions of the canvas): mouse down at the first, up at the last."""
    box = canvas_box(page)
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=2)
    page.mouse.up()
    wait_idle(page, after_action=True)


def reset_canvas(page) -> None:
    page.get_by_role("button", name="Reset canvas & history").click()
    wait_idle(page, after_action=True)
    page.get_by_text("The canvas is blank").wait_for()


def fresh_page(browser, viewport: dict, timeout: float = 60_000):
    """(context, page): a new browser context — a fresh session with an empty cache — whose page collects console
    errors and uncaught page errors in ``page.console_errors``. Close the context when done."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(timeout)
    page.console_errors = []
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.console_errors.append(f"pageerror: {exc}"))
    return context, page
