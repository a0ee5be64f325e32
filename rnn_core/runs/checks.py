"""What a run folder's contents must say before anything is built from them: config.json's fields of the right
kinds, the model's size bounded from the config alone and matching its task, the weights named and shaped as the
config says, and the optional curves and probe sound. A damaged optional file is dropped with a warning naming
it, so the model itself stays usable; a damaged required one raises RunError naming it."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
from torch import Tensor, nn

from ..config import ModelConfig, TrainConfig
from ..probe import PROBE_Y, probe_cache, probe_epochs, probe_input
from ..summary import check_params
from ..tasks import Task
from .files import DAMAGED, FORMAT, REQUIRED, STATUSES, RunError
from .reading import MAX_PROBE_BYTES, MAX_WEIGHTS_BYTES, read_csv, read_json, read_tensors

_UNIT = re.compile(r"^(?:chars\.)?layers\.(\d+)\.(fwd|bwd)\.hook_[a-z]+$")


def read_run_config(path: Path) -> dict[str, Any]:
    """config.json of a run folder, checked for the keys, kinds and format this version reads."""
    cfg_file = path / "config.json"
    config = read_json(cfg_file)
    for fname in REQUIRED:
        if not os.path.lexists(path / fname):
            raise RunError(f"{path}: {fname} is missing; {DAMAGED}")
    missing = [k for k in ("task", "model", "train") if k not in config]
    if missing:
        raise RunError(f"{cfg_file}: missing {', '.join(missing)}; {DAMAGED}")
    fmt = config.get("format", FORMAT)
    if isinstance(fmt, bool) or not isinstance(fmt, int) or fmt > FORMAT:
        raise RunError(f"{cfg_file}: written by a newer Unrolled (format {str(fmt)[:20]!r}); update")
    if not isinstance(config["task"], str) or not config["task"]:
        raise RunError(f"{cfg_file}: task must be a task's name, not {str(config['task'])[:40]!r}; {DAMAGED}")
    for key in ("model", "train"):
        if not isinstance(config[key], dict):
            raise RunError(f"{cfg_file}: {key} must be an object of settings; {DAMAGED}")
    return config


def summary_fields(config: dict[str, Any]) -> dict[str, Any]:
    """The fields a runs list shows, each of the kind a page expects (anything else becomes None / {}), so one
    odd config.json can't break the list: task, cell, status, created, final_metrics, preset, params, data."""
    def text(value: Any) -> str | None:
        return value[:200] if isinstance(value, str) else None

    metrics = config.get("final_metrics")
    final = {k: v for k, v in metrics.items() if isinstance(k, str) and _finite(v)} if isinstance(metrics, dict) else {}
    status = config.get("status", "finished")
    params = config.get("params")
    return {
        "task": text(config.get("task")),
        "cell": text(config["model"].get("cell")) if isinstance(config.get("model"), dict) else None,
        "status": status if status in STATUSES else "unknown",
        "created": text(config.get("created")),
        "final_metrics": final,
        "preset": text(config.get("preset")),
        "params": params if isinstance(params, int) and not isinstance(params, bool) else None,
        "data": text(config.get("data")) or "",
    }


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def model_configs(path: Path, config: dict[str, Any]) -> tuple[ModelConfig, TrainConfig]:
    """The run's validated configs, refused from config.json alone (before anything is allocated) when a size
    is out of bounds or the model would be bigger than MAX_PARAMS."""
    try:
        model_cfg = ModelConfig.from_dict(config["model"]).validate()
        train_cfg = TrainConfig.from_dict(config["train"]).validate()
        check_params(model_cfg)
    except (TypeError, ValueError, AttributeError) as e:
        raise RunError(f"{path / 'config.json'}: invalid model or train settings ({str(e)[:300]}); {DAMAGED}") from None
    return model_cfg, train_cfg


def check_match(path: Path, task: Task, cfg: ModelConfig) -> None:
    """RunError naming both when the model's input or output size is not the one its task reads and writes."""
    need = task.base_model_config()
    if need.token_input:
        have, want = f"{cfg.vocab_size} token ids", f"{need.vocab_size} token ids"
    else:
        have, want = f"{cfg.input_size} features", f"{need.input_size} features"
    have += f" → {cfg.output_size} outputs"
    want += f" → {need.output_size} outputs"
    if have != want:
        options = ", ".join(f"{k}={v}" for k, v in task.options.items() if k != "download")
        raise RunError(f"{path / 'config.json'}: the model reads {have}, but task {task.name!r}"
                       f"{f' ({options})' if options else ''} (vocab.json) needs {want}; {DAMAGED}")


