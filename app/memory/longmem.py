"""The Memory page's accuracy-vs-N view: test accuracy on the recall task against the number of distractors N, one
line per cell with its spread over seeds — from a sweep trained by the app (Sweeps' background registry) or the
bundled one, so the chart is there before anyone trains.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from rnn_core.runs.files import pretrained_dir
from rnn_core.sweep import SweepSpec, list_sweeps, load_sweep, parse_grid, parse_seeds, results_frame
from rnn_core.tasks.recall import TARGETS

from .. import session
from ..sweeps.charts import fig_metric_vs_field
from ..sweeps.view import sweep_jobs
from . import figures

TASK, FIELD, METRIC = "recall", "distractors", "test_accuracy"
BUNDLED = "memory-recall-sweep"  # the folder in pretrained/ (reproduce: see DEFAULT_GRID and the README)
DEFAULT_GRID = {"cell": "rnn,lstm,gru", FIELD: "5,10,20,40"}
DEFAULT_SEEDS = "0,1,2"
DEFAULT_RUN = f"{BUNDLED}/r018-cell-lstm-distractors-20-seed0"  # the diagnostics' first run: kept its probe
POLL_SECONDS = 2.0


def is_memory_sweep(path: Path) -> bool:
    """A sweep of the recall task whose grid varies N and the cell."""
    try:
        spec = load_sweep(path).spec
    except (ValueError, OSError):
        return False
    grid = spec.get("grid") or {}
    return spec.get("task") == TASK and len(grid.get(FIELD, [])) > 1 and "cell" in grid


def sweeps() -> list[Path]:
    """Recall sweeps over N and cell: yours newest first, then the bundled one."""
    mine = [p for p in list_sweeps() if is_memory_sweep(p)]
    bundled = pretrained_dir() / BUNDLED
    return mine + ([bundled] if bundled.is_dir() else [])


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy per N (rows) and cell (columns) as 'mean ± sd (min–max)' over finished seeds."""
    done = frame[(frame["state"] == "finished") & frame[METRIC].notna()] if METRIC in frame else frame[:0]
    if done.empty:
        return pd.DataFrame()
    stats = done.groupby([FIELD, "cell"])[METRIC].agg(["mean", "std", "min", "max", "count"])
    text = stats.apply(lambda r: f"{r['mean']:.1%} ± {0 if pd.isna(r['std']) else r['std']:.1%} "
                                 f"({r['min']:.0%}–{r['max']:.0%}, {int(r['count'])} seeds)", axis=1)
    return text.unstack("cell").rename_axis(index="N", columns=None)


def chart(path: Path, key: str = "") -> None:
    """Accuracy against N for the sweep at ``path``, with its table; ``key`` prefixes the chart's key, for the same
    sweep drawn twice on one page (picked below, and live as this session's sweep)."""
    try:
        folder = load_sweep(path)
    except (ValueError, OSError) as e:
        st.error(f"Can't read this sweep: {e}", icon=":material/error:")
        return
    frame = results_frame(folder)
    if frame.empty or METRIC not in frame:
        st.info(f"No finished runs in this sweep yet ({folder.state}).", icon=":material/hourglass_top:")
        return
    base = fig_metric_vs_field(frame, FIELD, METRIC, ["cell"])
    st.plotly_chart(figures.fig_vs_n(base, 1 / len(TARGETS)), width="stretch", key=f"{key}vs_n_{path.name}")
    st.caption(figures.READ["vs_n"])
    st.dataframe(table(frame), width="stretch")
    seconds = pd.to_numeric(frame["seconds"], errors="coerce").sum()
    st.caption(f"Test accuracy, mean ± sample sd over seeds (min–max). {len(frame)} runs, "
               f"{seconds / 60:.1f} CPU-minutes of training in all ({folder.state}).")


def launch_form() -> None:
    """Train the same grid yourself (in the background, on this machine's cores)."""
    with st.form("memory_sweep"):
        c1, c2, c3 = st.columns(3)
        cells = c1.text_input("Cells", DEFAULT_GRID["cell"])
        ns = c2.text_input("N values", DEFAULT_GRID[FIELD], help="Distractor counts, 1 to 200, comma-separated.")
        seeds = c3.text_input("Seeds", DEFAULT_SEEDS, help="At least 3 give a spread worth reading.")
        if not st.form_submit_button("Train this sweep", icon=":material/grid_on:"):
            return
    try:
        grid = parse_grid([f"cell={cells}", f"{FIELD}={ns}"])
        spec = SweepSpec(TASK, "seed", grid, seeds=tuple(parse_seeds(seeds)))
        st.session_state[session.MEMORY_SWEEP] = sweep_jobs().start(session.session_id(), spec)
    except ValueError as e:
        st.error(f"Can't launch this sweep: {e}", icon=":material/error:")


def _progress() -> None:
    view = sweep_jobs().view(session.session_id(), st.session_state.get(session.MEMORY_SWEEP))
    if view is None:
        return
    done = sum(r["state"] not in ("pending", "running") for r in view.runs)
    st.progress(done / max(len(view.runs), 1), text=f"Sweep {view.state}: {done} of {len(view.runs)} runs done, "
                f"{view.elapsed:.0f} s")
    if view.message:
        st.warning(view.message, icon=":material/warning:")
    if view.path is not None and done:
        chart(view.path, key="live_")


def live() -> None:
    """This session's sweep, polled while it runs; nothing when there is none."""
    view = sweep_jobs().view(session.session_id(), st.session_state.get(session.MEMORY_SWEEP))
    active = view is not None and view.active
    st.fragment(run_every=POLL_SECONDS if active else None)(_progress)()


def pick() -> Path | None:
    """A picker over the recall sweeps (None when there is none at all)."""
    found = sweeps()
    if not found:
        st.info("No accuracy-vs-N sweep yet: train one below.", icon=":material/grid_on:")
        return None
    labels = {str(p): p.name + (" (bundled)" if p.parent == pretrained_dir() else "") for p in found}
    chosen = st.selectbox("Sweep", list(labels), format_func=labels.__getitem__, key=session.MEMORY_SWEEP_SHOWN)
    return Path(chosen) if chosen else None
