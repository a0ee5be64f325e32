"""The Train page's live view: the process-wide job manager, starting a job, and a fragment that polls this
session's job every half second while it trains (progress, curves, Stop) and leaves the rest of the page alone.
"""

from __future__ import annotations

import logging

import streamlit as st

from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.runs.keeping import clean_leftovers
from rnn_core.tasks import Task, metric_of, task_class

from .. import nav, session
from . import curves, form
from .job_manager import JobManager, TooManyJobs
from .job_state import JobSpec, Snapshot

POLL_SECONDS = 0.5
CURVE_HEIGHT = 300
FIRST_POINT_WAIT = 0.4  # after Train, wait this long at most for the first batch so the first draw has a point
STATE_ICONS = {"queued": ":material/hourglass_top:", "running": ":material/play_circle:",
               "finished": ":material/check_circle:", "stopped": ":material/stop_circle:",
               "diverged": ":material/warning:", "failed": ":material/error:", "cancelled": ":material/cancel:"}


@st.cache_resource
def job_manager() -> JobManager:
    """One manager for the whole server process, shared by every browser session. Built once per server start,
    which is when the temporary folders of a save killed half-way are cleaned up."""
    for note in clean_leftovers():
        logging.getLogger(__name__).warning(note)
    return JobManager()


def start(task: Task, preset: str, model_cfg: ModelConfig, train_cfg: TrainConfig) -> str | None:
    """Queue a training job for this session and make it the one the page shows (None, with a warning on the
    page, when the session already has as many jobs waiting or running as it may)."""
    spec = JobSpec(task=task.name, model_cfg=model_cfg, train_cfg=train_cfg, preset=preset,
                   task_options=dict(task.options))
    manager = job_manager()
    try:
        job_id = manager.submit(session.session_id(), spec)
    except TooManyJobs as e:
        st.warning(str(e), icon=":material/hourglass_top:")
        return None
    st.session_state[session.CURRENT_JOB] = job_id
    manager.wait_for_progress(job_id, FIRST_POINT_WAIT)
    return job_id


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "…"
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def progress_text(s: Snapshot) -> str:
    """"Epoch 3/100 · batch 1/1 · 5,120 tokens/s · 12 s left" for a running job ("· validating" while it scores
    the epoch on the validation split); the phase ("Loading data…") before training begins."""
    if s.phase not in ("training", "validating") or not s.batches:
        return f"{s.phase.capitalize()}…"
    validating = " · validating" if s.phase == "validating" and s.batches > 1 else ""
    return (f"Epoch {s.epoch}/{s.epochs} · batch {s.batch}/{s.batches}{validating} · {s.tokens_per_s:,.0f} tokens/s · "
            f"{_duration(s.seconds_left)} left")


def job_label(s: Snapshot) -> str:
    """"imdb · GRU(64) · preset default · 4 epochs": which job the box shows, whatever the form holds now."""
    m = s.spec.model_cfg
    preset = f" · preset {s.spec.preset}" if s.spec.preset else ""
    return f"{s.spec.task} · {m.cell.upper()}({m.hidden_size}){preset} · {s.spec.train_cfg.epochs} epochs"


def _outcome(s: Snapshot) -> None:
    text = s.message or s.state
    saved = f" Saved as run **{s.run_name}**." if s.run_name else ""
    if s.state == "finished":
        st.success(text + saved, icon=STATE_ICONS[s.state])
    elif s.state in ("stopped", "cancelled"):
        st.warning(text + saved, icon=STATE_ICONS[s.state])
    else:  # diverged or failed
        st.error(text + saved, icon=STATE_ICONS[s.state])
    if s.run_name:
        session.set_current_run(s.run_name)
        with st.container(horizontal=True):
            nav.link("pages/inside.py", "Look inside this run", ":material/visibility:", run=s.run_name)
            nav.link("pages/runs.py", "All saved runs", ":material/folder_open:")


def draw_curves(s: Snapshot | None) -> None:
    """Loss, then accuracy (or MSE), with the how-to-read caption; empty axes until the first batch, drawn
    under the same keys so the charts update in place instead of jumping in."""
    metric = s.metric if s is not None else charts_metric()
    # Side by side and short, so both are on screen right under the Train button at a laptop's 1400×1000.
    for col, key in zip(st.columns(2), ("loss", metric), strict=True):
        if s is None:
            fig = curves.fig_curves([], [], key, height=CURVE_HEIGHT)
        else:
            fig = curves.fig_curves(s.batch_rows, s.epoch_rows, key, batches_per_epoch=s.batches or None,
                                    height=CURVE_HEIGHT, warmup=task_class(s.spec.task).warmup)
        col.plotly_chart(fig, key=f"curve_{key}", config={"displaylogo": False})
    if s is not None:
        st.caption(curves.READ_CURVES)


def charts_metric() -> str:
    """The metric of the task picked on the page ("accuracy" or "mse")."""
    return metric_of(st.session_state.get(session.widget_key("task")))


