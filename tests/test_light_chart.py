"""The light chart (app.light_chart) that draws Inside's figures: its plotly.js bundle is the release the plotly
Python package writes figures for, it holds every trace type Inside draws, and the server hands it to the browser
from static/ as JavaScript, byte for byte. The page drawing it is tested in the browser by test_inside_page.py and
test_browser_inside_layout.py."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import plotly
import pytest

from app.light_chart import BUNDLE, STATIC, plotly_js_version
from tests.test_server_gc import _python
from tests.test_unrolled import fig_unrolled, replay

FULL_BUNDLE = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def trace_types(bundle: Path) -> set[str]:
    """The trace modules a plotly.js bundle registers (each is declared as ``moduleType:"trace",name:"…"``)."""
    return set(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle.read_text(encoding="utf-8")))


def test_the_bundle_is_the_plotly_js_release_the_python_package_writes_for():
    assert plotly_js_version(STATIC / BUNDLE) == plotly_js_version(FULL_BUNDLE)


@pytest.mark.parametrize("cell,bidirectional", [("rnn", False), ("lstm", True), ("gru", False)])
def test_the_bundle_draws_every_trace_type_of_an_inside_figure(cell, bidirectional):
    light, full = trace_types(STATIC / BUNDLE), trace_types(FULL_BUNDLE)
    assert {"heatmap", "scatter"} <= light < full  # the parse found the bundle's modules, and it is the light one
    views, steps, inputs, pred = replay(cell=cell, bidirectional=bidirectional)
    fig = fig_unrolled(views, steps, cell, inputs=inputs, prediction=pred)
    used = {t.type for t in fig.data} | {t.type for f in fig.frames for t in f.data}
    assert used <= light, used - light


def test_the_repository_config_serves_static_files():
    code = ("from streamlit import config; config.get_config_options(force_reparse=True); "
            "print(config.get_option('server.enableStaticServing'))")
    assert _python(code) == "True"


@pytest.mark.slow
def test_the_server_hands_the_bundle_to_the_browser_as_javascript(streamlit_server):
    with urllib.request.urlopen(f"{streamlit_server}/app/static/{BUNDLE}", timeout=60) as r:
        assert r.status == 200 and "javascript" in r.headers["Content-Type"]
        assert r.read() == (STATIC / BUNDLE).read_bytes()


@pytest.mark.browser
def test_a_chart_library_that_cannot_load_is_said_on_the_page_and_a_reload_draws(streamlit_server, browser):
    """A failed download of the bundle leaves a message where the figure goes, not an empty space, and a reload
    with the library reachable draws the heatmaps."""
    from browser_helpers import fresh_page, wait_idle

    context, page = fresh_page(browser, {"width": 1400, "height": 1000}, timeout=120_000)
    try:
        page.route(f"**/app/static/{BUNDLE}", lambda route: route.abort())
        page.goto(streamlit_server)
        page.get_by_role("heading", name="Unrolled").first.wait_for()
        page.goto(f"{streamlit_server}/inside?run=letters-4in")
        page.get_by_text("The chart library could not be loaded. Reload the page").wait_for()
        wait_idle(page)
        assert page.locator(".unrolled-chart .hm image").count() == 0
        page.unroute(f"**/app/static/{BUNDLE}")
        page.reload()
        page.wait_for_selector(".unrolled-chart .hm image", timeout=120_000)
        assert page.get_by_text("The chart library could not be loaded").count() == 0
    finally:
        context.close()


@pytest.mark.browser
def test_the_figure_says_the_library_is_loading_until_it_draws(streamlit_server, browser):
    """While a fresh tab still fetches the chart library, the figure's place says so (not an empty space); the
    message is gone once the heatmaps are drawn."""
    from browser_helpers import fresh_page

    context, page = fresh_page(browser, {"width": 1400, "height": 1000}, timeout=120_000)
    held = []
    try:
        page.route(f"**/app/static/{BUNDLE}", lambda route: held.append(route))  # held until the test lets it go
        page.goto(f"{streamlit_server}/inside?run=letters-4in")
        page.locator(".unrolled-chart").get_by_text("Loading the chart library…").wait_for()
        assert page.locator(".unrolled-chart .main-svg").count() == 0
        assert len(held) == 1, "the page asked for the library once"
        held[0].continue_()
        page.wait_for_selector(".unrolled-chart .hm image", timeout=120_000)
        assert page.locator(".unrolled-chart-wait").count() == 0
    finally:
        context.close()
