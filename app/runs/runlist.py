"""The Runs page's data: saved runs as a table, their per-epoch metrics (cached by file time), and the
bytes behind the download buttons. Reads only through rnn_core.runs (nothing is unpickled)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from rnn_core.runs import list_runs, read_csv
from rnn_core.tasks import metric_of

COLUMNS = ["name", "task", "cell", "status", "val_loss", "val_metric", "params", "created", "source"]


def _metric(task: str | None, final: dict[str, Any]) -> float | None:
    """The run's final validation score in its task's metric."""
    return final.get(f"val_{metric_of(task)}")


def table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """``list_runs()`` rows → the table the page shows (one row per run, in the same order)."""
    out = []
    for r in rows:
        final = r.get("final_metrics") or {}
        out.append({
            "name": r["name"], "task": r.get("task"), "cell": r.get("cell"),
            "status": r.get("status"),
            "val_loss": final.get("val_loss"), "val_metric": _metric(r.get("task"), final),
            "params": r.get("params"), "created": pd.to_datetime(str(r.get("created") or ""), errors="coerce", utc=True),
            "source": "bundled" if r.get("pretrained") else "yours",
        })
    return pd.DataFrame(out, columns=COLUMNS)


def runs() -> list[dict[str, Any]]:
    """Every run on disk, yours newest first, then the bundled ones."""
    return list_runs()


@st.cache_data(max_entries=320, show_spinner=False)
def _csv(file: str, mtime: float) -> pd.DataFrame:
    return read_csv(Path(file))


def _table(path: str | Path, name: str) -> pd.DataFrame:
    """A run's CSV file, cached by path and modification time (so a rewritten file is re-read); empty when the
    file is missing or unreadable."""
    file = Path(path) / name
    try:
        return _csv(str(file), file.stat().st_mtime)
    except (OSError, ValueError):
        return pd.DataFrame()


def metrics(path: str | Path) -> pd.DataFrame:
    """A run's per-epoch metrics (empty for a damaged run); re-read when the file changes."""
    return _table(path, "metrics.csv")


def batches(path: str | Path) -> pd.DataFrame:
    """A run's per-batch curve (empty when the run has none)."""
    return _table(path, "batches.csv")


def download_bytes(path: str | Path, fname: str) -> bytes | None:
    """A run file's bytes for a download button (None when it is missing)."""
    file = Path(path) / fname
    return file.read_bytes() if file.is_file() else None
