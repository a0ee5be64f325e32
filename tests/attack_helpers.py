"""Shared parts of the attack suite (tests/test_attack_*.py): a runner that bounds a call's time and catches a
hang instead of blocking the suite, small valid run folders to damage, and the file fingerprints that show
nothing was lost. Each attack asserts a clean refusal, no traceback, a bounded time and nothing lost."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnn_core import build_model, get_task
from rnn_core.runs import save_run

LIMIT_S = 5.0  # a refusal must come at once; the slowest honest one here takes well under a second


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None
    trace: str = ""
    hung: bool = False
    seconds: float = 0.0


def bounded(fn, seconds: float = LIMIT_S, unblock: list[Path] = ()) -> Outcome:
    """Call ``fn()`` on a daemon thread, waiting at most ``seconds`` (a hang is reported, not suffered).

    ``unblock``: FIFOs to open for writing and close once the wait is over, so a reader stuck on one
    returns (the thread would otherwise stay blocked for the rest of the session)."""
    out = Outcome()

    def target() -> None:
        try:
            out.value = fn()
        except BaseException as e:
            out.error, out.trace = e, traceback.format_exc()

    start = time.perf_counter()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    out.seconds = time.perf_counter() - start
    out.hung = thread.is_alive()
    if out.hung:
        for fifo in unblock:
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass
        thread.join(2.0)
    return out


def make_run(root: Path, task_name: str = "letters", name: str = "victim", **task_options: Any) -> Path:
    """A small valid run folder (untrained weights; no history) of ``task_name`` in ``root``."""
    task = get_task(task_name, **task_options)
    mcfg, tcfg = task.configs()
    model = build_model(mcfg, seed=0)
    return save_run(model, task, tcfg, history=None, name=name, root=root)


def fingerprint(folder: Path) -> dict[str, str]:
    """Name → sha256 of every regular file in ``folder`` (links and special files by their kind)."""
    out = {}
    for p in sorted(folder.iterdir()):
        if p.is_symlink():
            out[p.name] = "link:" + os.readlink(p)
        elif p.is_file():
            out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[p.name] = "special"
    return out


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def one_line_error(text: str) -> bool:
    """stderr that ends in exactly one ``error: ...`` line and shows no traceback."""
    lines = [ln for ln in text.strip().splitlines() if ln.startswith("error:")]
    return "Traceback" not in text and len(lines) == 1 and text.strip().endswith(lines[0])
