"""One run folder: save it atomically (config.json, metrics.csv, weights.safetensors, vocab.json, and
optionally batches.csv and probe.safetensors + probe.json) and load it back without unpickling anything."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from safetensors.torch import save_file
from torch import Tensor

from ..config import ModelConfig, TrainConfig
from ..model import RecurrentModel, build_model
from ..summary import param_count
from ..tasks import Task, get_task
from ..train import History
from . import files  # pretrained_dir through the module: tests point it elsewhere
from .catalog import list_runs
from .checks import (
    check_match,
    load_weights,
    model_configs,
    read_probe,
    read_run_config,
    read_table,
    summary_fields,
)
from .files import (
    DAMAGED,
    STATUSES,
    FORMAT,
    RunError,
    RunNotFoundError,
    _root,
    check_run_folder,
    remove_run_folder,
    safe_name,
    safe_run_dir,
    write_csv,
    write_json,
)
from .keeping import temp_prefix
from .reading import read_json

WEIGHTS_FORMAT = "unrolled-1"  # safetensors metadata "format"


@dataclass
class Run:
    """A loaded run. ``model`` is in eval mode. ``warnings`` name the optional files (curves, probe) that were
    damaged and left out; the model and its task are whole whenever a Run is returned."""

    path: Path
    name: str  # as list_runs names it: "<sweep>/<run>" for a run inside a sweep folder, else the folder's name
    config: dict[str, Any]
    model: RecurrentModel
    task: Task
    train_cfg: TrainConfig
    model_cfg: ModelConfig
    metrics: pd.DataFrame
    batches: pd.DataFrame
    probe: Mapping[str, Tensor] = field(default_factory=dict)
    probe_meta: dict[str, Any] = field(default_factory=dict)
    status: str = "finished"
    pretrained: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def final_metrics(self) -> dict[str, Any]:
        return summary_fields(self.config)["final_metrics"]


# ------------------------------------------------------------------------------------------------ save
def _status(status: str, history: History | None) -> str:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if status == "finished" and history is not None:
        return history.status  # the history knows better: a run stopped or cut short by divergence says so
    return status


def _probe_parts(probe: Any) -> tuple[dict[str, Tensor], dict[str, Any] | None]:
    """``probe`` is ``{"tensors": {name: Tensor}, "meta": {...}}`` or a plain ``{name: Tensor}``."""
    if probe is None:
        return {}, None
    tensors, meta = (probe["tensors"], probe.get("meta")) if "tensors" in probe else (probe, None)
    bad = [k for k, v in tensors.items() if not isinstance(k, str) or not isinstance(v, Tensor)]
    if bad:
        raise ValueError(f"probe tensors must map names to tensors; these don't: {bad[:5]}")
    return {k: v.detach().cpu().contiguous() for k, v in tensors.items()}, meta


def save_run(
    model: RecurrentModel,
    task: Task,
    train_cfg: TrainConfig,
    history: History | None = None,
    name: str | None = None,
    root: str | Path | None = None,
    preset: str | None = None,
    status: str = "finished",
    probe: Mapping[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a run folder atomically and return its path.

    Everything is written into a hidden temporary folder in ``root`` and renamed into place, so a
    crash never leaves half a run. ``name`` defaults to ``<task>-<cell>-<YYYYmmdd-HHMMSS>`` (with
    ``-2``, ``-3``… when taken); an explicit name that exists is refused unless ``overwrite``.
    ``history`` is what ``fit`` returned; when ``status`` is left at "finished" its ``status`` (stopped,
    diverged) wins.
    ``probe`` is ``{"tensors": {"epoch3/layers.0.fwd.hook_h": Tensor, ...}, "meta": {...}}`` (or just the
    tensors) → probe.safetensors + probe.json. ``extra`` (JSON-able) is kept under config.json "extra".
    """
    base = _root(root)
    base.mkdir(parents=True, exist_ok=True)
    status = _status(status, history)
    tensors, probe_meta = _probe_parts(probe)
    wanted = safe_run_dir(name, base).name if name is not None else None  # also refuses symlinks leading out
    if wanted and (base / wanted).exists() and not overwrite:
        raise ValueError(f"a run named {wanted!r} already exists in {base}; choose another name or delete it first")
    stem = wanted or safe_name(f"{task.name}-{model.cfg.cell}-{time.strftime('%Y%m%d-%H%M%S')}")

    config: dict[str, Any] = {
        "format": FORMAT,
        "name": stem,
        "task": task.name,
        "model": model.cfg.to_dict(),
        "train": train_cfg.to_dict(),
        "preset": preset,
        "status": status,
        "message": history.message if history is not None else None,
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "params": param_count(model.cfg),
        "final_metrics": history.final_metrics() if history is not None else {},
    }
    if history is not None:
        config["epochs_done"] = len(history.epochs)
        config["seconds"], config["tokens_per_s"] = history.seconds, history.tokens_per_s
    if task.data_label():  # e.g. MNIST test files only: the run's numbers are on that data, not the official split
        config["data"] = task.data_label()
    if extra:
        config["extra"] = dict(extra)

    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix("saving"), dir=base))
    try:
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / "weights.safetensors"), metadata={"format": WEIGHTS_FORMAT})
        write_json(task.state(), tmp / "vocab.json", "the task state")
        write_csv(history.epochs if history is not None else [], tmp / "metrics.csv")
        if history is not None and history.batches:
            write_csv(history.batches, tmp / "batches.csv")
        if tensors:
            save_file(tensors, str(tmp / "probe.safetensors"), metadata={"format": WEIGHTS_FORMAT})
            write_json(probe_meta or {}, tmp / "probe.json", "the probe's meta")
        return _place(tmp, base, stem, config, unique=wanted is None, overwrite=overwrite)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _place(tmp: Path, base: Path, stem: str, config: dict, unique: bool, overwrite: bool) -> Path:
    """Rename the finished temporary folder to its run name (numbering auto names until one is free)."""
    for n in range(1, 10_000):
        name = stem if n == 1 else f"{stem}-{n}"
        target = base / name
        old = None
        if target.exists():
            if unique:
                continue
            if not overwrite:
                raise ValueError(f"a run named {name!r} already exists in {base}; choose another name")
            check_run_folder(target)
            old = Path(tempfile.mkdtemp(prefix=temp_prefix("replaced"), dir=base))
            os.rename(target, old / name)  # moved aside, not deleted, until the new run is in place
        config["name"] = name
        write_json(config, tmp / "config.json", "the run config")
        try:
            os.rename(tmp, target)
        except OSError:
            if old is not None:
                os.rename(old / name, target)
                old.rmdir()
            if unique and target.exists():  # another save took the name between our check and rename
                continue
            raise
        if old is not None:
            remove_run_folder(old / name)
            old.rmdir()
        return target
    raise ValueError(f"too many runs named {stem!r}; choose another name")


