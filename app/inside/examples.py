"""The Inside page's data access: the run to show (cached by folder and file time), a task's validation
split (cached), and one example's replay turned into what the figures draw. Everything shown comes from
``model.run_with_cache`` or a saved probe; nothing here draws.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch

from rnn_core.hooks import LOGITS
from rnn_core.predict import per_step_logits
from rnn_core.probe import probe_cache, probe_input, probe_target
from rnn_core.runs import load_run
from rnn_core.tasks import get_task
from rnn_core.tasks.base import IGNORE_INDEX

from .data import StepPrediction, step_prediction

# What the "your own input" box starts with, per task (a person can type anything the task encodes).
EXAMPLE_INPUT = {
    "letters": "abcdabcd",
    "sine": ", ".join(f"{np.sin(k * np.pi / 9):.2f}" for k in range(36)),
    "imdb": "A wonderful film: the acting was superb, though the ending felt rushed and a little silly.",
    "pos": "I will book a flight to Boston.",
}
INPUT_HELP = {
    "letters": "Letters from a–e, e.g. abcd.",
    "sine": "Numbers separated by commas — a curve, e.g. a sine wave.",
    "imdb": "A review in English; words outside the model's vocabulary are read as 'unknown'.",
    "pos": "A sentence in English; each word becomes one step (punctuation and clitics like n't are words too).",
}


@dataclass
class Example:
    """One input replayed: the cache (name → [1, seq, units]), step labels, the numeric input for the
    input row (None for tokens), the per-step prediction, and a note on where the input came from."""

    cache: dict[str, torch.Tensor]
    steps: list[str]
    inputs: np.ndarray | None
    prediction: StepPrediction
    note: str = ""


@st.cache_resource(max_entries=8, show_spinner="Loading the run…")
def _load(path: str, mtime: float):
    return load_run(path)


def get_run(path: str | Path):
    """The run in ``path``, loaded once per change of its config file."""
    p = Path(path)
    return _load(str(p), (p / "config.json").stat().st_mtime)


@st.cache_resource(max_entries=4, show_spinner="Loading the validation examples…")
def _val(task_name: str, state_json: str, seed: int):
    state = json.loads(state_json)
    task = get_task(task_name, **(state.get("options") or {}))
    task.restore(state)
    splits = task.load(seed=seed)
    return splits.val if len(splits.val) else splits.train


def validation_split(run):
    """The run's validation examples (the task rebuilt from the run's saved state, loaded once)."""
    return _val(run.task.name, json.dumps(run.task.state(), sort_keys=True, default=str), run.train_cfg.seed)


def _feature_inputs(run, x: torch.Tensor) -> np.ndarray | None:
    return None if run.model_cfg.token_input else x[0].reshape(x.shape[1], -1).float().numpy()  # [seq, features]


def _prediction(run, cache, target, x: torch.Tensor | None = None) -> StepPrediction:
    """Per-step head output: given the input ``x``, what the model says if the input ended at each step
    (``rnn_core.predict``'s prefix rule); without it (a recorded probe), the recorded head output."""
    task = run.task
    logits = (cache[LOGITS][0] if x is None else per_step_logits(run.model, x, cache)).float().numpy()  # [seq, out]
    names = list(task.labels) if task.kind != "regress" else ["output"]
    return step_prediction(task.kind, logits, names, target)


def replay_validation(run, data, i: int) -> Example:
    """Validation example ``i`` through the replay path, with its target."""
    n = int(data.lengths[i])
    x = data.x[i : i + 1, :n]  # [1, seq] or [1, seq, features]
    _, cache = run.model.run_with_cache(x)
    y = data.y[i]
    target = y[:n].numpy() if y.dim() >= 1 else y.numpy()
    if run.task.kind == "tag":
        target = np.where(target == IGNORE_INDEX, -1, target)
    steps = run.task.step_labels(data, i)
    return Example(cache, steps, _feature_inputs(run, x), _prediction(run, cache, target, x))


def replay_text(run, text: Any) -> Example:
    """A person's input through ``task.encode`` and the replay path (ValueError says what to fix)."""
    x, steps = run.task.encode(text)
    _, cache = run.model.run_with_cache(x)
    return Example(cache, list(steps), _feature_inputs(run, x), _prediction(run, cache, None, x))


def replay_probe(run, epoch: int) -> Example:
    """The training probe as recorded at ``epoch`` (0 = untrained)."""
    cache = probe_cache(run.probe, epoch)
    x, lengths = probe_input(run.probe)
    n = int(lengths[0])
    steps = list(run.probe_meta.get("labels") or (run.config.get("extra") or {}).get("probe_labels") or [])
    if len(steps) != n:
        steps = [str(t) for t in range(n)]
    y = probe_target(run.probe)
    target = None if y is None else (y[0, :n] if y.dim() >= 2 else y).numpy()
    note = ""
    if run.model_cfg.bidirectional and run.model_cfg.head == "last":
        note = ("Prediction row of the training replay: the head on each step's states as recorded — for this "
                "bidirectional model the backward half has already read the whole input at every step.")
    return Example(cache, steps, _feature_inputs(run, x[:, :n]), _prediction(run, cache, target), note)
