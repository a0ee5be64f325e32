"""The Runs page's data: saved runs as a table, their per-epoch metrics (cached by file time), and the
bytes behind the download buttons. Reads only through rnn_core.runs (nothing is unpickled)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from rnn_core.runs import RunError, list_runs, read_bytes, read_table
from rnn_core.runs.reading import MAX_PROBE_BYTES
from rnn_core.tasks import task_class

from ..run_access import best_bundled, worth_seeing

# Accuracy and MSE are different measures (higher vs lower is better): each has its own column.
COLUMNS = ["name", "task", "cell", "status", "val_loss", "val_accuracy", "val_mse", "params", "created", "source",
           "problem"]
MISSING = "—"  # what a cell with no value shows (never "None" or "nan")


def _number(value: Any, fmt: str) -> str:
    return MISSING if value is None or value != value else format(value, fmt)


def table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """``list_runs()`` rows → the table the page shows (one row per run, in the same order), every value as the
    text it is shown as: missing values read "—"."""
    out = []
    for r in rows:
        final = r.get("final_metrics") or {}
        created = pd.to_datetime(str(r.get("created") or ""), errors="coerce", utc=True)
        out.append({
            "name": r["name"], "task": r.get("task") or MISSING, "cell": (r.get("cell") or MISSING).upper(),
            "status": r.get("status") or MISSING,
            "val_loss": _number(final.get("val_loss"), ".4g"),
            "val_accuracy": _number(final.get("val_accuracy"), ".2%"),
            "val_mse": _number(final.get("val_mse"), ".4g"),
            "params": _number(r.get("params"), ","),
            "created": MISSING if pd.isna(created) else created.strftime("%Y-%m-%d %H:%M"),
            "source": "bundled" if r.get("pretrained") else "yours",
            "problem": r.get("message") or MISSING,  # why a damaged run can't be used (None for the others)
        })
    return pd.DataFrame(out, columns=COLUMNS)


def runs() -> list[dict[str, Any]]:
    """Every run on disk, yours newest first, then the bundled ones."""
    return list_runs()


@st.cache_data(max_entries=320, show_spinner=False)
def _csv(file: str, mtime: float, key: str) -> pd.DataFrame:
    return read_table(Path(file), key, [])  # checked as loading checks it; damaged → empty


def _table(path: str | Path, name: str, key: str) -> pd.DataFrame:
    """A run's CSV file, cached by path and modification time (so a rewritten file is re-read); empty when the
    file is missing, not a regular file in the run folder, or damaged."""
    file = Path(path) / name
    try:
        return _csv(str(file), file.lstat().st_mtime, key)
    except (OSError, ValueError):
        return pd.DataFrame()


def metrics(path: str | Path) -> pd.DataFrame:
    """A run's per-epoch metrics (empty for a damaged run); re-read when the file changes."""
    return _table(path, "metrics.csv", "epoch")


def batches(path: str | Path) -> pd.DataFrame:
    """A run's per-batch curve (empty when the run has none)."""
    return _table(path, "batches.csv", "step")


def download_bytes(path: str | Path, fname: str) -> bytes | None:
    """A run file's bytes for a download button (None when it is missing, or is not a regular file inside the
    run folder: a link to a system file is never offered)."""
    try:
        return read_bytes(Path(path) / fname, MAX_PROBE_BYTES)
    except RunError:
        return None


def opening_run(rows: list[dict[str, Any]], current: str | None) -> str:
    """The run the page opens on: the session's current run, else your newest run worth seeing, else the best
    bundled one — never a run stopped before its first validation when another exists."""
    by_name = {r["name"]: r for r in rows}
    if current in by_name and worth_seeing(by_name[current]):
        return str(current)
    own = next((r for r in rows if not r.get("pretrained") and worth_seeing(r)), None)
    best = own or best_bundled(rows)
    return (best or rows[0])["name"]


def warmup(task: str | None) -> int:
    """The task's warm-up steps (left out of a regression metric, counted in its loss); 0 for an unknown task."""
    try:
        return task_class(task or "").warmup
    except (ValueError, ImportError):
        return 0
