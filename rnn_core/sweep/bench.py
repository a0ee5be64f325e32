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


def bench_sweep(ray: bool = False, log: Callable[[str], None] = print) -> dict[str, Any]:
    """``{"runs", "workers", "sequential_s" (the faster of all cores / one thread), "local_s", "ratio",
    "load_before", "load_after"}`` and, with
    ``ray``, ``ray_init_s``, ``ray_s`` and ``ray_overhead_per_run_s`` (extra seconds per run over local)."""
    from . import preload  # noqa: F401 - warm torch up first, so neither side pays it inside its timing

    n = len(SPEC.runs())
    workers = min(cpu_count(), n)
    load_before = os.getloadavg()[0]
    out: dict[str, Any] = {"runs": n, "workers": workers, "cores": cpu_count(), "load_before": round(load_before, 2)}
    with tempfile.TemporaryDirectory(prefix="unrolled-bench-sweep-") as root:
        log(f"sweep bench: {n} letters runs (rnn, lstm, gru × 3 seeds), {workers} workers; load {load_before:.2f}")
        # One after another both with every core (as `python -m rnn_core train` runs) and with one thread
        # (tiny models lose more to thread hand-offs than they gain); the goal holds against the faster one.
        out["sequential_all_cores_s"] = round(_sequential(SPEC, root, "sequential", cpu_count()), 2)
        out["sequential_1_thread_s"] = round(_sequential(SPEC, root, "sequential-1", 1), 2)
        out["sequential_s"] = min(out["sequential_all_cores_s"], out["sequential_1_thread_s"])
        log(f"sequential: {out['sequential_all_cores_s']:.2f}s with {cpu_count()} threads, "
            f"{out['sequential_1_thread_s']:.2f}s with 1")
        local_s, _ = _timed_sweep(SPEC, root, "local", backend="local")
        out["local_s"] = round(local_s, 2)
        out["ratio"] = round(local_s / out["sequential_s"], 3)
        log(f"local backend: {local_s:.2f}s = {out['ratio']:.3f}× the faster sequential (goal ≤ 0.65)")
        if ray:
            import ray as ray_mod

            start = time.perf_counter()
            ray_mod.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
            out["ray_init_s"] = round(time.perf_counter() - start, 2)
            try:
                ray_s, _ = _timed_sweep(SPEC, root, "ray", backend="ray")
                log(f"ray backend, first sweep: {ray_s:.2f}s (init {out['ray_init_s']:.2f}s before it)")
                ray_warm, _ = _timed_sweep(SPEC, root, "ray-warm", backend="ray")  # workers already started
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