def _pick(jobs: list[Snapshot]) -> Snapshot | None:
    """The job to show: this session's current one, or a choice among several."""
    if not jobs:
        return None
    ids = [j.id for j in jobs]
    if st.session_state.get(session.CURRENT_JOB) not in ids:
        # None chosen yet (e.g. only the Memory page's jobs): the newest of the task the form holds, if any.
        task = st.session_state.get(session.widget_key("task"))
        st.session_state[session.CURRENT_JOB] = ([j.id for j in jobs if j.spec.task == task] or ids)[-1]
    if len(jobs) > 1:
        # A label never changes during a job's life (Streamlit keeps a selectbox's choice by its label: a label
        # holding the job's state lost the choice whenever that state changed, and the box jumped to the newest
        # job). Numbered so that two jobs with the same settings still read differently.
        label = {j.id: f"#{j.number} {j.spec.task} · {j.spec.model_cfg.cell.upper()}({j.spec.model_cfg.hidden_size}) "
                       f"· {j.spec.train_cfg.epochs} epochs" for j in jobs}
        st.session_state[session.JOB_PICKER] = st.session_state[session.CURRENT_JOB]
        st.selectbox("Your jobs", ids[::-1], key=session.JOB_PICKER, format_func=label.__getitem__,
                     on_change=_show_picked, args=({j.id: j.spec for j in jobs},))
        if st.session_state.pop(session.JOB_PICKED, False):
            st.rerun(scope="app")  # the picker lives in the polling fragment; the form outside it shows the pick
        running = sum(j.active for j in jobs)
        st.caption(f"{len(jobs)} jobs, {running} of them waiting or running." if running else f"{len(jobs)} jobs.")
    return next(j for j in jobs if j.id == st.session_state[session.CURRENT_JOB])


def _show_picked(specs: dict[str, JobSpec]) -> None:
    """The job picked in "Your jobs" fills the form with its settings: the form and the box show one job."""
    picked = st.session_state[session.JOB_PICKER]
    if picked in specs:
        st.session_state[session.CURRENT_JOB] = picked
        form.show_job(specs[picked])
        st.session_state[session.JOB_PICKED] = True


def _request_stop(sid: str, job_id: str) -> None:
    job_manager().stop(sid, job_id)


def stopping_text(s: Snapshot) -> str:
    """What a job does between Stop and its stopped state, by the phase it was in: the true state, shown by the
    very rerun the click causes."""
    if s.state == "queued":
        return "Cancelling…"
    if s.phase in ("training", "validating"):
        cut = "cutting validation short" if s.phase == "validating" else "finishing the current batch"
        return f"Stopping: {cut}, then saving the epochs so far…"
    if s.phase == "saving" or s.phase.startswith("scoring"):
        return "Stopping: saving what was learned…"
    return f"Stopping: {s.phase} is abandoned; nothing was trained yet, so nothing is saved…"


def _panel(polling: bool) -> None:
    manager, sid = job_manager(), session.session_id()
    jobs = manager.jobs(sid)
    ended = polling and not any(j.active for j in jobs)
    _draw(manager, sid, jobs)
    if ended:
        # Every job has ended (the outcome is drawn above): redraw the whole page once, which stops the polling.
        st.rerun(scope="app")


def _draw(manager: JobManager, sid: str, jobs: list[Snapshot]) -> None:
    s = _pick(jobs)
    if s is None:
        st.info("No training yet: pick settings and press **Train**. Curves appear here as it learns.")
        # Empty axes now: the browser loads the charting code while settings are chosen, not after the click.
        draw_curves(None)
        return
    st.caption(f"Job: **{job_label(s)}**")
    if s.active and s.stopping:
        st.info(stopping_text(s), icon=":material/stop_circle:")
    elif s.state == "queued":
        c = manager.counts()
        st.info(f"Waiting in the queue: place **{s.place}**. {c['running']} of {c['max_jobs']} training slots "
                "on this server are busy; it starts when one frees up.", icon=STATE_ICONS["queued"])
    elif s.state == "running":
        st.progress(s.fraction, text=progress_text(s))
    else:
        _outcome(s)
    if s.active and not s.stopping:
        # on_click: the stop is requested before this fragment re-runs, so the box it draws shows it at once.
        st.button("Stop" if s.state == "running" else "Cancel", icon=":material/stop_circle:", key=f"stop_{s.id}",
                  on_click=_request_stop, args=(sid, s.id),
                  help="Ends training within a second; the partial run is saved.")
    draw_curves(s)


def job_panel() -> None:
    """Draw this session's job; while one is active the panel re-runs itself every POLL_SECONDS."""
    jobs = job_manager().jobs(session.session_id())
    polling = any(j.active for j in jobs)
    st.fragment(run_every=POLL_SECONDS if polling else None)(_panel)(polling)
