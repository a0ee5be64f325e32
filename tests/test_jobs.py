"""Background jobs: the cap queues further jobs and reports their place, Stop ends a real training run within
a second and keeps it on disk, snapshots are consistent while the worker writes, and sessions are isolated."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from app.train import job_manager as manager_module
from app.train import worker
from app.train.job_manager import JobManager, default_max_jobs
from app.train.job_state import JobSpec
from app.train.worker import train_job
from rnn_core.callbacks import BatchEnd, EpochEnd, TrainBegin
from rnn_core.config import TrainConfig
from rnn_core.model import build_model
from rnn_core.runs import RunError, load_run, read_run_config
from rnn_core.tasks import get_task


def letters_spec(**overrides) -> JobSpec:
    task = get_task("letters")
    model_cfg, train_cfg = task.configs("seed", **overrides)
    return JobSpec(task="letters", model_cfg=model_cfg, train_cfg=train_cfg, preset="seed")


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class Gate:
    """A fake job target that runs until released or stopped, so a test controls when slots free up."""

    def __init__(self):
        self.release = threading.Event()
        self.started: list[str] = []

    def __call__(self, job) -> None:
        self.started.append(job.id)
        while not self.release.is_set() and not job.stop_event.is_set():
            time.sleep(0.005)
        job.set(state="stopped" if job.stop_event.is_set() else "finished")


def test_cap_one_queues_the_second_job_at_place_one():
    gate = Gate()
    mgr = JobManager(max_jobs=1, target=gate, set_threads=False, warm_up=False)
    a = mgr.submit("s", letters_spec())
    assert wait_for(lambda: mgr.snapshot("s", a).state == "running")
    b = mgr.submit("s", letters_spec())
    c = mgr.submit("s", letters_spec())
    time.sleep(0.05)
    sb, sc = mgr.snapshot("s", b), mgr.snapshot("s", c)
    assert (sb.state, sb.place) == ("queued", 1)
    assert (sc.state, sc.place) == ("queued", 2)
    assert mgr.counts() == {"running": 1, "queued": 2, "max_jobs": 1}
    assert gate.started == [a]

    gate.release.set()
    for job_id in (a, b, c):
        assert mgr.wait(job_id, 5)
    assert gate.started == [a, b, c]  # first in, first out
    assert [mgr.snapshot("s", j).state for j in (a, b, c)] == ["finished"] * 3


def test_cancelling_a_queued_job_moves_the_next_one_up():
    gate = Gate()
    mgr = JobManager(max_jobs=1, target=gate, set_threads=False, warm_up=False)
    a = mgr.submit("s", letters_spec())
    assert wait_for(lambda: mgr.snapshot("s", a).state == "running")
    b, c = mgr.submit("s", letters_spec()), mgr.submit("s", letters_spec())
    assert wait_for(lambda: mgr.snapshot("s", c).place == 2)
    assert mgr.stop("s", b)
    assert mgr.wait(b, 2)
    assert mgr.snapshot("s", b).state == "cancelled"
    assert mgr.snapshot("s", c).place == 1
    gate.release.set()
    assert mgr.wait(c, 5) and mgr.snapshot("s", c).state == "finished"
    assert b not in gate.started


def test_stop_ends_real_training_within_a_second_and_keeps_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(tmp_path))
    mgr = JobManager(max_jobs=1, target=train_job, set_threads=False, warm_up=False)
    job = mgr.submit("s", letters_spec(epochs=10000))
    assert wait_for(lambda: len(mgr.snapshot("s", job).epoch_rows) >= 5, timeout=60)
    start = time.perf_counter()
    assert mgr.stop("s", job)
    assert mgr.wait(job, 5)
    took = time.perf_counter() - start
    assert took < 1.0, f"stop took {took:.2f} s"

    snap = mgr.snapshot("s", job)
    assert snap.state == "stopped" and "Stopped" in snap.message
    assert snap.epoch < 10000
    run = load_run(snap.run_path)
    assert run.status == "stopped"
    assert len(run.metrics) == len(snap.epoch_rows)
    assert len(run.batches) == len(snap.batch_rows)


def test_a_stop_while_the_first_optimizer_is_made_is_answered_at_once(tmp_path, monkeypatch):
    made = threading.Event()

    def slow_first_optimizer(params, cfg):  # as a process's first optimizer importing torch's compiler stack
        made.set()
        time.sleep(10)

    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(tmp_path))
    monkeypatch.setattr(worker, "make_optimizer", slow_first_optimizer)
    mgr = JobManager(max_jobs=1, target=train_job, set_threads=False, warm_up=False)
    job = mgr.submit("s", letters_spec())
    assert made.wait(30) and mgr.snapshot("s", job).phase == "building the model"
    start = time.perf_counter()
    assert mgr.stop("s", job) and mgr.wait(job, 5)
    took = time.perf_counter() - start
    assert took < 1.0, f"stop took {took:.2f} s"
    snap = mgr.snapshot("s", job)
    assert snap.state == "cancelled" and "nothing was saved" in snap.message
    assert not any(tmp_path.iterdir())


def poisoned_build_model(cfg, seed=None):
    """A model whose head outputs infinities: its first loss is not finite, so ``fit`` reports divergence."""
    model = build_model(cfg, seed=seed)
    with torch.no_grad():
        model.head.bias.fill_(float("inf"))
    return model


def test_a_diverged_run_is_saved_as_diverged_with_the_history_message(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(tmp_path))
    monkeypatch.setattr(worker, "build_model", poisoned_build_model)
    mgr = JobManager(max_jobs=1, target=train_job, set_threads=False, warm_up=False)
    job = mgr.submit("s", letters_spec())
    assert mgr.wait(job, 30)
    snap = mgr.snapshot("s", job)
    assert snap.state == "diverged"
    assert "NaN or infinite" in snap.message and "Lower the learning rate" in snap.message
    # Poisoned from the start, the model never had a good step: its NaN weights are kept on disk with the outcome,
    # and loading refuses them, saying why (weights holding NaN are never replayed).
    config = read_run_config(snap.run_path)
    assert config["status"] == "diverged" and config["message"] == snap.message
    with pytest.raises(RunError, match="NaN or infinite"):
        load_run(snap.run_path)


def test_wait_for_progress_returns_at_the_first_curve_point(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(tmp_path))
    gate = Gate()
    mgr = JobManager(max_jobs=1, target=gate, set_threads=False, warm_up=False)
    idle = mgr.submit("s", letters_spec())
    start = time.perf_counter()
    assert mgr.wait_for_progress(idle, 0.2) is False  # no point yet: it gives up after the timeout
    assert 0.15 < time.perf_counter() - start < 1.0
    gate.release.set()
    assert mgr.wait_for_progress(idle, 5) is True  # ending counts as progress

    real = JobManager(max_jobs=1, target=train_job, set_threads=False, warm_up=False)
    job = real.submit("s", letters_spec(epochs=10000))
    assert real.wait_for_progress(job, 30)
    assert len(real.snapshot("s", job).batch_rows) >= 1
    real.stop("s", job)
    assert real.wait(job, 5)


def test_snapshots_are_consistent_while_the_worker_writes():
    batches_per_epoch = 7

    def busy(job):
        model, task = torch.nn.Linear(1, 1), get_task("letters")
        job.on_train_begin(TrainBegin(model, task, TrainConfig(), 50, batches_per_epoch, 100, 10))
        step = 0
        for epoch in range(1, 51):
            for b in range(1, batches_per_epoch + 1):
                step += 1
                job.on_batch_end(BatchEnd(epoch, b, batches_per_epoch, step, 1.0 / step, "accuracy", 0.5, 1.0, 0.1))
            metrics = {"train_loss": 1.0 / epoch, "val_loss": 1.0}
            job.on_epoch_end(EpochEnd(epoch, "accuracy", metrics, model, 0.1, 1.0))
        job.set(state="finished")

    mgr = JobManager(max_jobs=1, target=busy, set_threads=False, warm_up=False)
    job = mgr.submit("s", letters_spec())
    seen = 0
    while True:
        s = mgr.snapshot("s", job)
        rows = s.batch_rows
        if rows:
            seen += 1
            last = rows[-1]
            # Progress fields and curve rows come from the same moment.
            assert len(rows) == last["step"] == (s.epoch - 1) * batches_per_epoch + s.batch
            assert (last["epoch"], last["batch"]) == (s.epoch, s.batch)
            assert len(s.epoch_rows) in (s.epoch - 1, s.epoch)
        if not s.active:
            break
    assert seen > 0
    final = mgr.snapshot("s", job)
    assert len(final.batch_rows) == 50 * batches_per_epoch and len(final.epoch_rows) == 50
    assert final.fraction == 1.0


def test_sessions_cannot_see_or_stop_each_others_jobs():
    gate = Gate()
    mgr = JobManager(max_jobs=2, target=gate, set_threads=False, warm_up=False)
    mine = mgr.submit("alice", letters_spec())
    theirs = mgr.submit("bob", letters_spec())
    assert [s.id for s in mgr.jobs("alice")] == [mine]
    assert [s.id for s in mgr.jobs("bob")] == [theirs]
    assert mgr.jobs("alice")[0].number == mgr.jobs("bob")[0].number == 1  # each session numbers its own jobs
    assert mgr.snapshot("alice", theirs) is None
    assert mgr.stop("alice", theirs) is False
    assert wait_for(lambda: mgr.snapshot("bob", theirs).state == "running")
    gate.release.set()
    assert mgr.wait(mine, 5) and mgr.wait(theirs, 5)
    assert mgr.snapshot("bob", theirs).state == "finished"  # alice's stop did nothing


def test_a_failing_job_reports_its_message_and_frees_its_slot():
    def broken(job):
        raise ValueError("the data folder is missing; set UNROLLED_DATA_DIR")

    mgr = JobManager(max_jobs=1, target=broken, set_threads=False, warm_up=False)
    a = mgr.submit("s", letters_spec())
    assert mgr.wait(a, 5)
    s = mgr.snapshot("s", a)
    assert s.state == "failed" and "UNROLLED_DATA_DIR" in s.message
    assert mgr.counts()["running"] == 0


def test_finished_jobs_are_forgotten_per_session_cap_and_after_a_while(monkeypatch):
    mgr = JobManager(max_jobs=1, target=lambda job: job.set(state="finished"), set_threads=False, warm_up=False)
    monkeypatch.setattr(manager_module, "KEEP_DONE_PER_SESSION", 2)
    ids = [mgr.submit("s", letters_spec()) for _ in range(3)]
    for job_id in ids:
        assert mgr.wait(job_id, 5)
    other = mgr.submit("t", letters_spec())
    assert mgr.wait(other, 5)
    mgr.submit("s", letters_spec())  # pruning happens on submit: the oldest finished job of "s" goes
    assert mgr.snapshot("s", ids[0]) is None and mgr.snapshot("s", ids[1]) is not None
    assert mgr.snapshot("t", other) is not None

    monkeypatch.setattr(manager_module, "KEEP_DONE_SECONDS", 0.0)
    mgr.submit("s", letters_spec())
    assert mgr.snapshot("t", other) is None  # another session's stale job is gone too


@pytest.mark.parametrize("raw, expected", [("3", 3), ("0", None), ("lots", None), ("", None)])
def test_max_jobs_from_the_environment(monkeypatch, raw, expected):
    monkeypatch.setenv("UNROLLED_MAX_JOBS", raw)
    cpus = __import__("os").cpu_count() or 1
    assert default_max_jobs() == (expected if expected is not None else cpus)


def test_one_session_may_have_at_most_three_jobs_waiting_or_running():
    gate = Gate()
    mgr = JobManager(max_jobs=1, target=gate, set_threads=False, warm_up=False)
    ids = [mgr.submit("s", letters_spec()) for _ in range(manager_module.MAX_QUEUED_PER_SESSION)]
    with pytest.raises(manager_module.TooManyJobs, match="at most 3 at a time"):
        mgr.submit("s", letters_spec())
    other = mgr.submit("t", letters_spec())  # another session is not held back by this one
    assert mgr.stop("s", ids[-1]) and mgr.wait(ids[-1], 5)
    again = mgr.submit("s", letters_spec())  # a freed place can be used again
    gate.release.set()
    for job_id in (*ids, other, again):
        assert mgr.wait(job_id, 5)