def load_weights(model: nn.Module, file: Path) -> None:
    """Copy the tensors of ``file`` into ``model`` after checking names, shapes, dtype (float32) and values
    (finite) against its config."""
    tensors = read_tensors(file, MAX_WEIGHTS_BYTES)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in tensors.items()}
    if found != expected:
        raise RunError(_mismatch(file, expected, found))
    model.load_state_dict(tensors, strict=True)


def _mismatch(file: Path, expected: dict, found: dict) -> str:
    missing, unexpected = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    wrong = [f"{k} {found[k]} (config needs {expected[k]})" for k in expected if k in found and found[k] != expected[k]]
    parts = [f"missing {missing[:4]}" if missing else "", f"unexpected {[u[:40] for u in unexpected[:4]]}"
             if unexpected else ""]
    parts.append(f"wrong shapes: {'; '.join(wrong[:4])}" if wrong else "")
    return f"{file}: tensors don't match config.json ({', '.join(p for p in parts if p)}); {DAMAGED}"


# ------------------------------------------------------------------------------------ optional files
def read_table(file: Path, key: str, warnings: list[str]) -> pd.DataFrame:
    """metrics.csv (``key`` "epoch") or batches.csv ("step"): an empty table, with a warning, when it is damaged
    or its ``key`` column is not whole numbers ≥ 0."""
    try:
        table = read_csv(file)
        if len(table.columns) == 0:
            return table
        column = pd.to_numeric(table[key], errors="coerce") if key in table else None
        if column is None or column.isna().any() or (column < 0).any() or (column % 1 != 0).any():
            raise RunError(f"{file}: its {key!r} column is missing or not whole numbers")
        for name in table.columns:
            if name.startswith(("train_", "val_", "test_")) or name in ("loss", "accuracy", "mse"):
                table[name] = pd.to_numeric(table[name], errors="coerce")  # a stray word shows as a gap
        return table
    except (RunError, ValueError, TypeError, AttributeError) as e:
        warnings.append(f"{file.name} is damaged and was left out ({_reason(e, file)})")
        return pd.DataFrame()


def read_probe(path: Path, cfg: ModelConfig, warnings: list[str]) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """probe.safetensors and probe.json, checked so that every recorded epoch replays (tensors [1, seq, units]
    with this model's units); ({}, {}) with a warning naming the file when either is damaged."""
    file, meta_file = path / "probe.safetensors", path / "probe.json"
    if not os.path.lexists(file):
        return {}, {}
    try:
        probe = read_tensors(file, MAX_PROBE_BYTES, floats_only=False)
        _check_probe(probe, cfg)
    except (RunError, ValueError, KeyError, IndexError, TypeError) as e:
        warnings.append(f"probe.safetensors is damaged, so the training replay is not shown ({_reason(e, file)})")
        return {}, {}
    if not os.path.lexists(meta_file):
        return probe, {}
    try:
        meta = read_json(meta_file)
        labels = meta.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(s, str) for s in labels):
            raise RunError(f"{meta_file}: labels must be a list of texts")
    except RunError as e:
        warnings.append(f"probe.json is damaged; the replay's steps are numbered instead ({_reason(e, meta_file)})")
        return probe, {}
    return probe, meta


def _check_probe(probe: dict[str, Tensor], cfg: ModelConfig) -> None:
    x, lengths = probe_input(probe)
    if x.dim() < 2 or x.shape[0] != 1 or lengths.numel() != 1 or not 1 <= int(lengths[0]) <= x.shape[1]:
        raise ValueError("the probe input is not one sequence")
    n = int(lengths[0])
    if PROBE_Y in probe and (probe[PROBE_Y].dim() == 0 or probe[PROBE_Y].shape[0] != 1):
        raise ValueError("the probe target is not one example's")
    units = {"hook_logits": cfg.output_size, "hook_embed": cfg.embed_dim}
    for epoch in probe_epochs(probe):
        cache = probe_cache(probe, epoch)
        if "hook_logits" not in cache:
            raise ValueError(f"epoch {epoch} has no hook_logits")
        for name, t in cache.items():
            m = _UNIT.match(name)
            want = cfg.hidden_size if m and not name.startswith("chars.") else units.get(name)
            if m and not name.startswith("chars.") and int(m.group(1)) >= cfg.num_layers:
                raise ValueError(f"{name} names a layer the model does not have")
            if t.dim() != 3 or t.shape[0] != 1 or t.shape[1] < n or (want is not None and t.shape[2] != want):
                raise ValueError(f"epoch {epoch}: {name} has shape {list(t.shape)}, not [1, {n}, {want or 'units'}]")


def _reason(e: BaseException, file: Path) -> str:
    """The error's text without the file's path in front (the warning names the file already)."""
    text = str(e).replace(f"{file}: ", "").replace(f"; {DAMAGED}", "")
    return text[:200]
