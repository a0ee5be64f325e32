"""The Sweeps page's live and result views: the process-wide sweep registry, a fragment that polls this
session's sweep (a table of its runs with state and progress, Stop), and the results of any saved sweep
(mean ± sd per grid point, the metric against each swept field, parallel coordinates)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from rnn_core.sweep import SweepFolder, list_sweeps, load_sweep, metric_columns, results_frame, summary_frame

from .. import nav, session
from ..quote import quote
from . import charts
from .form import Launch
from .jobs import SweepJobs, SweepView

POLL_SECONDS = 1.0
PREFERRED = ("test_accuracy", "val_accuracy", "test_mse", "val_mse")


@st.cache_resource
def sweep_jobs() -> SweepJobs:
    """One registry for the whole server process, shared by every browser session."""
    return SweepJobs()


def launch(launch: Launch) -> None:
    """Start the sweep in the background and make it the one this page shows."""
    try:
        job_id = sweep_jobs().start(session.session_id(), launch.spec, launch.backend, launch.workers)
    except ValueError as e:
        st.error(f"Can't launch this sweep: {quote(e, 400)}", icon=":material/error:")
        return
    st.session_state[session.CURRENT_SWEEP] = job_id


def _fraction(rec: dict[str, Any], progress: dict[str, Any]) -> float:
    if rec["state"] in ("finished", "stopped", "diverged"):
        return 1.0
    epochs, batches = progress.get("epochs") or 0, progress.get("batches") or 0
    if rec["state"] != "running" or not epochs or not batches:
        return 0.0
    done = (max(progress.get("epoch", 0), 1) - 1) * batches + progress.get("batch", 0)
    return min(1.0, done / (epochs * batches))


def runs_table(view: SweepView) -> pd.DataFrame:
    """One row per run: its grid values, seed, state, share done, latest metric and message."""
    rows = []
    for rec in view.runs:
        p = view.progress.get(rec["index"], {})
        final = rec.get("final_metrics") or {}
        metric = next((final[k] for k in PREFERRED if final.get(k) is not None), p.get("metric"))
        rows.append({"run": rec["name"], **(rec.get("point") or {}), "seed": rec["seed"], "state": rec["state"],
                     "done": _fraction(rec, p), "metric": metric, "message": rec.get("message") or ""})
    return pd.DataFrame(rows)


def _live(polling: bool) -> None:
    sid = session.session_id()
    view = sweep_jobs().view(sid, st.session_state.get(session.CURRENT_SWEEP))
    if view is None:
        return
    if polling and not view.active:
        st.rerun()  # the sweep just ended: redraw the whole page so its results appear
    done = sum(r["state"] not in ("pending", "running") for r in view.runs)
    head = f"**{view.state.capitalize()}** · {done} of {len(view.runs)} runs done · {view.elapsed:.0f} s"
    st.markdown(f"{head} · {view.backend} backend" + (f" · `{view.path.name}`" if view.path else ""))
    if view.message:
        st.warning(view.message, icon=":material/warning:")
    if view.active and st.button("Stop sweep", icon=":material/stop_circle:", key=f"stop_{view.id}",
                                 help="Cancels the pending and running runs; finished runs stay saved."):
        sweep_jobs().stop(sid, view.id)
    if view.runs:
        st.dataframe(runs_table(view), hide_index=True, column_config={
            "done": st.column_config.ProgressColumn("done", min_value=0.0, max_value=1.0, format="percent"),
            "metric": st.column_config.NumberColumn("metric", format="%.4f",
                                                    help="Final test/validation metric, or the running one")})
        st.caption("How to read this: one row per run; *done* is the share of its batches trained so far, *metric* "
                   "the running training metric while it trains and the held-out one once it has finished.")
    if view.path is not None:
        st.session_state[session.SWEEP_SHOWN] = str(view.path)


def live_panel() -> None:
    """This session's current sweep; while it runs the panel re-runs itself every POLL_SECONDS."""
    view = sweep_jobs().view(session.session_id(), st.session_state.get(session.CURRENT_SWEEP))
    polling = view is not None and view.active
    st.fragment(run_every=POLL_SECONDS if polling else None)(_live)(polling)


