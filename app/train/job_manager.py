"""Background training jobs: one worker thread per job, a stop Event, lock-protected snapshots of its
progress and curves, and a process-wide cap on concurrent jobs with a first-in-first-out queue.

Workers never call ``st.*``: pages poll ``JobManager.snapshot`` from an ``st.fragment`` instead. A job
belongs to the browser session that submitted it; other sessions cannot see or stop it.

Threads: ``torch.set_num_threads`` is process-global (it is not per thread), so the manager sets it once,
to ``max(1, cpu_count // max_jobs)``, so that ``max_jobs`` jobs running together use about every core and
no more. ``TrainConfig.num_threads`` stays 0 in jobs so ``fit`` leaves that setting alone.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

import torch

from .job_state import ACTIVE, DONE, Job, JobSpec, Snapshot

__all__ = ["ACTIVE", "DONE", "Job", "JobManager", "JobSpec", "Snapshot", "TooManyJobs", "default_max_jobs"]

log = logging.getLogger(__name__)

MAX_QUEUED_PER_SESSION = 3  # queued or running jobs one browser session may have at once
KEEP_DONE_PER_SESSION = 10  # finished jobs a session keeps in memory (their runs are on disk anyway)
KEEP_DONE_SECONDS = 3600.0  # a finished job of any session is forgotten this long after it ended (closed tabs)


def default_max_jobs() -> int:
    """Concurrent jobs allowed: env ``UNROLLED_MAX_JOBS`` when set to a positive whole number, else the CPU count."""
    raw = os.environ.get("UNROLLED_MAX_JOBS", "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value >= 1:
            return value
        log.warning("UNROLLED_MAX_JOBS=%r is not a positive whole number; using the CPU count", raw)
    return max(1, os.cpu_count() or 1)


Target = Callable[[Job], None]


class TooManyJobs(ValueError):
    """A session asked for more than MAX_QUEUED_PER_SESSION jobs at once."""


def _warm_up() -> None:
    """Build a throwaway optimizer: torch imports its compiler stack (several seconds) on the first one, and
    doing that now, while a person is still choosing settings, keeps it out of their first job's start."""
    try:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    except Exception:  # only a speed-up; a failure here shows up in the job itself
        log.debug("warm-up failed", exc_info=True)


