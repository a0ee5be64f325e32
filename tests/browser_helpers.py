"""Helpers shared by the browser tests: wait for Streamlit to finish a script run, open a page from the
sidebar, and check that a page shows no exception, no error alert and no browser console error."""

from __future__ import annotations

import re

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def wait_idle(page, timeout: float = 60_000, settle_ms: int = 0) -> None:
    """Wait until the app's script run has finished; ``settle_ms`` first lets a rerun the last action
    triggered begin (a polling fragment keeps runs brief while training)."""
    if settle_ms:
        page.wait_for_timeout(settle_ms)
    page.wait_for_selector(IDLE, timeout=timeout)


def assert_clean(page, where: str) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert exceptions.count() == 0, f"{where}: exception {exceptions.first.inner_text()[:500]}"
    assert errors.count() == 0, f"{where}: error {errors.first.inner_text()[:500]}"
    assert page.console_errors == [], f"{where}: console errors {page.console_errors}"


def open_page(page, title: str, heading: str | None = None, settle_ms: int = 0) -> None:
    """Click the sidebar link ending in ``title`` (a link's text is its icon's name, then its title)."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=re.compile(f"{re.escape(title)}$")).click()
    if heading:
        page.get_by_role("heading", name=heading, level=1).wait_for()
    else:
        page.get_by_role("heading", level=1).first.wait_for()
    wait_idle(page, settle_ms=settle_ms)
