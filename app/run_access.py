"""The one way a page reaches a run: the usable runs (of a task), their label, one cached loader (reloaded when
the run's weights file changes), the model picker widget, and replaying one input through a run into what the
pages draw (step labels, the per-step prediction, the activation cache).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch

from rnn_core.hooks import LOGITS
from rnn_core.predict import trace
from rnn_core.runs import Run, list_runs, load_run
from rnn_core.tasks import task_class

from . import session
from .inside.data import StepPrediction, direction_views, step_prediction
from .quote import quote

RunRow = dict[str, Any]  # one row of ``rnn_core.runs.list_runs()``


# ----------------------------------------------------------------------------------------------- runs
def usable_runs(task: str | None = None, rows: list[RunRow] | None = None) -> list[RunRow]:
    """Runs that can be opened (damaged folders left out; ``damaged_note`` names them), of ``task`` or of every
    task, from ``rows`` of ``list_runs()`` (read afresh when None): bundled ones first, then yours newest first."""
    rows = list_runs() if rows is None else rows
    runs = [r for r in rows if r.get("status") != "damaged" and (task is None or r.get("task") == task)]
    return sorted(runs, key=lambda r: not r["pretrained"])


def damaged_note(rows: list[RunRow], task: str | None = None) -> None:
    """Name the damaged run folders (and why each can't be opened) under a picker that leaves them out, so a
    damaged run is shown as damaged rather than silently missing. ``task``: only those of that task (a damaged
    config.json has no task, so those are always named)."""
    bad = [r for r in rows if r.get("status") == "damaged" and (task is None or r.get("task") in (None, task))]
    if not bad:
        return
    with st.expander(f"{len(bad)} damaged run{'s' if len(bad) > 1 else ''} can't be opened", icon=":material/error:"):
        for r in bad:
            st.markdown(f"- **{quote(r['name'])}**: {quote(r.get('message') or 'damaged', 300)}")
        st.caption("Delete a damaged run on the Runs page, or train it again.")


def show_warnings(run: Run) -> None:
    """The parts of a loaded run that were damaged and left out (curves, probe), one warning each; and, for a run
    cut short (a training killed or a save interrupted), what it holds."""
    for text in run.warnings:
        st.warning(quote(text, 300), icon=":material/warning:")


def _score(r: RunRow) -> str:
    """', test accuracy 87.1%' / ', val MSE 0.0023': the task's own metric, on the test split when scored."""
    m = r.get("final_metrics") or {}
    try:
        metric = task_class(r.get("task") or "").metric
    except (ValueError, ImportError):
        return ""
    for split in ("test", "val"):
        value = m.get(f"{split}_{metric}")
        if value is not None:
            return f", {split} accuracy {value:.1%}" if metric == "accuracy" else f", {split} MSE {value:.4f}"
    return ""


def run_label(r: RunRow, with_task: bool = False) -> str:
    """'name (bundled, imdb, LSTM, test accuracy 87.1%)' — what a run picker shows for a run (the task only when
    the picker lists several tasks; the status only when the run did not finish)."""
    kind = "bundled" if r["pretrained"] else "your run"
    task = f", {r.get('task')}" if with_task else ""
    status = "" if r.get("status") in (None, "finished") else f", {r['status']}"
    score = _score(r)
    if score and r.get("data"):  # e.g. "on MNIST test files only": the data the score is on (Task.data_label)
        score += f" on {r['data'].split(':')[0]}"
    return f"{r['name']} ({kind}{task}, {(r.get('cell') or '?').upper()}{score}{status})"


def worth_seeing(r: RunRow) -> bool:
    """Whether a run is worth opening a page on: it was validated at least once (a run stopped in its first
    epoch has no validation score and barely learned anything)."""
    return any(k.startswith("val_") and v is not None for k, v in (r.get("final_metrics") or {}).items())


def best_bundled(runs: list[RunRow], default: str | None = None) -> RunRow | None:
    """The run a page opens on when the session has none: the bundled run named ``default`` when there is one,
    else the bundled run with the best validation score in its task's metric, else the first run worth seeing."""
    bundled = [r for r in runs if r["pretrained"] and worth_seeing(r)]
    named = [r for r in bundled if r["name"] == default]
    if named:
        return named[0]

    def rank(r: RunRow) -> float:
        try:
            metric = task_class(r.get("task") or "").metric
        except (ValueError, ImportError):
            return float("inf")
        value = (r.get("final_metrics") or {}).get(f"val_{metric}")
        return float("inf") if value is None else (-value if metric == "accuracy" else value)

    if bundled:
        return min(bundled, key=rank)
    return next((r for r in runs if worth_seeing(r)), None)


def run_stamp(path: str | Path) -> str:
    """The weights file's modification time, size and inode: part of the cache key, so a run saved again under
    the same name (a new file renamed into place, even within the same clock tick) is loaded afresh."""
    try:
        info = (Path(path) / "weights.safetensors").stat()
    except OSError:
        return ""
    return f"{info.st_mtime_ns}-{info.st_size}-{info.st_ino}"


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def load_model(path: str, stamp: str) -> Run:
    """The run at ``path`` loaded once per ``stamp`` (``run_stamp(path)``); pages call ``load(path)``."""
    return load_run(path)


def load(path: str | Path) -> Run:
    """The run at ``path`` (model in eval mode, task with its vocabulary), loaded once per weights file.
    ValueError (with what is wrong) for a damaged folder."""
    return load_model(str(path), run_stamp(path))


# --------------------------------------------------------------------------------------------- picker
def _follow(key: str, names: dict[str, str]) -> None:
    """On a pick: make it the session's current run (the other pages open it next)."""
    name = names.get(st.session_state.get(key, ""))
    session.set_current_run(name)
    st.session_state[key + session.FOLLOWED_SUFFIX] = name


def _preselect(key: str, runs: list[RunRow], prefer: str | None, default: str | None) -> None:
    """Set the picker's value before it is drawn: ``prefer`` (a run named by a link or handed over by another
    page) when given, else the session's current run when it changed since this picker last followed it — unless
    it was never validated — else, on a first visit, the best bundled run (``best_bundled``)."""
    names = {r["path"]: r["name"] for r in runs}
    by_name = {r["name"]: r for r in runs}
    if st.session_state.get(key) not in names:
        st.session_state.pop(key, None)  # first visit, or the run was deleted since
    seen = key + session.FOLLOWED_SUFFIX
    cur = session.current_run()
    if prefer in by_name:
        st.session_state[key] = by_name[prefer]["path"]
        session.set_current_run(cur := prefer)
    elif cur in by_name and worth_seeing(by_name[cur]) and (st.session_state.get(seen) != cur
                                                          or key not in st.session_state):
        st.session_state[key] = by_name[cur]["path"]
    elif key not in st.session_state and (best := best_bundled(runs, default)) is not None:
        st.session_state[key] = best["path"]
    st.session_state[seen] = cur


def pick_run(task: str | None, key: str, empty: str, prefer: str | None = None, default: str | None = None) -> Run:
    """A model picker over the usable runs of ``task`` (every task when None) → the loaded run.

    The session's current run (trained or picked on another page) is preselected when it is one of them and has
    changed since this picker last followed it; ``prefer`` (a run name) wins over it; a pick here becomes the
    current run. With neither, the page opens on ``default`` (a bundled run's name) or the best bundled run of
    ``task`` — never on a run stopped before its first validation. Shows ``empty`` and stops the page when there
    is no run, a warning when ``prefer`` names no run here, an error when the run can't be loaded, and a warning for
    a run that diverged.
    """
    rows = list_runs()
    runs = usable_runs(task, rows)
    damaged_note(rows, task)
    if not runs:
        st.info(empty, icon=":material/model_training:")
        st.stop()
    names = {r["path"]: r["name"] for r in runs}
    labels = {r["path"]: run_label(r, with_task=task is None) for r in runs}
    _preselect(key, runs, prefer, default)
    path = st.selectbox("Model" if task else "Run", list(names), format_func=labels.__getitem__, key=key,
                        on_change=_follow, args=(key, names),
                        help="A bundled model, or any run you trained on the Train page (Runs page).")
    if path is None:  # Streamlit's types allow it; a picker with options always has a choice
        st.stop()
    if prefer and prefer not in names.values():
        st.warning(f"There is no run named '{quote(prefer)}'{f' for the {task} task' if task else ''} here (it may "
                   f"have been renamed or deleted); showing **{quote(names[path])}** instead. The Runs page lists "
                   "every run.",
                   icon=":material/link_off:")
    try:
        run = load(path)
    except ValueError as e:  # damaged in a way only loading finds (weights, task state), or since it was listed
        st.error(f"Can't load this run: {quote(e, 400)}", icon=":material/error:")
        st.stop()
    show_warnings(run)
    if run.status == "diverged":
        st.warning("This run diverged while training (its loss became infinite or NaN): its answers may be "
                   "nonsense or missing. Pick another run, or train again with a lower learning rate.",
                   icon=":material/warning:")
    elif run.status == "interrupted":
        st.info(f"This run's training was cut short (the process ended): it holds the {len(run.metrics)} epoch(s) "
                f"of {run.train_cfg.epochs} that finished, with the weights after the last of them.",
                icon=":material/history:")
    return run


def pick_layer(run: Run, key: str) -> int:
    """Which layer's activations to show: a picker for a stacked model, the only layer otherwise."""
    layers = run.model_cfg.num_layers
    if layers == 1:
        return 0
    return st.selectbox("Layer shown below", list(range(layers)), index=layers - 1, key=key,
                        help="The model stacks several recurrent layers; the heatmaps show one of them.")


# -------------------------------------------------------------------------------------------- replay
@dataclass
class Replay:
    """One input replayed through a run: what every page that shows a model draws from.

    ``logits`` [seq, outputs] is what the head says at each step (for a classifier: as if the input ended there,
    by ``rnn_core.predict.trace``); ``prediction`` the same as probabilities (classifiers) or values
    (regression), with the target when known; ``cache`` name → [1, seq, ...] (only ``hook_logits`` when replayed
    with ``full=False``); ``inputs`` [seq, features] the numeric input for a figure's input row (None for tokens).
    """

    cell: str
    directions: tuple[str, ...]
    steps: list[str]
    cache: dict[str, torch.Tensor]
    logits: np.ndarray
    prediction: StepPrediction
    inputs: np.ndarray | None
    note: str = ""  # where the input came from, when a page should say so

    def views(self, layer: int, directions: tuple[str, ...] | None = None) -> dict[str, dict[str, np.ndarray]]:
        """``{direction: {quantity: [seq, units]}}`` of one layer, for the unrolled figure."""
        return direction_views(self.cache, layer, directions or self.directions, self.cell)


def prediction_of(task: Any, logits: np.ndarray, target: Any = None) -> StepPrediction:
    """Per-step head output [seq, outputs] → the prediction row, named by the task's labels."""
    names = list(task.labels) if task.kind != "regress" else list(task.output_names)
    return step_prediction(task.kind, logits, names, target)


def feature_inputs(model: Any, x: torch.Tensor) -> np.ndarray | None:
    """The numeric input [seq, features] of x [1, seq, ...] for a figure's input row; None for token ids."""
    return None if model.cfg.token_input else x[0].reshape(x.shape[1], -1).float().numpy()


@torch.no_grad()
def replay_encoded(model: Any, task: Any, x: torch.Tensor, steps: list[str], target: Any = None,
                   full: bool = True) -> Replay:
    """Replay an encoded input x [1, seq, ...] (step labels ``steps``) through ``model``; ``full`` keeps every
    activation (the heatmaps), else only the head's output (cheaper, for pages that show just the prediction)."""
    per_step, cache = trace(model, x, None if full else LOGITS)  # rnn_core's prefix rule; every activation if full
    logits = per_step.float().numpy().astype(np.float64)  # [seq, outputs]
    cfg = model.cfg
    return Replay(cfg.cell, model.directions(), list(steps), cache, logits,
                  prediction_of(task, logits, target), feature_inputs(model, x))


def replay(model: Any, task: Any, user_input: Any, target: Any = None, full: bool = True) -> Replay:
    """A person's input (text, letters, a curve) through ``task.encode`` and the replay path; ValueError (from
    the task) says what to fix."""
    x, steps = task.encode(user_input)
    return replay_encoded(model, task, x, steps, target, full)
