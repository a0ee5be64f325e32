"""One training job's state: what to train (JobSpec), the live progress and curve rows its worker thread
writes (Job, behind a lock), and the consistent copy a page reads (Snapshot). Used by app/train/job_manager.py."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnn_core.callbacks import BatchEnd, Callback, EpochEnd, TrainBegin, TrainEnd
from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.tasks import metric_of

ACTIVE = ("queued", "running")
DONE = ("finished", "stopped", "diverged", "failed", "cancelled")


@dataclass(frozen=True)
class JobSpec:
    """What to train: a task (with options), the preset it came from, and the two configs."""

    task: str
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    preset: str | None = None
    task_options: dict[str, Any] = field(default_factory=dict)
    name: str | None = None  # run name; None lets rnn_core.runs choose one


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of a job's state at one moment (taken under the job's lock).

    ``batch_rows`` are ``{step, epoch, batch, loss, <metric>}``; ``epoch_rows`` are
    ``{epoch, train_loss, train_<metric>, val_loss, val_<metric>}``; ``metric`` is "accuracy" or "mse".
    """

    id: str
    session: str
    spec: JobSpec
    state: str  # queued | running | finished | stopped | diverged | failed | cancelled
    place: int  # 1-based place in the queue while queued, else 0
    phase: str  # what a running job is doing now ("loading data", "training", "saving")
    metric: str
    epoch: int
    epochs: int
    batch: int
    batches: int
    tokens_per_s: float
    elapsed: float  # seconds since training started
    batch_rows: tuple[dict[str, Any], ...]
    epoch_rows: tuple[dict[str, Any], ...]
    message: str | None
    run_path: Path | None
    submitted: float
    batch_times: tuple[float, ...] = ()  # seconds since training began at the end of each batch
    stopping: bool = False  # Stop was pressed; the job is finishing its batch and saving
    number: int = 0  # the job's number in its session (1, 2, ...), fixed when it is submitted


    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def fraction(self) -> float:
        """Share of all batches done, 0..1."""
        total = self.epochs * self.batches
        if total <= 0:
            return 0.0
        return min(1.0, max(0.0, ((self.epoch - 1) * self.batches + self.batch) / total))

    @property
    def seconds_left(self) -> float | None:
        """Time left (None until a batch is done): ``estimate_left`` from recent batches once warmed up."""
        f = self.fraction
        if f <= 0 or self.state != "running":
            return None
        recent = estimate_left(self.batch_times, self.epoch, self.batch, self.batches, self.epochs)
        return recent if recent is not None else self.elapsed * (1 - f) / f

    @property
    def run_name(self) -> str | None:
        return self.run_path.name if self.run_path else None


WARMUP_BATCHES = 3  # the first batches are slow (allocation, torch's first-call setup): left out of the pace
RECENT_BATCHES = 50  # the pace is the median batch time over at most this many recent batches


def estimate_left(times: tuple[float, ...] | list[float], epoch: int, batch: int, batches: int,
                  epochs: int) -> float | None:
    """Seconds left from the recent pace: remaining batches × the median recent batch time (robust to the pause
    of a validation pass), plus one validation pass per epoch still to validate, timed by the last pause at an
    epoch boundary. None until a few batches after warm-up, so the first, slow batches never set the estimate
    (they made it jump by a factor of three)."""
    t = np.asarray(times, dtype=float)[WARMUP_BATCHES:]
    if len(t) < 3 or batches <= 0:
        return None
    steps = np.diff(t)[-RECENT_BATCHES:]
    per_batch = float(np.median(steps))
    validation = 0.0
    if batches > 1 and len(t) > batches:  # the largest recent pause is an epoch boundary (validation) once seen
        validation = max(0.0, float(np.max(np.diff(t)[-(batches + 1):])) - per_batch)
    left_batches = (epochs - epoch) * batches + (batches - batch)
    return left_batches * per_batch + (epochs - epoch + 1) * validation


