"""The file layer under the run folder: where runs live, safe run names, the errors a damaged folder raises, and
atomic writing of JSON and CSV (reading is in ``reading.py``, what the contents must say in ``checks.py``)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..atomic import TEMP_PREFIX, write_text_atomic

RUN_FILES = (
    "config.json",
    "metrics.csv",
    "weights.safetensors",
    "vocab.json",
    "batches.csv",
    "probe.safetensors",
    "probe.json",
)
MAX_NAME_LEN = 80
DAMAGED = "this run folder is damaged; delete it or re-train"
# How a run ended; "interrupted": saved at an epoch's end by a training that never reached its own end (killed)
STATUSES = ("finished", "stopped", "diverged", "interrupted")
SWEEP_FILE = "sweep.json"  # a folder holding this is a sweep: its run folders are listed as "<sweep>/<run>"
FORMAT = 1  # config.json "format": bump when the folder layout changes incompatibly
REQUIRED = ("config.json", "weights.safetensors", "vocab.json")

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class RunError(ValueError):
    """A run folder that can't be used: missing, corrupt, hostile or from a newer version."""


class RunNotFoundError(ValueError):
    """No run folder under that path or name."""


def safe_name(name: str) -> str:
    """A run name as a folder name: whitespace becomes ``-``; then only ASCII letters, digits, ``-``,
    ``_`` and ``.`` are allowed, starting with a letter, digit or ``_``, with no ``..``, at most 80
    characters. Anything else raises ValueError saying so."""
    if not isinstance(name, str):
        raise ValueError(f"a run name must be text, not {type(name).__name__}")
    if any(not ch.isprintable() and ch != " " for ch in name):
        raise ValueError("a run name can't hold control characters (newlines, tabs, escapes); use letters and digits")
    clean = re.sub(r"\s+", "-", name.strip())
    if not clean:
        raise ValueError("a run name can't be empty")
    if len(clean) > MAX_NAME_LEN:
        raise ValueError(f"a run name can have at most {MAX_NAME_LEN} characters, not {len(clean)}")
    if ".." in clean or not _NAME.fullmatch(clean):
        raise ValueError(
            f"run name {name!r} isn't allowed: use letters a-z, digits, '-', '_' and '.' "
            "(spaces become '-'), start with a letter, digit or '_', and no '..' or '/'"
        )
    return clean


def runs_dir() -> Path:
    """Where runs are saved: env ``UNROLLED_RUNS_DIR``, else ``./runs`` (created on demand)."""
    path = Path(os.environ.get("UNROLLED_RUNS_DIR") or "runs").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def pretrained_dir() -> Path:
    """The bundled runs shipped with the code: ``<repo>/pretrained``."""
    return Path(__file__).resolve().parents[2] / "pretrained"


def _root(root: str | Path | None) -> Path:
    return runs_dir() if root is None else Path(root).expanduser().resolve()


def safe_run_dir(name: str, root: str | Path | None = None) -> Path:
    """The folder of run ``name`` inside ``root`` (default ``runs_dir()``), after ``safe_name`` checks.

    Raises ValueError for a name that is not a plain slug or would resolve outside ``root``
    (``../x``, ``/etc``, ``a/b``, a symlink pointing elsewhere).
    """
    base = _root(root)
    path = (base / safe_name(name)).resolve()
    if path.parent != base:
        raise ValueError(f"run name {name!r} points outside the runs folder {base}; choose a plain name")
    return path


def _plain(obj: Any) -> Any:
    """JSON-ready copy: tuples → lists, tensor / numpy scalars → numbers, NaN / ±inf → null."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(obj: Any, path: Path, what: str) -> None:
    """Strict JSON (no NaN), written to a temporary file and renamed into place."""
    try:
        text = json.dumps(_plain(obj), indent=2, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} can't be saved as JSON: {e}") from None
    write_text_atomic(path, text + "\n")


def write_csv(rows: Iterable[dict[str, Any]], path: Path) -> None:
    """Rows of dicts as CSV; columns in order of first appearance, missing values empty."""
    rows = [_plain(dict(r)) for r in rows]
    columns: dict[str, None] = {}
    for r in rows:
        columns.update(dict.fromkeys(r))
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(columns), restval="")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    write_text_atomic(path, buf.getvalue())


def check_run_folder(path: Path) -> None:
    foreign = [p.name for p in path.iterdir() if p.name not in RUN_FILES and not p.name.startswith(TEMP_PREFIX)]
    if foreign:
        raise ValueError(f"{path} holds files a run never has ({', '.join(sorted(foreign)[:5])}); delete it by hand")


def remove_run_folder(path: Path) -> None:
    check_run_folder(path)
    for p in path.iterdir():
        p.unlink()
    path.rmdir()
