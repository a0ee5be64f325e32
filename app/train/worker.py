"""What a training job does on its worker thread: load the task's data, build the model, ``fit`` it with the
job's progress callback (and the Inside page's probe recorder), score a finished model on the task's test split
when it has one, then save the run with its outcome.

Never calls ``st.*``: it runs outside any Streamlit script run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from rnn_core.model import RecurrentModel, build_model
from rnn_core.probe import recorder_for_run
from rnn_core.runs import save_run
from rnn_core.runs.keeping import check_run_target, checkpoint_for
from rnn_core.tasks import Task, get_task
from rnn_core.train import add_test_metrics, fit, make_optimizer

from .job_state import Job, JobSpec

T = TypeVar("T")
STOP_POLL_SECONDS = 0.1  # how often a step that can't check the stop event itself is checked on


class Cancelled(Exception):
    """Stop was pressed while a step that cannot be interrupted was running."""


def _interruptible(job: Job, step: Callable[[], T]) -> T:
    """``step()`` on a helper thread, raising Cancelled within STOP_POLL_SECONDS of a Stop. Loading a data set
    (parsing 50,000 reviews the first time) can take tens of seconds and can't check the stop event itself; an
    abandoned step finishes in the background and its result is dropped (its on-disk cache is kept)."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = step()
        except BaseException as exc:  # handed to the worker, which reports it as the job's failure
            box["error"] = exc

    helper = threading.Thread(target=run, name=f"unrolled-job-{job.id}-step", daemon=True)
    helper.start()
    while helper.is_alive():
        if job.stop_event.wait(STOP_POLL_SECONDS):
            raise Cancelled
        helper.join(0)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def _build(task: Task, spec: JobSpec) -> RecurrentModel:
    """The job's model, and a throwaway optimizer of its kind: a process's first optimizer imports torch's compiler
    stack (seconds on a busy machine, longer while the manager's warm-up is still at it), and here, unlike inside
    ``fit``, a Stop can abandon that wait."""
    model = build_model(task.fit_to_data(spec.model_cfg), seed=spec.train_cfg.seed)
    make_optimizer(model.parameters(), spec.train_cfg)
    return model


def train_job(job: Job) -> None:
    """Train ``job.spec`` and save the run; a Stop before training began cancels it (nothing is saved)."""
    try:
        _train(job)
    except Cancelled:
        job.set(state="cancelled", phase="cancelled", message="Stopped before training began; nothing was saved.")


def _train(job: Job) -> None:
    """Train ``job.spec`` and save the run; sets the job's final state, message and run path."""
    spec = job.spec
    check_run_target(spec.name)  # a save that would fail fails now, before any training
    job.set(phase="loading data")
    task = get_task(spec.task, **spec.task_options)
    if hasattr(task, "progress"):  # tasks that download their data report bytes as they arrive
        task.progress = lambda done, total: job.set(
            phase=f"downloading data ({done / total:.0%} of {total / 2**20:.0f} MB)" if total else "downloading data"
        )
    splits = _interruptible(job, lambda: task.load(seed=spec.train_cfg.seed))
    job.set(phase="building the model")
    model = _interruptible(job, lambda: _build(task, spec))
    probe = _interruptible(job, lambda: recorder_for_run(task, splits, spec.train_cfg.epochs))
    if job.stop_event.is_set():
        raise Cancelled
    keep = checkpoint_for(task, spec.train_cfg, probe, name=spec.name, preset=spec.preset)  # every epoch's end
    history = fit(
        model, task, spec.train_cfg, callbacks=[job, probe, keep], stop_event=job.stop_event, splits=splits
    )
    if history.stopped and not history.epochs:  # stopped before the first step ended: nothing to keep
        raise Cancelled
    status = history.status
    if status == "finished" and splits.test is not None:
        # The held-out test score, comparable with the baselines (a Stop during it only skips it).
        job.set(phase=f"scoring {len(splits.test):,} test examples")
        add_test_metrics(model, task, splits, history, stop_event=job.stop_event)
    job.set(phase="saving")
    path = save_run(
        model,
        task,
        spec.train_cfg,
        history,
        name=keep.name,
        preset=spec.preset,
        status=status,
        probe=probe.for_save(),
        overwrite=keep.saved is not None,  # replaces the epoch-end save of the same run
    )
    done = {"finished": "Finished", "stopped": "Stopped", "diverged": "Diverged"}[status]
    job.set(
        state=status,
        phase="done",
        run_path=path,
        message=history.message or f"{done}: {len(history.epochs)} epochs in {history.seconds:.3g} s.",
    )
