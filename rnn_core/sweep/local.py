"""The default sweep backend: one process per run on this machine, at most one per core, each run with
``cores // workers`` torch threads; a run that dies takes only itself down. A single-threaded caller (the
CLI) whose workers each use one torch thread forks them directly; otherwise (the app's server, or fewer
workers than cores) they fork from a forkserver, since forking a threaded process can copy a held lock and
libgomp hangs in a child that starts a thread team after its parent had one. Either way torch and rnn_core
are imported once, before the first fork, so a run starts in milliseconds.

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


def _child(run: RunSpec, conn: Connection, data_dir: str | None, threads: int, parent: int) -> None:
    """A worker process: train ``run``, sending progress and then its payload (or its failure) on ``conn``."""
    from .worker import train_run

    _die_with_parent(parent)
    conn.send(Message("started", run.index, {"pid": os.getpid()}))
    try:
        payload = train_run(run, lambda msg: conn.send(Message("progress", run.index, msg)), data_dir, threads)
        conn.send(Message("done", run.index, payload))
    except BaseException as exc:  # every failure becomes that run's message
        conn.send(Message("failed", run.index, {"message": error_text(exc)}))
    finally:
        conn.close()


class LocalBackend:
    """Runs each RunSpec in its own process, ``workers`` at a time (default and maximum: the core count)."""

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
        self._running: dict[int, tuple[Any, Connection]] = {}  # index -> (Process, its pipe's reading end)

    def start(self, runs: list[RunSpec]) -> None:
        self._pending = list(runs)
        self._launch()

    def _launch(self) -> None:
        while self._pending and len(self._running) < self.workers:
            run = self._pending.pop(0)
            reader, writer = self._ctx.Pipe(duplex=False)
            proc = self._ctx.Process(target=_child, name=f"unrolled-sweep-{run.index}", daemon=True,
                                     args=(run, writer, self.data_dir, self.threads, os.getpid()))
            proc.start()
            writer.close()  # the child holds the only writing end, so its death reads as end-of-file
            self._running[run.index] = (proc, reader)

    def busy(self) -> bool:
        return bool(self._pending or self._running)

    def poll(self, timeout: float) -> list[Message]:
        out: list[Message] = []
        by_conn = {conn: index for index, (_proc, conn) in self._running.items()}
        for conn in wait(list(by_conn), timeout=timeout) if by_conn else []:
            index = by_conn[conn]  # type: ignore[index]
            assert isinstance(conn, Connection)  # wait() returns the connections it was given
            try:
                while conn.poll():
                    msg: Message = conn.recv()
                    out.append(msg)
                    if msg.kind in ("done", "failed"):
                        self._finish(index)
                        break
            except (EOFError, OSError):
                proc = self._finish(index)
                code = proc.exitcode if proc is not None else None
                out.append(Message("failed", index, {"message": f"the worker process died (exit code {code})"}))
        if not by_conn and timeout > 0:
            time.sleep(min(timeout, 0.05))
        self._launch()
        return out

    def _finish(self, index: int) -> Any:
        entry = self._running.pop(index, None)
        if entry is None:
            return None
        proc, conn = entry
        conn.close()
        proc.join(timeout=5)
        return proc

    def cancel(self) -> None:
        self._pending.clear()
        for proc, _conn in self._running.values():
            proc.kill()
        for index in list(self._running):
            self._finish(index)

    def close(self) -> None:
        self.cancel()
