"""The default sweep backend: a pool of worker processes on this machine, at most one per core, each training
one run after another with ``cores // workers`` torch threads; a run whose worker dies takes only itself down
(a new worker takes the next run). A single-threaded caller (the
CLI) whose workers each use one torch thread forks them directly; otherwise (the app's server, or fewer
workers than cores) they fork from a forkserver, since forking a threaded process can copy a held lock and
libgomp hangs in a child that starts a thread team after its parent had one. Either way torch and rnn_core
are imported once, before the first fork, and a worker is reused run after run, so a run starts in milliseconds.

Each worker talks back over its own pipe (not one shared queue): a worker killed mid-message can then
neither hold a lock other workers need nor garble their messages, and its pipe's end-of-file is how the
caller learns it died.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import multiprocessing as mp
import os
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from .backend import Message, cpu_count, error_text
from .spec import RunSpec

# "__main__" first: the caller's main script is then imported once in the forkserver (as __mp_main__) rather
# than again in every worker (the streamlit or pytest launcher would cost each run a second of imports).
PRELOAD = ["__main__", "rnn_core.sweep.preload"]


def _die_with_parent(parent: int) -> None:
    """End this worker when the sweep's process is gone (killed): an orphan would train for nobody. The kernel
    does it when this process's parent (the sweep, or its forkserver, which exits with the sweep) dies —
    PR_SET_PDEATHSIG works even while this process is stuck — and a thread watching the sweep's pid backs it up."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass


def _serve(conn: Connection, data_dir: str | None, threads: int, parent: int) -> None:
    """A worker process: train each run it is sent on ``conn``, one after another, sending that run's progress and
    then its payload (or its failure); ``None`` or the caller's end closing ends it. One process serves many runs,
    so its start-up (the fork's copy-on-write faults, torch's lazy set-up, a task's parsed corpus) is paid once."""
    from .worker import train_run

    _die_with_parent(parent)
    while True:
        try:
            run: RunSpec | None = conn.recv()
        except (EOFError, OSError):
            return
        if run is None:
            return
        index = run.index

        def report(msg: dict[str, Any], index: int = index) -> None:
            conn.send(Message("progress", index, msg))

        conn.send(Message("started", index, {"pid": os.getpid()}))
        try:
            payload = train_run(run, report, data_dir, threads)
            conn.send(Message("done", index, payload))
        except BaseException as exc:  # every failure becomes that run's message
            conn.send(Message("failed", index, {"message": error_text(exc)}))
            if not isinstance(exc, Exception):  # interrupted or told to exit: this worker is done
                return


@dataclass
class _Worker:
    proc: Any
    conn: Connection  # the caller's end of the worker's duplex pipe
    run: int | None = None  # index of the run it is training; None while idle


class LocalBackend:
    """Runs the RunSpecs on ``workers`` processes (default and maximum: the core count), each process training
    one run at a time and then the next; a worker that dies fails only its run, and a new one takes its place."""

    name = "local"

    def __init__(self, workers: int | None = None, data_dir: str | None = None, start_method: str | None = None):
        cores = cpu_count()
        self.workers = max(1, min(workers or cores, cores))
        self.threads = max(1, cores // self.workers)
        self.data_dir = data_dir
        # Fork only where it is safe: a caller with threads may be holding a lock the copy would keep forever,
        # and a child that starts an OpenMP team after its parent used one waits for threads that were never
        # copied (libgomp is not fork-safe) — so one torch thread per worker, or a forkserver.
        safe_fork = threading.active_count() == 1 and self.threads == 1
        self.start_method = start_method or ("fork" if safe_fork else "forkserver")
        self._ctx: Any = mp.get_context(self.start_method)  # spawn / forkserver / fork: all have Process and Pipe
        if self.start_method == "forkserver":
            self._ctx.set_forkserver_preload(PRELOAD)
        else:
            importlib.import_module(PRELOAD[-1])  # warm up here, once, rather than in every forked worker
        self._pending: list[RunSpec] = []
        self._pool: list[_Worker] = []  # at most ``workers`` processes, each reused run after run

    def start(self, runs: list[RunSpec]) -> None:
        self._pending = list(runs)
        self._launch()

    def _spawn(self) -> _Worker:
        mine, theirs = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=_serve, name=f"unrolled-sweep-worker-{len(self._pool)}", daemon=True,
                                 args=(theirs, self.data_dir, self.threads, os.getpid()))
        proc.start()
        theirs.close()  # the worker holds the only other end, so its death reads as end-of-file
        worker = _Worker(proc, mine)
        self._pool.append(worker)
        return worker

    def _launch(self) -> None:
        """Hand pending runs to idle workers, starting workers (up to ``workers``) when none is idle."""
        while self._pending:
            worker = next((w for w in self._pool if w.run is None), None)
            if worker is None:
                if len(self._pool) >= self.workers:
                    return
                worker = self._spawn()
            run = self._pending[0]
            try:
                worker.conn.send(run)
            except OSError:  # it died while idle: replace it, the run waits for the next one
                self._drop(worker)
                continue
            self._pending.pop(0)
            worker.run = run.index

    def busy(self) -> bool:
        return bool(self._pending) or any(w.run is not None for w in self._pool)

    def poll(self, timeout: float) -> list[Message]:
        out: list[Message] = []
        busy = {w.conn: w for w in self._pool if w.run is not None}
        ready = wait(list(busy), timeout=timeout) if busy else []
        for worker in (w for conn, w in busy.items() if conn in ready):
            try:
                while worker.run is not None and worker.conn.poll():
                    msg: Message = worker.conn.recv()
                    out.append(msg)
                    if msg.kind in ("done", "failed"):
                        worker.run = None  # free for the next run
            except (EOFError, OSError):
                index = worker.run
                code = self._drop(worker)
                if index is not None:
                    out.append(Message("failed", index, {"message": f"the worker process died (exit code {code})"}))
        if not busy and timeout > 0:
            time.sleep(min(timeout, 0.05))
        self._launch()
        return out

    def _drop(self, worker: _Worker) -> int | None:
        """Forget a worker (killing it if it still runs); its exit code."""
        if worker in self._pool:
            self._pool.remove(worker)
        worker.conn.close()
        if worker.proc.is_alive():
            worker.proc.kill()
        worker.proc.join(timeout=5)
        return worker.proc.exitcode

    def cancel(self) -> None:
        """Drop what is pending and end every worker at once (a running run is killed mid-batch)."""
        self._pending.clear()
        for worker in list(self._pool):
            self._drop(worker)

    def close(self) -> None:
        self.cancel()
