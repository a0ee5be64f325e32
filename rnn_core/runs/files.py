"""The careful file layer under the run folder: where runs live and safe run names, size-capped reading of
JSON / CSV / safetensors that turns any damage into a RunError naming the file, and atomic writing."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from safetensors import SafetensorError, safe_open
from torch import Tensor, nn

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
MAX_WEIGHTS_BYTES = 512 * 2**20  # a bigger safetensors file is refused before reading
MAX_JSON_BYTES = 10 * 2**20
MAX_CSV_BYTES = 64 * 2**20
MAX_NAME_LEN = 80
DAMAGED = "this run folder is damaged; delete it or re-train"
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


def check_size(path: Path, limit: int) -> int:
    """The file's size, or RunError when it is missing or bigger than ``limit`` bytes."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise RunError(f"{path}: can't be read ({e.strerror}); {DAMAGED}") from None
    if size > limit:
        raise RunError(f"{path}: {size / 2**20:.0f} MB is more than the {limit // 2**20} MB allowed; {DAMAGED}")
    return size


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path`` (at most 10 MB); RunError for anything else."""
    check_size(path, MAX_JSON_BYTES)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError, OSError) as e:
        raise RunError(f"{path}: not valid JSON ({str(e)[:120]}); {DAMAGED}") from None
    if not isinstance(data, dict):
        raise RunError(f"{path}: expected a JSON object, found {type(data).__name__}; {DAMAGED}")
    return data


def read_csv(path: Path) -> pd.DataFrame:
    """A metrics table; an absent or empty file is an empty DataFrame."""
    if not path.is_file():
        return pd.DataFrame()
    if check_size(path, MAX_CSV_BYTES) == 0:
        return pd.DataFrame()
    try:
        return pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:  # EmptyDataError is a ValueError
        raise RunError(f"{path}: not a readable table ({str(e)[:120]}); {DAMAGED}") from None


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


class ProbeTensors(Mapping[str, Tensor]):
    """probe.safetensors read lazily: the header on first use, each tensor when it is asked for."""

    def __init__(self, path: Path):
        self.path = path
        self._keys: list[str] | None = None

    def _open(self):
        check_size(self.path, MAX_WEIGHTS_BYTES)
        try:
            return safe_open(str(self.path), framework="pt")
        except (SafetensorError, OSError) as e:
            raise RunError(f"{self.path}: not a readable safetensors file ({e}); {DAMAGED}") from None

    def keys(self):
        if self._keys is None:
            with self._open() as f:
                self._keys = list(f.keys())
        return self._keys

    def __getitem__(self, key: str) -> Tensor:
        if key not in self.keys():
            raise KeyError(key)
        try:
            with self._open() as f:
                return f.get_tensor(key)
        except SafetensorError as e:
            raise RunError(f"{self.path}: tensor {key!r} is unreadable ({e}); {DAMAGED}") from None

    def __iter__(self):
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())


def load_weights(model: nn.Module, file: Path) -> None:
    """Copy the tensors of ``file`` into ``model`` after checking names and shapes against its config."""
    check_size(file, MAX_WEIGHTS_BYTES)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    try:
        with safe_open(str(file), framework="pt") as f:
            found = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
            if found != expected:
                raise RunError(_mismatch(file, expected, found))
            tensors = {k: f.get_tensor(k) for k in found}
        model.load_state_dict(tensors, strict=True)
    except (SafetensorError, OSError, RuntimeError) as e:
        raise RunError(f"{file}: not readable as this run's weights ({e}); {DAMAGED}") from None


def _mismatch(file: Path, expected: dict, found: dict) -> str:
    missing, unexpected = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    wrong = [f"{k} {found[k]} (config needs {expected[k]})" for k in expected if k in found and found[k] != expected[k]]
    parts = [f"missing {missing[:4]}" if missing else "", f"unexpected {unexpected[:4]}" if unexpected else ""]
    parts.append(f"wrong shapes: {'; '.join(wrong[:4])}" if wrong else "")
    return f"{file}: tensors don't match config.json ({', '.join(p for p in parts if p)}); {DAMAGED}"


def read_run_config(path: Path) -> dict[str, Any]:
    """config.json of a run folder, checked for the keys and format this version reads."""
    config = read_json(path / "config.json")
    for fname in REQUIRED:
        if not (path / fname).is_file():
            raise RunError(f"{path}: {fname} is missing; {DAMAGED}")
    missing = [k for k in ("task", "model", "train") if k not in config]
    if missing:
        raise RunError(f"{path / 'config.json'}: missing {', '.join(missing)}; {DAMAGED}")
    if not isinstance(config.get("format", FORMAT), int) or config.get("format", FORMAT) > FORMAT:
        raise RunError(f"{path / 'config.json'}: written by a newer Unrolled (format {config.get('format')!r}); update")
    return config


def check_run_folder(path: Path) -> None:
    foreign = [p.name for p in path.iterdir() if p.name not in RUN_FILES and not p.name.startswith(TEMP_PREFIX)]
    if foreign:
        raise ValueError(f"{path} holds files a run never has ({', '.join(sorted(foreign)[:5])}); delete it by hand")


def remove_run_folder(path: Path) -> None:
    check_run_folder(path)
    for p in path.iterdir():
        p.unlink()
    path.rmdir()