class Job(Callback):
    """One training job. The worker thread writes through ``set`` and, as ``fit``'s callback, through the
    ``on_*`` methods (cheap: they only append under the lock); readers call ``snapshot``."""

    def __init__(self, session: str, spec: JobSpec, number: int = 0):
        self.id = uuid.uuid4().hex[:12]
        self.session = session
        self.spec = spec
        self.stop_event = threading.Event()
        self.progressed = threading.Event()  # set at the first curve point or when the job ends
        self._lock = threading.Lock()
        self._state = "queued"
        self._phase = "waiting for a free slot"
        self._metric = metric_of(spec.task)
        self._epoch = self._batch = self._batches = 0
        self._epochs = spec.train_cfg.epochs
        self._tokens_per_s = 0.0
        self._started: float | None = None
        self._ended: float | None = None
        self._batch_rows: list[dict[str, Any]] = []
        self._batch_times: list[float] = []
        self._epoch_rows: list[dict[str, Any]] = []
        self._message: str | None = None
        self._run_path: Path | None = None
        self.submitted = time.time()
        self.number = number  # 1 for the session's first job, 2 for its second ...: never changes

    # -- written by the worker ------------------------------------------------------------------
    def set(self, *, state: str | None = None, phase: str | None = None, message: str | None = None,
            run_path: Path | str | None = None, metric: str | None = None) -> None:
        with self._lock:
            if state is not None:
                self._state = state
                if state == "running" and self._started is None:
                    self._started = time.perf_counter()
                if state in DONE:
                    self._ended = time.perf_counter()
                    self.progressed.set()
            if phase is not None:
                self._phase = phase
            if message is not None:
                self._message = message
            if run_path is not None:
                self._run_path = Path(run_path)
            if metric is not None:
                self._metric = metric

    def on_train_begin(self, event: TrainBegin) -> None:
        with self._lock:
            self._epochs, self._batches, self._metric = event.epochs, event.batches_per_epoch, event.metric
            self._phase = "training"
            self._started = time.perf_counter()

    def on_batch_end(self, event: BatchEnd) -> None:
        with self._lock:
            self._batch_rows.append(event.row())
            self._batch_times.append(event.elapsed)
            self._epoch, self._batch, self._batches = event.epoch, event.batch, event.batches
            # After an epoch's last batch fit validates before anything else is reported.
            self._phase = "validating" if event.batch == event.batches else "training"
            self._tokens_per_s = event.tokens_per_s
        self.progressed.set()

    def on_epoch_end(self, event: EpochEnd) -> None:
        with self._lock:
            self._epoch_rows.append({"epoch": event.epoch, **event.metrics})
            self._phase = "training"

    def on_train_end(self, event: TrainEnd) -> None:
        with self._lock:
            self._phase = "saving"

    # -- read by pages ----------------------------------------------------------------------------
    def snapshot(self, place: int = 0) -> Snapshot:
        with self._lock:
            end = self._ended if self._ended is not None else time.perf_counter()
            return Snapshot(
                id=self.id, session=self.session, spec=self.spec, state=self._state, place=place,
                phase=self._phase, metric=self._metric, epoch=max(self._epoch, 1 if self._batch else 0),
                epochs=self._epochs, batch=self._batch, batches=self._batches, tokens_per_s=self._tokens_per_s,
                elapsed=(end - self._started) if self._started is not None else 0.0,
                # Rows are never changed after they are appended, so copying the lists is enough.
                batch_rows=tuple(self._batch_rows), epoch_rows=tuple(self._epoch_rows),
                message=self._message, run_path=self._run_path, submitted=self.submitted, number=self.number,
                batch_times=tuple(self._batch_times), stopping=self.stop_event.is_set(),
            )

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    @property
    def ended(self) -> float | None:
        """``time.perf_counter()`` when the job reached a final state (None while it is active)."""
        with self._lock:
            return self._ended
