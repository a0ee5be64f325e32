"""The Tagging page in headless chromium: typing a sentence (no Ctrl+Enter, no click elsewhere) tags its words a
moment after the typing pauses, and the tags follow further typing. Screenshot in test-artifacts/."""

from __future__ import annotations

import re

import pytest
from browser_helpers import assert_clean, wait_idle

pytestmark = pytest.mark.browser


def test_tags_follow_typing_without_pressing_anything(streamlit_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 1600})
    page.goto(streamlit_server)
    wait_idle(page, after_action=True)
    page.locator('[data-testid="stSidebarNav"] a', has_text=re.compile("Tagging$")).click()
    page.get_by_role("heading", name="Tagging", level=1).wait_for()
    # The first visit scores the 2,077 test sentences (then cached): on a shared CPU that can take minutes.
    wait_idle(page, timeout=300_000, after_action=True)
    box = page.get_by_label("Sentence", exact=True)
    box.fill("")
    box.press_sequentially("They will book", delay=20)
    page.get_by_text("3 words ·").first.wait_for(timeout=90_000)
    wait_idle(page, after_action=True)
    assert page.locator('span[title^="book: VERB"]').count() >= 1
    assert box.evaluate("el => el === document.activeElement")  # the person can keep typing
    box.press_sequentially(" a quiet table.", delay=20)
    page.get_by_text("7 words ·").first.wait_for(timeout=90_000)
    wait_idle(page, after_action=True)
    assert page.locator('span[title^="table: NOUN"]').count() >= 1
    assert_clean(page, "tagging")
    page.snap("tagging")
