"""Runs page in chromium: a whole run downloads as one .zip, the same archive uploads back as a new run, and a
file that is not a run archive gets a one-line refusal (no traceback) while every saved run stays."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from browser_helpers import assert_clean, open_page, wait_idle
from conftest import ARTIFACTS

from rnn_core.runs import list_runs

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _server_log_tail() -> str:
    log = ARTIFACTS / "streamlit-server.log"
    return log.read_text(errors="replace")[-1500:] if log.exists() else "(no server log)"


def _download(page, button: str, record_figure, tries: int = 2, wait_s: float = 30):
    """Click ``button`` until the browser downloads its file, at most ``tries`` times. A click that gives no download
    within ``wait_s`` is reported with what the page showed (a failed download shows its error under the button for
    a few seconds only, so it is watched for), in the failure message and in the measured figures: a flaky download
    shows up instead of hiding."""
    downloads: list = []
    page.on("download", lambda d: downloads.append(d))
    missed: list[str] = []
    for _ in range(tries):
        errors: list[str] = []
        page.get_by_role("button", name=button).click(no_wait_after=True)
        deadline = time.monotonic() + wait_s
        while not downloads and time.monotonic() < deadline:
            shown = page.locator('[data-testid="stDownloadButtonError"]').all_inner_texts()
            errors += [e for e in shown if e not in errors]
            page.wait_for_timeout(100)  # lets Playwright deliver the download event
        if downloads:
            record_figure(f"runs page: clicks on '{button}' that gave no download", len(missed))
            return downloads[0]
        page.snap(f"no-download-{len(missed) + 1}")
        missed.append(f"errors under the button {errors}; page {page.url}; console errors {page.console_errors}")
        wait_idle(page)
    raise AssertionError(f"{tries} clicks on {button!r}, no download within {wait_s:.0f} s of any: "
                         + " | ".join(missed) + f"; server log: {_server_log_tail()}")


def test_a_run_exports_and_imports_back_through_the_runs_page(streamlit_server, browser_page, tmp_path,
                                                               record_figure):
    page = browser_page
    page.goto(streamlit_server)
    page.get_by_role("heading", name="Unrolled").first.wait_for()
    wait_idle(page)
    open_page(page, "Runs", heading="Runs")
    download = _download(page, "Whole run (.zip)", record_figure)  # the run under "Manage": the first one listed
    name = download.suggested_filename.removesuffix(".zip")
    archive = tmp_path / f"{name}.zip"
    download.save_as(archive)
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
