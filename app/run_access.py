"""The one way a page reaches a run: the runs of a task, their label, a cached loader (reloaded when the run's
weights file changes), the model picker widget, and replaying one input through a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch

from rnn_core.predict import trace as replay_input
from rnn_core.runs import list_runs, load_run

from . import session
from .inside.data import direction_views
from .quote import quote


def task_runs(task: str | None, rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Usable runs of ``task`` (None: of every task), from ``rows`` of ``list_runs()`` (read afresh when None):
    bundled ones first, then yours newest first (damaged folders left out; ``damaged_note`` names them)."""
    rows = list_runs() if rows is None else rows
    runs = [r for r in rows if task in (None, r.get("task")) and r.get("status") != "damaged"]
    return sorted(runs, key=lambda r: not r["pretrained"])


def damaged_note(rows: list[dict[str, Any]], task: str | None = None) -> None:
    """Name the damaged run folders (and why each can't be opened) under a picker that leaves them out, so a
    damaged run is shown as damaged rather than silently missing. ``task``: only those of that task (a damaged
    config.json has no task, so those are always named)."""
    bad = [r for r in rows if r.get("status") == "damaged" and r.get("task") in (None, task)]
    if not bad:
        return
    with st.expander(f"{len(bad)} damaged run{'s' if len(bad) > 1 else ''} can't be opened", icon=":material/error:"):
        for r in bad:
            st.markdown(f"- **{quote(r['name'])}**: {quote(r.get('message') or 'damaged', 300)}")
        st.caption("Delete a damaged run on the Runs page, or train it again.")


def show_warnings(run) -> None:
    """The parts of a loaded run that were damaged and left out (curves, probe), one warning each."""
    for text in getattr(run, "warnings", []):
        st.warning(quote(text, 300), icon=":material/warning:")


def run_label(r: dict[str, Any]) -> str:
    """'name (bundled, LSTM, val MSE 0.0023)' — what the model picker shows for a run."""
    m = r.get("final_metrics") or {}
    kind = "bundled" if r["pretrained"] else "your run"
    score = ""
    if m.get("val_mse") is not None:
        score = f", val MSE {m['val_mse']:.4f}"
    elif m.get("val_accuracy") is not None:
        score = f", val accuracy {m['val_accuracy']:.0%}"
    status = "" if r.get("status") in (None, "finished") else f", {r['status']}"
    return f"{r['name']} ({kind}, {(r.get('cell') or '?').upper()}{score}{status})"


def run_stamp(path: str) -> str:
    """The weights file's modification time and inode: part of the cache key, so a run saved again under the
    same name (a new file renamed into place, even within the same clock tick) is loaded afresh."""
    try:
        info = (Path(path) / "weights.safetensors").stat()
    except OSError:
        return ""
    return f"{info.st_mtime_ns}-{info.st_ino}"


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def load_model(path: str, stamp: str):
    """The run at ``path`` (model in eval mode, task with its options), loaded once per weights file."""
    return load_run(path)


def _follow(key: str, names: dict[str, str], seen: str) -> None:
    """On a pick: make it the session's current run (the Inside page opens it next)."""
    name = names.get(st.session_state.get(key))
    session.set_current_run(name)
    st.session_state[seen] = name


def pick_run(task: str | None, key: str, empty: str):
    """A model picker over the runs of ``task`` (None: every run, labelled with its task) → the loaded run.
    The session's current run (trained or picked on another page) is preselected when it is one of them and has
    changed since this picker last followed it; a pick here becomes the current run. Shows ``empty`` and stops the
    page when there is no run; damaged runs are named with their reason under the picker."""
    rows = list_runs()
    runs = task_runs(task, rows)
    damaged_note(rows, task)
    if not runs:
        st.info(empty, icon=":material/model_training:")
        st.stop()
    names = {r["path"]: r["name"] for r in runs}
    labels = {r["path"]: (f"{r.get('task')} · " if task is None else "") + run_label(r) for r in runs}
    cur, seen = session.current_run(), f"{key}_followed"
    current = next((p for p, n in names.items() if n == cur), None)
    if st.session_state.get(key) not in names:
        st.session_state.pop(key, None)  # first visit, or the run was deleted since
    if current and (st.session_state.get(seen) != cur or key not in st.session_state):
        st.session_state[key] = current
    st.session_state[seen] = cur
    path = st.selectbox("Model", list(names), format_func=labels.get, key=key, on_change=_follow,
                        args=(key, names, seen),
                        help="A bundled model, or any run of this task you trained on the Train page.")
    try:
        run = load_model(path, run_stamp(path))
    except ValueError as e:  # damaged in a way only loading finds (weights, task state), or since it was listed
        st.error(f"Can't load this run: {quote(e, 400)}", icon=":material/error:")
        st.stop()
    show_warnings(run)
    if run.status == "diverged":
        st.warning("This run diverged while training (its loss became infinite or NaN): its answers may be "
                   "nonsense or missing. Pick another run, or train again with a lower learning rate.",
                   icon=":material/warning:")
    return run


def pick_layer(run, key: str) -> int:
    """Which layer's activations to show: a picker for a stacked model, the only layer otherwise."""
    layers = run.model_cfg.num_layers
    if layers == 1:
        return 0
    return st.selectbox("Layer shown below", list(range(layers)), index=layers - 1, key=key,
                        help="The model stacks several recurrent layers; the heatmaps show one of them.")


@dataclass
class Trace:
    """One input replayed through a model: ``views`` direction → quantity → [seq, units] for one layer,
    ``logits`` [seq, outputs] what the head says at each step (for a classifier: as if the input ended there)."""

    cell: str
    views: dict[str, dict[str, np.ndarray]]
    logits: np.ndarray
    layer: int


@torch.no_grad()
def trace(model, x: torch.Tensor, layer: int = -1) -> Trace:
    """Replay ``x`` [1, seq, features] step by step through ``model`` and keep one layer's activations."""
    cfg = model.cfg
    layer = layer % cfg.num_layers
    logits, cache = replay_input(model, x)  # [seq, outputs] by rnn_core's prefix rule, and every activation
    views = direction_views(cache, layer, model.directions(), cfg.cell)
    return Trace(cfg.cell, views, logits.numpy().astype(np.float64), layer)
