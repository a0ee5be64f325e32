"""The app starts and its landing page renders in a real browser without console errors."""

import pytest

pytestmark = pytest.mark.browser


def test_home_page_lists_tasks(streamlit_server, browser_page):
    page = browser_page
    page.goto(streamlit_server)
    page.get_by_role("heading", name="Unrolled").first.wait_for()
    page.get_by_text("Tasks", exact=True).wait_for()
    # The tasks table is drawn on a canvas; its hidden accessible table carries the cell text, so the
    # task names there say list_tasks() reached the page.
    grid = page.locator('[data-testid="stDataFrame"]')
    grid.locator('[role="gridcell"]').first.wait_for(state="attached")
    grid_text = grid.text_content()
    assert "letters" in grid_text
    assert "sequence classification" in grid_text
    assert not page.locator('[data-testid="stException"]').count()
    page.snap("home")
    assert page.console_errors == []
