"""Runs page in chromium: a whole run downloads as one .zip, the same archive uploads back as a new run, and a
file that is not a run archive gets a one-line refusal (no traceback) while every saved run stays."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from browser_helpers import assert_clean, open_page, wait_idle

from rnn_core.runs import list_runs

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_run_exports_and_imports_back_through_the_runs_page(streamlit_server, browser_page, tmp_path):
    page = browser_page
    page.goto(streamlit_server)
    page.get_by_role("heading", name="Unrolled").first.wait_for()
    wait_idle(page)
    open_page(page, "Runs")
    with page.expect_download(timeout=60_000) as dl:  # the run under "Manage": the first one listed
        page.get_by_role("button", name="Whole run (.zip)").click(no_wait_after=True)
    name = dl.value.suggested_filename.removesuffix(".zip")
    archive = tmp_path / f"{name}.zip"
    dl.value.save_as(archive)
    with zipfile.ZipFile(archive) as zf:
        assert {n.split("/")[-1] for n in zf.namelist()} >= {"config.json", "weights.safetensors", "vocab.json",
                                                              "metrics.csv"}
    before = {r["path"] for r in list_runs()}

    page.get_by_text("Import a run (.zip)").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(archive))
    page.get_by_text(f"Imported '{name}.zip' as run '{name}").first.wait_for(timeout=60_000)
    wait_idle(page)
    assert_clean(page, "Runs after import")
    added = {r["path"] for r in list_runs()} - before
    assert len(added) == 1 and Path(next(iter(added))).name.startswith(name)

    # Not an archive: one clear line, nothing added, nothing lost.
    bad = tmp_path / "review.zip"
    bad.write_bytes(b"this film was wonderful")
    page.get_by_text("Import a run (.zip)").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
    alert = page.locator('[data-testid="stAlertContentError"]', has_text="not a .zip file")
    alert.wait_for(timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert {r["path"] for r in list_runs()} == before | added
    page.snap("runs-import-refused")