class JobManager:
    """Runs jobs on worker threads, at most ``max_jobs`` at once; the rest wait in a FIFO queue.

    ``target(job)`` does the work (default: ``app.train.worker.train_job``); it reads ``job.spec``, reports
    through ``job.set`` and by passing ``job`` to ``fit`` as a callback, must return soon after
    ``job.stop_event`` is set, and sets the final state.
    An exception in ``target`` marks the job "failed" with the exception's message (no traceback reaches a page).
    """

    def __init__(self, max_jobs: int | None = None, target: Target | None = None, set_threads: bool = True,
                 warm_up: bool = True):
        self.max_jobs = max_jobs if max_jobs is not None else default_max_jobs()
        if self.max_jobs < 1:
            raise ValueError("max_jobs must be at least 1")
        self.threads_per_job = max(1, (os.cpu_count() or 1) // self.max_jobs)
        if set_threads:
            torch.set_num_threads(self.threads_per_job)
        if target is None:
            from .worker import train_job

            target = train_job
        self._target = target
        self._cv = threading.Condition()
        self._jobs: dict[str, Job] = {}
        self._queue: list[Job] = []
        self._running: set[str] = set()
        self._threads: dict[str, threading.Thread] = {}
        self._submitted: dict[str, int] = {}  # session -> jobs it has submitted (numbers its jobs)
        if warm_up:
            threading.Thread(target=_warm_up, name="unrolled-warm-up", daemon=True).start()
        atexit.register(self.shutdown)

    # -- public API --------------------------------------------------------------------------------
    def submit(self, session: str, spec: JobSpec) -> str:
        """Queue a job for ``session``; returns its id. The job starts as soon as a slot is free.

        Raises TooManyJobs when the session already has MAX_QUEUED_PER_SESSION jobs queued or running (one
        browser tab must not fill the server's queue)."""
        with self._cv:
            mine = sum(1 for j in self._jobs.values() if j.session == session and j.state in ACTIVE)
            if mine >= MAX_QUEUED_PER_SESSION:
                raise TooManyJobs(f"You already have {mine} training jobs queued or running; at most "
                                  f"{MAX_QUEUED_PER_SESSION} at a time. Wait for one to finish, or stop one.")
            self._submitted[session] = number = self._submitted.get(session, 0) + 1
            job = Job(session, spec, number)
            self._prune(session)
            self._jobs[job.id] = job
            self._queue.append(job)
            thread = threading.Thread(target=self._work, args=(job,), name=f"unrolled-job-{job.id}", daemon=True)
            self._threads[job.id] = thread
        thread.start()
        return job.id

    def snapshot(self, session: str, job_id: str | None) -> Snapshot | None:
        """The job's snapshot, or None when it does not exist or belongs to another session."""
        with self._cv:
            job = self._jobs.get(job_id or "")
            if job is None or job.session != session:
                return None
            place = self._queue.index(job) + 1 if job in self._queue else 0
        return job.snapshot(place)

    def jobs(self, session: str) -> list[Snapshot]:
        """This session's jobs, oldest first."""
        with self._cv:
            mine = [(j, self._queue.index(j) + 1 if j in self._queue else 0) for j in self._jobs.values()
                    if j.session == session]
        return sorted((j.snapshot(p) for j, p in mine), key=lambda s: s.submitted)

    def stop(self, session: str, job_id: str) -> bool:
        """Ask a job to stop (a queued job is cancelled). False when it is not this session's active job."""
        with self._cv:
            job = self._jobs.get(job_id)
            if job is None or job.session != session or job.state not in ACTIVE:
                return False
            job.stop_event.set()
            self._cv.notify_all()  # wakes a queued job so it leaves the queue now
        return True

    def wait(self, job_id: str, timeout: float | None = None) -> bool:
        """Block until the job's thread ends (tests, CLI); True when it ended within ``timeout``."""
        thread = self._threads.get(job_id)
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def wait_for_progress(self, job_id: str, timeout: float) -> bool:
        """Block up to ``timeout`` seconds until the job has a curve point or has ended; True when it has.

        Lets the page that just pressed Train draw the first point in the same run instead of a poll later.
        """
        job = self._jobs.get(job_id)
        if job is None:
            return False
        return job.progressed.wait(timeout)

    def counts(self) -> dict[str, int]:
        """Jobs running and queued across all sessions (no details of other sessions)."""
        with self._cv:
            return {"running": len(self._running), "queued": len(self._queue), "max_jobs": self.max_jobs}

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every job and wait for them (runs at interpreter exit, so a server restart saves partial runs)."""
        with self._cv:
            jobs = list(self._jobs.values())
            for job in jobs:
                job.stop_event.set()
            self._cv.notify_all()
        deadline = time.monotonic() + timeout
        for job in jobs:
            self.wait(job.id, max(0.0, deadline - time.monotonic()))

    # -- worker -------------------------------------------------------------------------------------
    def _work(self, job: Job) -> None:
        with self._cv:
            while not job.stop_event.is_set() and not (self._queue[0] is job and len(self._running) < self.max_jobs):
                self._cv.wait()
            self._queue.remove(job)
            if job.stop_event.is_set():
                job.set(state="cancelled", phase="cancelled", message="Cancelled while waiting in the queue.")
                self._cv.notify_all()
                return
            self._running.add(job.id)
            self._cv.notify_all()
        job.set(state="running", phase="starting")
        try:
            self._target(job)
            if job.state in ACTIVE:  # a target that forgot to set the outcome
                job.set(state="stopped" if job.stop_event.is_set() else "finished")
        except Exception as exc:  # any failure must reach the page as a message, not kill the server
            log.exception("training job %s failed", job.id)
            job.set(state="failed", phase="failed", message=f"Training failed: {exc}")
        finally:
            with self._cv:
                self._running.discard(job.id)
                self._cv.notify_all()

    def _prune(self, session: str) -> None:
        """Forget finished jobs: a session's oldest beyond KEEP_DONE_PER_SESSION, and any session's that ended
        more than KEEP_DONE_SECONDS ago (a browser tab that was closed never asks for them again).
        The caller holds the lock."""
        now = time.perf_counter()
        done = [j for j in self._jobs.values() if j.state in DONE]
        stale = {j.id for j in done if j.ended is not None and now - j.ended > KEEP_DONE_SECONDS}
        mine = sorted((j for j in done if j.session == session), key=lambda j: j.submitted)
        stale |= {j.id for j in mine[: max(0, len(mine) - KEEP_DONE_PER_SESSION)]}
        for job_id in stale:
            self._jobs.pop(job_id, None)
            self._threads.pop(job_id, None)
