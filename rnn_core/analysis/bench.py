"""Time the Dynamics analysis of a run and print its headline numbers:
``python -m rnn_core.analysis.bench [RUN ...] [--inputs 500] [--starts 1000] [--data-dir D]``.
Progress on stderr; the last line on stdout is one JSON object per run (a list)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import numpy as np
import torch


def bench_run(name: str, n_inputs: int, n_starts: int, data_dir: str | None) -> dict[str, Any]:
    """Load ``name``, collect states of ``n_inputs`` held-out examples, analyse; wall and CPU seconds per phase."""
    from ..runs import load_run
    from .analyse import Options, analyse, kick_agreement, word_kicks
    from .inputs import example_inputs

    wall, cpu = time.perf_counter(), time.process_time()
    run = load_run(name)
    data = example_inputs(run.task, n_inputs, data_dir)
    load_s = time.perf_counter() - wall
    labels = data.y if data.y.dim() == 1 else None

    def progress(f: float, msg: str) -> None:
        print(f"\r{name}: {f:5.0%} {msg:<60}", end="", file=sys.stderr, flush=True)

    dyn = analyse(run.model, data.x, data.lengths, labels, Options(n_starts=n_starts), progress,
                  init_seed=run.train_cfg.seed)
    print(file=sys.stderr)
    out: dict[str, Any] = {
        "run": name,
        "inputs": len(data),
        "states": int(dyn.states.states.shape[0]),
        "seconds_total": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
        "seconds_load": load_s,
        "seconds": dyn.seconds,
        "cpu_seconds_by_phase": dyn.cpu_seconds,
        "load_average_1min": os.getloadavg()[0],
        "torch_threads": torch.get_num_threads(),
        "summary": dyn.summary(),
    }
    if len(dyn.fixed):
        lead = dyn.eigenvalues[int(np.argmin(dyn.fixed.q))]
        out["slowest_point_top_eigenvalues"] = [[round(z.real, 5), round(z.imag, 5)] for z in lead[:6]]
    if data.meta.get("freq") is not None:
        from .rotation import rotation_vs_cycles

        out["rotation_vs_input"] = rotation_vs_cycles(dyn, np.asarray(data.meta["freq"]), int(data.lengths.max()))
    if run.model.embed is not None and run.task.name == "imdb" and len(dyn.fixed):
        from .word_weights import word_weights

        start = time.perf_counter()
        weights = word_weights(run.model.cfg.vocab_size, data_dir)
        kicks = word_kicks(run.model, dyn)
        out["kick_vs_tfidf"] = dict(kick_agreement(kicks, weights), seconds=time.perf_counter() - start)
        vocab = run.task.vocab_obj()  # type: ignore[attr-defined]
        order = np.argsort(kicks)
        out["most_negative_kicks"] = [vocab.token_of(int(i)) for i in order[:10]]
        out["most_positive_kicks"] = [vocab.token_of(int(i)) for i in order[::-1][:10]]
    return out


def main(argv: list[str] | None = None) -> int:
    from ..cli import guarded

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("runs", nargs="*", default=["imdb-gru", "sine-tiny"])
    ap.add_argument("--inputs", type=int, default=500)
    ap.add_argument("--starts", type=int, default=1000)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: leave torch's setting)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    return guarded(lambda: _report([bench_run(r, args.inputs, args.starts, args.data_dir) for r in args.runs]))


def _report(results: list[dict[str, Any]]) -> None:
    for res in results:
        print(f"{res['run']}: {res['seconds_total']:.1f} s wall ({res['cpu_seconds']:.1f} s CPU) for "
              f"{res['inputs']} inputs / {res['states']} states / {res['summary']['starts']} starts; "
              f"load average {res['load_average_1min']:.1f}", file=sys.stderr)
    print(json.dumps(results, default=float))


if __name__ == "__main__":
    sys.exit(main())
