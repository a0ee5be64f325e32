"""The Sentiment page in headless chromium: typing a review (no Ctrl+Enter, no click elsewhere) updates the
verdict a moment after the typing pauses, and the TF-IDF baseline's beside it; the words and the curve follow.
Screenshot in test-artifacts/."""

from __future__ import annotations

import re

import pytest
from browser_helpers import assert_clean, open_page, wait_idle

from rnn_core import get_task
from rnn_core.baseline import available_model_file

pytestmark = pytest.mark.browser

VERDICT = '[data-testid="stMetric"]'
GOOD = "a wonderful film, moving and beautifully acted. one of the best this year"
BAD = " ... or so I hoped. boring, awful, a waste of time, the worst"


def p_positive(page) -> float:
    metric = page.locator(VERDICT, has_text="P(positive)").first
    return float(re.search(r"\d\.\d{3}", metric.inner_text()).group())


def test_the_verdict_follows_typing_without_pressing_anything(streamlit_server, browser_page):
    # The TF-IDF verdict comes from this machine's fit, else the bundled one (pretrained/): no fit needed here.
    assert available_model_file() is not None
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 1600})
    page.goto(streamlit_server)
    wait_idle(page, after_action=True)
    open_page(page, "Sentiment", heading="Sentiment", after_action=True)
    box = page.get_by_label("Review", exact=True)
    box.fill("")
    words = get_task("imdb").tokenizer
    box.press_sequentially(GOOD, delay=15)
    # The page read every word typed, with no Ctrl+Enter and no click outside the box.
    page.get_by_text(f"{len(words(GOOD))} words read").wait_for(timeout=60_000)
    wait_idle(page, after_action=True)
    good = p_positive(page)
    assert good > 0.5, good
    # The TF-IDF baseline's verdict for the same text stands beside the network's, on the same row.
    baseline = page.locator(VERDICT, has_text="TF-IDF verdict")
    assert "Positive" in baseline.inner_text()
    ours, theirs = page.locator(VERDICT, has_text="P(positive)").first.bounding_box(), baseline.bounding_box()
    assert ours and theirs and theirs["x"] > ours["x"] and abs(theirs["y"] - ours["y"]) < 40, (ours, theirs)
    assert box.evaluate("el => el === document.activeElement")  # the person can keep typing
    box.press_sequentially(BAD, delay=15)
    page.get_by_text(f"{len(words(GOOD + BAD))} words read").wait_for(timeout=60_000)
    wait_idle(page, after_action=True)
    bad = p_positive(page)
    assert bad < 0.5 < good, (good, bad)
    assert "Negative" in page.locator(VERDICT, has_text="TF-IDF verdict").inner_text()  # it followed the typing
    assert_clean(page, "sentiment")
    page.snap("sentiment")
