"""The runs folder as a collection: list every run (yours newest first, then the bundled ones), rename
and delete one. Never raises for a damaged folder while listing; never touches a bundled run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import files  # pretrained_dir through the module: tests point it elsewhere
from .checks import read_run_config, summary_fields
from .files import (
    RUN_FILES,
    SWEEP_FILE,
    RunError,
    RunNotFoundError,
    _root,
    remove_run_folder,
    safe_run_dir,
    write_json,
)
from .reading import MAX_PROBE_BYTES, read_bytes, read_json


def list_runs(root: str | Path | None = None, include_pretrained: bool = True) -> list[dict[str, Any]]:
    """Every run folder: your runs newest first, then bundled ones. Damaged folders are listed with
    status "damaged" and a ``message``, never raised. Keys: name, path, task, cell, status, created,
    final_metrics, preset, params, pretrained, sweep (the sweep folder a run belongs to, else None; its name is
    then ``<sweep>/<run>``) (and message)."""
    out: list[dict[str, Any]] = []
    bases = [(_root(root), False)] + ([(files.pretrained_dir(), True)] if include_pretrained else [])
    for base, pretrained in bases:
        if not base.is_dir():
            continue
        found: list[dict[str, Any]] = []
        for d, name, sweep in _run_folders(base):
            row = {"name": name, "path": str(d), "pretrained": pretrained, "sweep": sweep}
            try:
                if d.is_symlink():
                    raise RunError(f"{d}: is a symbolic link; a run must be a folder inside the runs folder")
                row.update(summary_fields(read_run_config(d)))
            except RunError as e:
                row.update(task=None, cell=None, status="damaged", created=None, final_metrics={}, message=str(e))
            found.append(row)
        if pretrained:
            found.sort(key=lambda r: r["name"])
        else:
            found.sort(key=lambda r: (str(r.get("created") or ""), r["name"]), reverse=True)
        out += found
    return out


def _run_folders(base: Path) -> list[tuple[Path, str, str | None]]:
    """(folder, name, sweep) of every run folder in ``base``; a sweep's runs (folders inside a folder holding
    sweep.json) are named ``<sweep>/<run>``. Hidden folders are saves in progress and are skipped."""
    out: list[tuple[Path, str, str | None]] = []
    for d in base.iterdir():
        if d.name.startswith(".") or not d.is_dir():
            continue
        if (d / SWEEP_FILE).is_file():
            out += [(r, f"{d.name}/{r.name}", d.name) for r in d.iterdir()
                    if r.is_dir() and not r.name.startswith(".")]
        else:
            out.append((d, d.name, None))
    return out


def _own_root(root: str | Path | None) -> Path:
    base = _root(root)
    if base == files.pretrained_dir().resolve():
        raise ValueError("bundled runs can't be renamed or deleted; copy one into your runs folder instead")
    return base


def rename_run(old: str, new: str, root: str | Path | None = None) -> Path:
    """Rename a run in ``root``; refuses a bad or taken new name. Updates config.json's name."""
    base = _own_root(root)
    src, dst = safe_run_dir(old, base), safe_run_dir(new, base)
    if not src.is_dir():
        raise RunNotFoundError(f"no run named {old!r} in {base}")
    if dst.exists():
        raise ValueError(f"a run named {dst.name!r} already exists; choose another name")
    os.rename(src, dst)
    try:
        config = read_json(dst / "config.json")
    except RunError:
        return dst  # a damaged run keeps its damage; the folder name is what counts
    config["name"] = dst.name
    write_json(config, dst / "config.json", "the run config")
    return dst


def delete_run(name: str, root: str | Path | None = None) -> None:
    """Delete a run folder inside ``root`` (never a bundled run). A folder holding files a run never
    has is left alone, so a misconfigured runs folder can't cost anyone their files."""
    path = safe_run_dir(name, _own_root(root))
    if not path.is_dir():
        raise RunNotFoundError(f"no run named {name!r} in {path.parent}")
    remove_run_folder(path)
