"""What a training job does on its worker thread: load the task's data, build the model, ``fit`` it with the
job's progress callback (and the Inside page's probe recorder), score a finished model on the task's test split
when it has one, then save the run with its outcome.

Never calls ``st.*``: it runs outside any Streamlit script run.
"""

from __future__ import annotations

from rnn_core.model import build_model
from rnn_core.probe import recorder_for_run
from rnn_core.runs import save_run
from rnn_core.runs.keeping import check_run_target, checkpoint_for
from rnn_core.tasks import get_task
from rnn_core.train import add_test_metrics, fit

from .job_state import Job


def train_job(job: Job) -> None:
    """Train ``job.spec`` and save the run; sets the job's final state, message and run path."""
    spec = job.spec
    check_run_target(spec.name)  # a save that would fail fails now, before any training
    job.set(phase="loading data")
    task = get_task(spec.task, **spec.task_options)
    if hasattr(task, "progress"):  # tasks that download their data report bytes as they arrive
        task.progress = lambda done, total: job.set(
            phase=f"downloading data ({done / total:.0%} of {total / 2**20:.0f} MB)" if total else "downloading data"
        )
    splits = task.load(seed=spec.train_cfg.seed)
    if job.stop_event.is_set():
        job.set(state="cancelled", phase="cancelled", message="Stopped before training began; nothing was saved.")
        return
    job.set(phase="building the model")
    model = build_model(task.fit_to_data(spec.model_cfg), seed=spec.train_cfg.seed)  # data-sized vocabularies
    probe = recorder_for_run(task, splits, spec.train_cfg.epochs)
    keep = checkpoint_for(task, spec.train_cfg, probe, name=spec.name, preset=spec.preset)  # every epoch's end
    history = fit(
        model, task, spec.train_cfg, callbacks=[job, probe, keep], stop_event=job.stop_event, splits=splits
    )
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
