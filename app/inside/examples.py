"""The Inside page's inputs: a task's validation split (cached), one of its examples, a typed input, or the
training probe as recorded at an epoch — each turned into a ``run_access.Replay``. Everything shown comes from
``model.run_with_cache`` or a saved probe; nothing here draws.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import streamlit as st

from rnn_core.data import DownloadError
from rnn_core.hooks import LOGITS
from rnn_core.probe import probe_cache, probe_input, probe_target
from rnn_core.runs import Run
from rnn_core.tasks import get_task
from rnn_core.tasks.base import IGNORE_INDEX, SeqData

from ..run_access import Replay, feature_inputs, prediction_of, replay, replay_encoded

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


@st.cache_resource(max_entries=4, show_spinner="Loading the validation examples…")
def _val(task_name: str, state_json: str, seed: int):
    state = json.loads(state_json)
    task = get_task(task_name, **(state.get("options") or {}))
    task.restore(state)
    # A page never downloads on a run's say-so: its saved options (an imported archive's included) could name any
    # address. The data is used if it is already here, from the default source's file names.
    if "download" in task.options:
        task.options["download"] = False
    if "base_url" in task.options:
        task.options["base_url"] = get_task(task_name).options["base_url"]
    try:
        splits = task.load(seed=seed)
    except DownloadError as e:
        raise ValueError(f"This run's examples come from data that is not on this machine: {e}") from None
    return splits.val if len(splits.val) else splits.train


def validation_split(run):
    """The run's validation examples (the task rebuilt from the run's saved state, loaded once)."""
    return _val(run.task.name, json.dumps(run.task.state(), sort_keys=True, default=str), run.train_cfg.seed)


def replay_validation(run: Run, data: SeqData, i: int) -> Replay:
    """Validation example ``i`` through the replay path, with its target."""
    n = int(data.lengths[i])
    x = data.x[i : i + 1, :n]  # [1, seq] or [1, seq, features]
    y = data.y[i]
    target = y[:n].numpy() if y.dim() >= 1 else y.numpy()
    if run.task.kind == "tag":
        target = np.where(target == IGNORE_INDEX, -1, target)
    return replay_encoded(run.model, run.task, x, run.task.step_labels(data, i), target)


def replay_text(run: Run, text: Any) -> Replay:
    """A person's input through ``task.encode`` and the replay path (ValueError says what to fix)."""
    return replay(run.model, run.task, text)


def replay_probe(run: Run, epoch: int) -> Replay:
    """The training probe as recorded at ``epoch`` (0 = untrained)."""
    cache = probe_cache(run.probe, epoch)
    x, lengths = probe_input(run.probe)
    n = int(lengths[0])
    steps = list(run.probe_meta.get("labels") or (run.config.get("extra") or {}).get("probe_labels") or [])
    if len(steps) != n:
        steps = [str(t) for t in range(n)]
    y = probe_target(run.probe)
    target = None if y is None else (y[0, :n] if y.dim() >= 2 else y).numpy()
    logits = cache[LOGITS][0].float().numpy().astype(np.float64)  # [seq, outputs] as recorded
    return Replay(run.model_cfg.cell, run.model.directions(), steps, cache, logits,
                  prediction_of(run.task, logits, target), feature_inputs(run.model, x[:, :n]))
