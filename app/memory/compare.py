"""The Memory page's side-by-side training: RNN, LSTM and GRU on one task with the same data order and seed, at
the same hidden size or the same parameter budget, trained as ordinary background jobs (the Train page's job
manager); their curves overlaid live, saved runs addable, and a table of final metrics, sizes and speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from rnn_core.config import BOUNDS, CELLS, ModelConfig, TrainConfig
from rnn_core.summary import hidden_for_budget, param_count
from rnn_core.tasks import get_task, list_tasks, task_class

from .. import run_access, session
from ..train.job_manager import MAX_QUEUED_PER_SESSION, TooManyJobs
from ..train.job_state import ACTIVE, JobSpec, Snapshot
from ..train.panel import job_manager
from . import figures

SIZING = ("same hidden size", "same parameter budget")
VARIANTS: dict[str, dict[str, Any]] = {
    "one layer": {}, "bidirectional": {"bidirectional": True}, "two layers": {"num_layers": 2},
}
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Plan:
    """What the form asks for: one model config per cell, one training config shared by all."""

    task: str
    preset: str
    options: dict[str, Any]
    models: dict[str, ModelConfig]
    train: TrainConfig


def sized(base: ModelConfig, cells: list[str], sizing: str, hidden: int) -> dict[str, ModelConfig]:
    """Each cell's config at ``hidden`` units, or (parameter budget) at the hidden size whose parameter count is
    closest to the LSTM's at ``hidden`` — the budget every cell then gets."""
    if sizing == SIZING[0]:
        return {c: base.replace(cell=c, hidden_size=hidden) for c in cells}
    budget = param_count(base.replace(cell="lstm", hidden_size=hidden))
    return {c: base.replace(cell=c, hidden_size=hidden_for_budget(base.replace(cell=c), budget)) for c in cells}


def form() -> Plan | None:
    """Task, its options, cells, variant, sizing, epochs and seed; returns a Plan when Train is pressed."""
    names = [t["name"] for t in list_tasks()]
    task_name = st.selectbox("Task", names, index=names.index("recall") if "recall" in names else 0,
                             key=session.MEMORY_TASK, format_func=lambda n: f"{n} — {task_class(n).title}")
    cls = task_class(task_name)
    with st.form("memory_compare"):
        c1, c2, c3 = st.columns(3)
        preset = c1.selectbox("Preset", list(cls.presets), help="The starting settings every cell shares.")
        choices = cls(**cls.presets[preset].task).option_choices()
        options = {k: c2.selectbox(k, vals, help=text) for k, (vals, text) in choices.items()}
        cells = c3.multiselect("Cells", CELLS, default=list(CELLS))
        c4, c5, c6, c7, c8 = st.columns(5)
        variant = c4.selectbox("Variant", list(VARIANTS), help="Applied to every cell alike.")
        sizing = c5.radio("Compare at", SIZING, help="Same parameter budget: each cell gets the hidden size whose "
                          "parameter count is closest to the LSTM's at the hidden size given.")
        hidden = c6.number_input("Hidden size", *map(int, BOUNDS["hidden_size"]), value=32)
        epochs = c7.number_input("Epochs", 1, 500, value=int(cls.presets[preset].train.get("epochs", 10)))
        seed = c8.number_input("Seed", 0, 2**31 - 1, value=0, help="The same seed for every cell: the same "
                               "initial random stream and the same order of training batches.")
        if not st.form_submit_button("Train the cells side by side", type="primary", icon=":material/play_arrow:"):
            return None
    if not cells:
        st.warning("Pick at least one cell to train.", icon=":material/warning:")
        return None
    try:
        task = get_task(task_name, **{**cls.presets[preset].task, **options})
        base, train = task.configs(preset, epochs=int(epochs), seed=int(seed), **VARIANTS[variant])
        models = {c: m.validate() for c, m in sized(base, cells, sizing, int(hidden)).items()}
    except ValueError as e:
        st.error(f"Can't train these settings: {e}", icon=":material/error:")
        return None
    return Plan(task_name, preset, dict(task.options), models, train)


def launch(plan: Plan) -> None:
    """Queue one job per cell (same task options, data, seed and training settings) and show them — all of them or
    none: a comparison missing a cell is no comparison, so a session short of job slots is told so instead."""
    manager = job_manager()
    me = session.session_id()
    busy = sum(1 for s in manager.jobs(me) if s.state in ACTIVE)
    if busy + len(plan.models) > MAX_QUEUED_PER_SESSION:
        st.warning(f"This needs {len(plan.models)} training jobs and you already have {busy} queued or running "
                   f"(at most {MAX_QUEUED_PER_SESSION} at a time). Wait for them to finish, or stop them on the "
                   "Train page, then press the button again.", icon=":material/hourglass_top:")
        return
    ids: list[str] = []
    try:
        for mcfg in plan.models.values():
            spec = JobSpec(task=plan.task, model_cfg=mcfg, train_cfg=plan.train, preset=plan.preset,
                           task_options=plan.options)
            ids.append(manager.submit(me, spec))
    except TooManyJobs as e:  # another tab of this session queued one meanwhile
        st.warning(str(e), icon=":material/hourglass_top:")
    st.session_state[session.MEMORY_JOBS] = ids  # the ones queued, shown either way
    st.session_state[session.MEMORY_ADDED] = []


