"""The Sweeps page's grid form: task and preset, the values to try for the usual fields plus any other
config field or task option as ``KEY=V1,V2``, seeds, and where to run — turned into a SweepSpec."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

import streamlit as st

from rnn_core.config import CELLS
from rnn_core.sweep import SweepSpec, parse_grid, parse_seeds
from rnn_core.sweep.backend import RAY_ADDRESS_ENV, cpu_count
from rnn_core.tasks import list_tasks, task_class

from ..quote import quote

# (field, label, help) of the fields most sweeps vary; any other goes in "Other fields"
COMMON = [
    ("hidden_size", "Hidden sizes", "e.g. 8,16,32"),
    ("num_layers", "Layers", "e.g. 1,2"),
    ("lr", "Learning rates", "e.g. 0.001,0.01"),
    ("epochs", "Epochs", "e.g. 10"),
]


@dataclass(frozen=True)
class Launch:
    spec: SweepSpec
    backend: str
    workers: int


def grid_form() -> Launch | None:
    """Draw the form; on Launch return what to run, or None (errors are shown next to the button)."""
    tasks = {t["name"]: t for t in list_tasks()}
    with st.form("sweep_form", border=True):
        c1, c2 = st.columns(2)
        task = c1.selectbox("Task", list(tasks), key="sweep_task",
                            format_func=lambda n: f"{n} — {task_class(n).title}")
        presets = tasks[task]["presets"] if task else []
        preset = c2.selectbox("Preset", presets, key="sweep_preset",
                              index=presets.index("seed") if "seed" in presets else 0,
                              help="Every run starts from this preset; the grid changes only what it lists.")
        cells = st.multiselect("Cells", CELLS, default=[], key="sweep_cells", help="Empty: the preset's cell.")
        texts = {key: col.text_input(label, placeholder=hint, key=f"sweep_{key}")
                 for col, (key, label, hint) in zip(st.columns(len(COMMON)), COMMON)}
        other = st.text_area("Other fields", key="sweep_other",
                             placeholder="one per line, e.g. batch_size=16,64 or maxlen=100,200",
                             help="Any model or training field, or an option of the task, with its values.")
        c3, c4, c5 = st.columns(3)
        seeds_text = c3.text_input("Seeds", value="0,1,2", key="sweep_seeds",
                                   help="Every grid point is trained once per seed.")
        workers = c4.number_input("Runs at once", 1, cpu_count(), cpu_count(), key="sweep_workers",
                                  help="At most one per core.")
        backends = ["local"] + (["ray"] if importlib.util.find_spec("ray") else [])
        on_cluster = "ray" in backends and bool(os.environ.get(RAY_ADDRESS_ENV))
        backend = c5.radio("Where", backends, horizontal=True, key="sweep_backend", index=1 if on_cluster else 0,
                           help="local: this machine's cores. ray: the Ray cluster in UNROLLED_RAY_ADDRESS "
                                "(or a local Ray instance).")
        submitted = st.form_submit_button("Launch sweep", type="primary", icon=":material/play_arrow:")
    if not submitted or not task:
        return None
    items = ([f"cell={','.join(cells)}"] if cells else []) + [f"{k}={v}" for k, v in texts.items() if v.strip()]
    items += [line.strip() for line in other.splitlines() if line.strip()]
    try:
        spec = SweepSpec(task=task, preset=preset, grid=parse_grid(items), seeds=tuple(parse_seeds(seeds_text)))
        spec.runs()  # every run checked before anything starts
    except ValueError as e:
        st.error(f"Can't launch this sweep: {quote(e, 400)}", icon=":material/error:")
        return None
    return Launch(spec=spec, backend=backend or "local", workers=int(workers))
