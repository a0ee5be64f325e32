"""The CLI's sweep progress on stderr: a line when a run starts, ends or fails, and a progress line per
running run at most every few seconds, each prefixed with how many runs are done."""

from __future__ import annotations

import time
from collections.abc import Callable

from .run import SweepEvent

EVERY = 5.0  # seconds between progress lines of one run


class SweepLog:
    """``on_event`` for ``run_sweep`` that writes readable lines through ``log``."""

    def __init__(self, log: Callable[[str], None]):
        self.log = log
        self.last: dict[int, float] = {}

    def __call__(self, event: SweepEvent) -> None:
        folder = event.folder
        total = len(folder.runs)
        done = sum(r["state"] not in ("pending", "running") for r in folder.runs)
        if event.kind == "started":
            self.log(f"sweep {folder.path} ({total} runs, {folder.spec.get('backend')} backend, "
                     f"{folder.spec.get('workers')} at once)")
            return
        if event.kind == "ended":
            self.log(f"sweep {event.state}: {done}/{total} runs done")
            return
        rec, label = event.record, _label(event.record)
        if event.progress:
            now = time.monotonic()
            p = event.progress
            if "epoch" in p and now - self.last.get(event.index, 0.0) >= EVERY:
                self.last[event.index] = now
                metric = p.get("metric")
                tail = f", loss {p['loss']:.4f}" if p.get("loss") is not None else ""
                tail += f", metric {metric:.4f}" if metric is not None else ""
                self.log(f"[{done}/{total}] {label}: epoch {p['epoch']}/{p.get('epochs')}{tail}")
            return
        if rec["state"] == "running":
            self.log(f"[{done}/{total}] {label}: started")
        elif rec["state"] == "failed":
            self.log(f"[{done}/{total}] {label}: FAILED — {rec.get('message')}")
        else:
            metrics = rec.get("final_metrics") or {}
            shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()
                              if k.startswith(("val_", "test_")) and isinstance(v, (int, float)))
            self.log(f"[{done}/{total}] {label}: {rec['state']} in {rec.get('seconds') or 0:.1f}s ({shown})")


def _label(rec: dict) -> str:
    point = " ".join(f"{k}={v}" for k, v in (rec.get("point") or {}).items())
    return f"{rec['name']} ({point + ' ' if point else ''}seed={rec.get('seed')})"