def _job_rows(snaps: list[Snapshot]) -> tuple[dict[str, pd.DataFrame], dict[str, str], list[dict[str, Any]]]:
    series, cells, table = {}, {}, []
    for s in snaps:
        cfg = s.spec.model_cfg
        label = f"{cfg.cell.upper()}({cfg.hidden_size})"
        series[label], cells[label] = pd.DataFrame(list(s.epoch_rows)), cfg.cell
        last = s.epoch_rows[-1] if s.epoch_rows else {}
        table.append({"run": s.run_name or "(training)", "cell": cfg.cell, "hidden": cfg.hidden_size,
                      "params": param_count(cfg), "state": s.state, "epochs": len(s.epoch_rows),
                      f"val {s.metric}": last.get(f"val_{s.metric}"), "val loss": last.get("val_loss"),
                      "seconds": round(s.elapsed, 1), "tokens/s": round(s.tokens_per_s)})
    return series, cells, table


def _added_rows(paths: list[str]) -> tuple[dict[str, pd.DataFrame], dict[str, str], list[dict[str, Any]]]:
    series, cells, table = {}, {}, []
    for path in paths:
        try:
            run = run_access.load(path)
        except ValueError:
            continue
        label = f"{run.name} (saved)"
        metric = run.task.metric
        series[label], cells[label] = run.metrics, ""
        m = run.final_metrics
        table.append({"run": run.name, "cell": run.model_cfg.cell, "hidden": run.model_cfg.hidden_size,
                      "params": run.config.get("params"), "state": run.status, "epochs": len(run.metrics),
                      f"val {metric}": m.get(f"val_{metric}"), "val loss": m.get("val_loss"),
                      "seconds": round(float(run.config.get("seconds") or 0), 1),
                      "tokens/s": round(float(run.config.get("tokens_per_s") or 0))})
    return series, cells, table


def add_saved(task: str) -> None:
    """A picker of saved runs of ``task`` to draw beside the trained cells."""
    runs = run_access.usable_runs(task)
    labels = {r["path"]: run_access.run_label(r) for r in runs}
    st.multiselect("Add saved runs of this task", list(labels), format_func=labels.__getitem__,
                   key=session.MEMORY_ADDED,
                   help="Their recorded curves and final numbers join the comparison (e.g. runs of the sweep below).")


def _snapshots() -> list[Snapshot]:
    manager = job_manager()
    return [s for j in st.session_state.get(session.MEMORY_JOBS, [])
            if (s := manager.snapshot(session.session_id(), j)) is not None]


def live() -> None:
    """Curves and table of this session's side-by-side jobs and added runs, re-drawn every POLL_SECONDS while a
    job trains — only then: an idle page that polled would re-read every added run's curves from disk each second,
    for every open tab."""
    polling = any(s.active for s in _snapshots())
    st.fragment(run_every=POLL_SECONDS if polling else None)(_live)(polling)


def _live(polling: bool) -> None:
    snaps = _snapshots()
    if polling and not any(s.active for s in snaps):
        # The last job has ended: redraw the whole page once, so the pickers below list the new runs and the
        # polling stops.
        st.rerun(scope="app")
    series, cells, table = _job_rows(snaps)
    more = _added_rows(list(st.session_state.get(session.MEMORY_ADDED, [])))
    series.update(more[0])
    cells.update(more[1])
    table += more[2]
    if not series:
        st.info("Train the cells above (or add saved runs) to see their curves here.", icon=":material/info:")
        return
    metric = next((t for t in table[0] if t.startswith("val ") and t != "val loss"), "val accuracy")[4:]
    st.plotly_chart(figures.fig_curves(series, metric, cells), width="stretch")
    st.caption(figures.READ["curves"])
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
    failed = [s.message for s in snaps if s.state == "failed" and s.message]
    for message in failed:
        st.error(message, icon=":material/error:")
    if any(s.active for s in snaps):
        st.caption("Training… the jobs run in the background; leaving this page does not stop them.")
    elif snaps and all(s.run_path for s in snaps):
        st.caption("Saved as " + ", ".join(f"**{Path(str(s.run_path)).name}**" for s in snaps) +
                   " — pick one below for its gradient flow, gates and interventions.")
