"""Background sweeps for the app: a sweep runs ``rnn_core.sweep.run_sweep`` on a worker thread, its events
copied under a lock into what a page reads (``SweepView``); Stop sets the sweep's stop Event. A sweep belongs
to the browser session that launched it. Workers never call ``st.*``; the page polls from a fragment."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnn_core.sweep import SweepEvent, SweepSpec, run_sweep

ACTIVE = ("starting", "running")
KEEP_PER_SESSION = 5  # ended sweeps a session keeps in memory (their folders are on disk anyway)


@dataclass(frozen=True)
class SweepView:
    """A consistent copy of a sweep's state: its runs' records (sweep.json rows) and latest progress."""

    id: str
    spec: SweepSpec
    backend: str
    state: str  # starting | running | finished | stopped | failed
    message: str | None
    path: Path | None
    runs: tuple[dict[str, Any], ...]
    progress: dict[int, dict[str, Any]]
    elapsed: float

    @property
    def active(self) -> bool:
        return self.state in ACTIVE


@dataclass
class SweepJob:
    session: str
    spec: SweepSpec
    backend: str
    workers: int | None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    stop_event: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _state: str = "starting"
    _message: str | None = None
    _path: Path | None = None
    _runs: list[dict[str, Any]] = field(default_factory=list)
    _progress: dict[int, dict[str, Any]] = field(default_factory=dict)
    _ended: float | None = None

    def on_event(self, event: SweepEvent) -> None:
        with self._lock:
            self._path = event.folder.path
            self._runs = [dict(r) for r in event.folder.runs]
            if event.kind == "started":
                self._state = "running"
            elif event.kind == "run" and event.progress:
                self._progress[event.index] = dict(event.progress)

    def work(self, root: str | Path | None) -> None:
        """The worker thread: run the sweep to its end and record how it ended (never raises)."""
        try:
            folder = run_sweep(self.spec, on_event=self.on_event, backend=self.backend, workers=self.workers,
                               root=root, stop_event=self.stop_event)
            state, message = folder.state, None
            failed = sum(r["state"] == "failed" for r in folder.runs)
            if failed:
                message = f"{failed} of {len(folder.runs)} runs failed; their messages are in the table."
        except Exception as exc:  # a broken backend must reach the page as a message
            state, message = "failed", f"The sweep could not run: {exc}"
        with self._lock:
            self._state, self._message, self._ended = state, message, time.monotonic()

    def view(self) -> SweepView:
        with self._lock:
            end = self._ended if self._ended is not None else time.monotonic()
            return SweepView(id=self.id, spec=self.spec, backend=self.backend, state=self._state,
                             message=self._message, path=self._path, runs=tuple(dict(r) for r in self._runs),
                             progress={k: dict(v) for k, v in self._progress.items()}, elapsed=end - self.started)


class SweepJobs:
    """Every session's sweeps in this server process."""

    def __init__(self, root: str | Path | None = None):
        self.root = root
        self._lock = threading.Lock()
        self._jobs: dict[str, SweepJob] = {}

    def start(self, session: str, spec: SweepSpec, backend: str = "local", workers: int | None = None) -> str:
        """Check the grid (ValueError with what to fix), then run it on a new thread; returns the sweep's id."""
        spec.runs()
        job = SweepJob(session=session, spec=spec, backend=backend, workers=workers)
        with self._lock:
            mine = sorted((j for j in self._jobs.values() if j.session == session and j._ended is not None),
                          key=lambda j: j.started)
            for old in mine[: max(0, len(mine) - KEEP_PER_SESSION + 1)]:
                self._jobs.pop(old.id, None)
            self._jobs[job.id] = job
        threading.Thread(target=job.work, args=(self.root,), name=f"unrolled-sweep-{job.id}", daemon=True).start()
        return job.id

    def view(self, session: str, job_id: str | None) -> SweepView | None:
        with self._lock:
            job = self._jobs.get(job_id or "")
        return job.view() if job is not None and job.session == session else None

    def stop(self, session: str, job_id: str) -> bool:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.session != session:
            return False
        job.stop_event.set()
        return True

    def wait(self, job_id: str, timeout: float) -> bool:
        """Block until the sweep has ended (tests); True when it did within ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                job = self._jobs.get(job_id)
            if job is None or job._ended is not None:
                return True
            time.sleep(0.1)
        return False