# ------------------------------------------------------------------------------------------------ load
def resolve_run(path_or_name: str | Path, root: str | Path | None = None) -> Path:
    """A run's folder: an existing directory path; else a run of that name in ``root`` (default
    ``runs_dir()``); else a bundled run in ``files.pretrained_dir()``. RunNotFoundError otherwise."""
    text = str(path_or_name)
    try:
        as_path = Path(path_or_name).expanduser()
        if as_path.is_dir():
            return as_path.resolve()
        if isinstance(path_or_name, Path) or "/" in text or os.sep in text:
            raise RunNotFoundError(f"no run folder at {text[:200]}; check the path")
        for base in (_root(root), files.pretrained_dir()):
            path = safe_run_dir(text, base)  # a plain name inside the folder; a link out of it is refused
            if path.is_dir():
                return path
    except OSError as e:  # a name too long for the file system, a NUL byte, ...
        raise RunNotFoundError(f"no run folder at {text[:80]!r} ({e.strerror or e})") from None
    known = ", ".join(r["name"] for r in list_runs(root)[:8]) or "none yet"
    raise RunNotFoundError(f"no run named {text!r}; pass a run folder or one of: {known}")


def load_run(
    path_or_name: str | Path,
    root: str | Path | None = None,
    device: str = "cpu",
    task_factory: Callable[..., Task] | None = None,
) -> Run:
    """Load a run (see ``resolve_run`` for how a name is found) with its model in eval mode on ``device``.

    Nothing is unpickled: weights come through safetensors, everything else is JSON or CSV. A damaged
    or hostile folder raises RunError (a ValueError) naming the file. ``task_factory(name, **options)``
    builds the task (default ``get_task``) before ``task.restore(vocab.json)``.
    """
    path = resolve_run(path_or_name, root)
    config = read_run_config(path)
    model_cfg, train_cfg = model_configs(path, config)  # sizes bounded before anything is allocated

    state = read_json(path / "vocab.json")
    try:
        options = state.get("options") or {}
        if not isinstance(options, dict):
            raise ValueError("options must be an object")
        task = (task_factory or get_task)(config["task"], **options)
        task.restore(state)
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        msg = f"can't rebuild task {config['task'][:40]!r} (config.json) from it ({str(e)[:200]})"
        raise RunError(f"{path / 'vocab.json'}: {msg}; {DAMAGED}") from None
    check_match(path, task, model_cfg)

    model = build_model(model_cfg)
    load_weights(model, path / "weights.safetensors")
    try:
        model.to(device).eval()
    except (RuntimeError, AssertionError, ValueError) as e:  # e.g. "cuda" on a machine without a GPU
        raise ValueError(f"can't put the model on device {device!r} ({e}); use 'cpu'") from None

    warnings: list[str] = []
    metrics = read_table(path / "metrics.csv", "epoch", warnings)
    batches = read_table(path / "batches.csv", "step", warnings)
    probe, probe_meta = read_probe(path, model_cfg, warnings)
    return Run(
        path=path,
        name=f"{path.parent.name}/{path.name}" if (path.parent / files.SWEEP_FILE).is_file() else path.name,
        config=config,
        model=model,
        task=task,
        train_cfg=train_cfg,
        model_cfg=model_cfg,
        metrics=metrics,
        batches=batches,
        probe=probe,
        probe_meta=probe_meta,
        status=summary_fields(config)["status"],
        pretrained=path.parent == files.pretrained_dir(),
        warnings=warnings,
    )
