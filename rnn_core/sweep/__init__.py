"""Sweeps: a grid of runs (task + preset, a grid over config fields and task options, seeds) trained on a
local process pool or a Ray cluster, each run saved as an ordinary run folder inside the sweep's folder.

    from rnn_core.sweep import SweepSpec, run_sweep, results_frame, summary_frame
    folder = run_sweep(SweepSpec("letters", "seed", {"cell": ["rnn", "gru"]}, seeds=(0, 1, 2)))
    table = summary_frame(results_frame(folder), ["cell"])   # val_accuracy_mean, _std, _min, _max per cell
"""

from .aggregate import grid_keys, metric_columns, results_frame, summarize, summary_frame
from .backend import Backend, Message, make_backend
from .run import SweepEvent, iter_sweep, run_sweep
from .spec import RunSpec, SweepSpec, parse_grid, parse_seeds
from .store import SweepFolder, is_sweep, list_sweeps, load_sweep

__all__ = [
    "Backend",
    "Message",
    "RunSpec",
    "SweepEvent",
    "SweepFolder",
    "SweepSpec",
    "grid_keys",
    "is_sweep",
    "iter_sweep",
    "list_sweeps",
    "load_sweep",
    "make_backend",
    "metric_columns",
    "parse_grid",
    "parse_seeds",
    "results_frame",
    "run_sweep",
    "summarize",
    "summary_frame",
]