def pick_sweep() -> Path | None:
    """A picker over the saved sweeps (the one this page last showed first); None when there are none."""
    found = list_sweeps()
    if not found:
        st.info("No sweeps yet: define a grid above and launch one.", icon=":material/grid_on:")
        return None
    shown = st.session_state.get(session.SWEEP_SHOWN)
    paths = [str(p) for p in found]
    index = paths.index(shown) if shown in paths else 0
    return Path(st.selectbox("Sweep", paths, index=index, format_func=lambda p: Path(p).name))


def results(path: Path) -> None:
    """Mean ± sd per grid point, the metric against each swept field, and parallel coordinates."""
    try:
        folder = load_sweep(path)
    except (ValueError, OSError) as e:  # a damaged sweep.json is a RunError, a ValueError
        st.error(f"Can't read this sweep: {quote(e, 400)}", icon=":material/error:")
        return
    frame = results_frame(folder)
    grid = folder.spec.get("grid") or {}
    varied = [k for k, v in grid.items() if len(v) > 1]
    metrics = metric_columns(frame) if not frame.empty else []
    if not metrics:
        st.info(f"No finished runs in this sweep yet ({folder.state}).", icon=":material/hourglass_top:")
        return
    default = next((m for m in PREFERRED if m in metrics), metrics[0])
    metric = st.selectbox("Metric", metrics, index=metrics.index(default), key=f"metric_{path.name}")
    table = summary_frame(frame, list(grid))
    cols = [*grid, "n", "failed", f"{metric}_mean", f"{metric}_std", f"{metric}_min", f"{metric}_max"]
    st.dataframe(table[cols], hide_index=True)
    st.caption(f"How to read this: one row per grid point; n finished runs (seeds), mean ± sd (sample standard "
               f"deviation over seeds), min and max of {metric}. Failed or stopped runs are counted, not averaged.")
    for field in varied:
        st.plotly_chart(charts.fig_metric_vs_field(frame, field, metric, [f for f in varied if f != field]),
                        key=f"field_{path.name}_{field}_{metric}")
        st.caption(charts.READ_FIELD)
    if len(varied) > 1:
        st.plotly_chart(charts.fig_parallel(frame, varied, metric), key=f"par_{path.name}_{metric}")
        st.caption(charts.READ_PARALLEL)
    if not varied:
        st.caption("Only seeds vary in this sweep: the table is the whole result.")
    open_run(folder)


def open_run(folder: SweepFolder) -> None:
    """Pick one of the sweep's finished runs: it becomes this session's current run, which the other pages'
    pickers open, and links go to them."""
    done = [r for r in folder.runs if r["state"] == "finished" and r.get("path")]
    if not done:
        return
    names = {f"{folder.path.name}/{r['name']}": r for r in done}  # a sweep's run as the Runs list names it

    def label(name: str) -> str:
        rec = names[name]
        point = " ".join(f"{k}={v}" for k, v in (rec.get("point") or {}).items())
        return f"{rec['name']} ({point + ', ' if point else ''}seed {rec['seed']})"

    st.subheader("Open a run", divider="gray")
    name = st.selectbox("Run", list(names), format_func=label, key=f"open_{folder.path.name}",
                        help="Every run of a sweep is an ordinary run: the other pages list it too.")
    session.set_current_run(name)
    task = (folder.spec or {}).get("task", "")
    with st.container(horizontal=True):
        nav.link("pages/inside.py", "Look inside", ":material/visibility:", run=name)
        if task in nav.PLAYGROUND:
            script, title = nav.PLAYGROUND[task]
            nav.link(script, f"Try it in {title}", ":material/play_circle:")
        nav.link("pages/runs.py", "Compare on the Runs page", ":material/folder_open:")
    st.caption("How to read this: the run picked here is the one the Inside page and the task's playground open "
               "next; the Runs page lists it as sweep/run.")
