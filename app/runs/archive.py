"""Runs page: a whole run as one .zip to download, and a .zip to import as a run (rnn_core.runs.archive)."""

from __future__ import annotations

import functools
from typing import Any

import streamlit as st

from app import session
from app.quote import quote
from rnn_core.runs import export_run, import_run
from rnn_core.runs.archive import MAX_ARCHIVE_BYTES


def download_button(row: dict[str, Any]) -> None:
    """The run's archive, made when the button is pressed (not on every rerun); none for a damaged run."""
    st.download_button(
        "Whole run (.zip)", functools.partial(export_run, row["path"]), file_name=f"{row['name']}.zip",
        mime="application/zip", on_click="ignore", icon=":material/folder_zip:", key=f"zip_{row['name']}",
        disabled=row.get("status") == "damaged",
        help="Config, curves, weights, vocabulary and probe in one archive: import it here on another machine.")


def _import(key: str) -> None:
    upload = st.session_state.get(key)
    if upload is None:
        return
    data = upload.getvalue()
    try:
        path = import_run(data)
    except ValueError as e:  # RunError included: the archive's problem, in one line
        st.session_state[session.RUNS_MESSAGE] = ("error", f"Could not import '{quote(upload.name)}': {quote(e, 300)}")
    else:
        session.set_current_run(path.name)
        st.session_state[session.RUNS_MESSAGE] = ("success", f"Imported '{quote(upload.name)}' as run {path.name!r}.")
    st.session_state[session.RUNS_TABLE] = st.session_state.get(session.RUNS_TABLE, 0) + 1  # clears the uploader


def import_box() -> None:
    """Upload a run archive; it is checked like any run folder before it joins the list."""
    key = f"import_{st.session_state.get(session.RUNS_TABLE, 0)}"
    with st.expander("Import a run (.zip)", icon=":material/upload:"):
        st.file_uploader(
            f"A run archive exported from the Runs page (at most {MAX_ARCHIVE_BYTES // 2**20} MB). It is checked "
            "like any run folder — only a run's own files, safetensors weights, sizes — before it is added; an "
            "import never replaces a run.", type=["zip"], key=key, on_change=_import, args=(key,))
