"""The sweep benchmark: 9 letters runs (rnn, lstm, gru × seeds 0, 1, 2, the seed preset) as one sweep on
the local backend against the same 9 runs trained and saved one after another in this process; with
``ray``, the same sweep on a local Ray instance too, for its overhead per run. Prints figures, asserts none."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

import torch

from .backend import cpu_count
from .run import run_sweep
from .spec import SweepSpec
from .store import SweepFolder
from .worker import train_run

SPEC = SweepSpec("letters", "seed", {"cell": ["rnn", "lstm", "gru"]}, seeds=(0, 1, 2))
QUICK_SPEC = SweepSpec("letters", "seed", {"cell": ["rnn", "lstm", "gru"], "epochs": [10]}, seeds=(0, 1, 2))


def _sequential(spec: SweepSpec, root: str, name: str, threads: int) -> float:
    """The same runs, one after another in this process with ``threads`` torch threads, each trained and saved
    exactly as a sweep worker and caller would."""
    runs = spec.runs()
    folder = SweepFolder.create(spec, runs, name=name, root=root)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        start = time.perf_counter()
        for run in runs:
            folder.save_payload(run, train_run(run))
        return time.perf_counter() - start
    finally:
        torch.set_num_threads(before)


def _timed_sweep(spec: SweepSpec, root: str, name: str, **kwargs: Any) -> tuple[float, SweepFolder]:
    start = time.perf_counter()
    folder = run_sweep(spec, root=root, name=name, **kwargs)
    seconds = time.perf_counter() - start
    bad = [f"{r['name']}: {r['state']} ({r.get('message')})" for r in folder.runs if r["state"] != "finished"]
    if bad:
        raise RuntimeError(f"the {name} sweep did not finish {len(bad)} runs after {seconds:.1f}s: {'; '.join(bad)}")
    return seconds, folder


def bench_sweep(ray: bool = False, log: Callable[[str], None] = print, quick: bool = False) -> dict[str, Any]:
    """``{"runs", "workers", "cores", "sequential_s" (one after another in this process with torch's default
    threads), "sequential_1_thread_s", "local_s" (the local pool: one worker per core, one thread each), "ratio"
    (local / sequential; goal ≤ 0.65), "ratio_vs_1_thread", "load_before", "load_after"}`` and, with ``ray``,
    ``ray_init_s``, ``ray_s``, ``ray_warm_s`` and ``ray_overhead_per_run_s`` (extra seconds per run over local).
    ``quick``: 10 epochs a run instead of the preset's 100 (a smoke check of the code, not the goal's figure)."""
    from . import preload  # noqa: F401 - warm torch up first, so neither side pays it inside its timing

    spec = QUICK_SPEC if quick else SPEC
    n = len(spec.runs())
    workers = min(cpu_count(), n)
    default_threads = torch.get_num_threads()
    load_before = os.getloadavg()[0]
    out: dict[str, Any] = {"runs": n, "workers": workers, "cores": cpu_count(), "default_threads": default_threads,
                           "load_before": round(load_before, 2)}
    with tempfile.TemporaryDirectory(prefix="unrolled-bench-sweep-") as root:
        log(f"sweep bench{' (quick)' if quick else ''}: {n} letters runs (rnn, lstm, gru × 3 seeds), "
            f"{workers} workers; load {load_before:.2f}")
        # The goal's baseline: the runs one after another as `python -m rnn_core train` would run them (torch's
        # default threads). One thread is timed too: tiny models can lose more to thread hand-offs than they gain.
        out["sequential_s"] = round(_sequential(spec, root, "sequential", default_threads), 2)
        out["sequential_1_thread_s"] = round(_sequential(spec, root, "sequential-1", 1), 2)
        log(f"sequential: {out['sequential_s']:.2f}s with {default_threads} threads (default), "
            f"{out['sequential_1_thread_s']:.2f}s with 1")
        local_s, _ = _timed_sweep(spec, root, "local", backend="local")
        out["local_s"] = round(local_s, 2)
        out["ratio"] = round(local_s / out["sequential_s"], 3)
        out["ratio_vs_1_thread"] = round(local_s / out["sequential_1_thread_s"], 3)
        log(f"local backend ({workers} workers × {max(1, cpu_count() // workers)} thread): {local_s:.2f}s"
            f" = {out['ratio']:.3f}× sequential (goal ≤ 0.65); {out['ratio_vs_1_thread']:.3f}× the 1-thread sequential")
        if ray:
            from .ray_backend import connect

            start = time.perf_counter()
            ray_mod = connect(num_cpus=workers)  # a local instance, rnn_core shipped to it as for any cluster
            out["ray_init_s"] = round(time.perf_counter() - start, 2)
            try:
                ray_s, _ = _timed_sweep(spec, root, "ray", backend="ray")
                log(f"ray backend, first sweep: {ray_s:.2f}s (init {out['ray_init_s']:.2f}s before it)")
                ray_warm, _ = _timed_sweep(spec, root, "ray-warm", backend="ray")  # workers already started
                log(f"ray backend, second sweep: {ray_warm:.2f}s")
            finally:
                ray_mod.shutdown()
            out["ray_s"], out["ray_warm_s"] = round(ray_s, 2), round(ray_warm, 2)
            per_slot = n / workers  # runs each worker trains in turn
            out["ray_overhead_per_run_s"] = round((ray_s - local_s) / per_slot, 3)
            out["ray_warm_overhead_per_run_s"] = round((ray_warm - local_s) / per_slot, 3)
            log(f"ray backend: init {out['ray_init_s']:.2f}s, first sweep {ray_s:.2f}s, warm sweep {ray_warm:.2f}s; "
                f"overhead per run vs local {out['ray_overhead_per_run_s']:.3f}s (warm "
                f"{out['ray_warm_overhead_per_run_s']:.3f}s)")
    out["load_after"] = round(os.getloadavg()[0], 2)
    log(f"load average after: {out['load_after']:.2f}")
    return out
