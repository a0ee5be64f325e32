"""What the Train page's live view tells a person: every chart has readable y numbers (a loss between 0.25 and
0.7 on a log axis too), an empty chart shows no made-up scale, the sine charts say which steps loss and MSE
cover, a stopped partial epoch sits at its fraction, the time left comes from recent batches after warm-up, and
the job box names its job, says "validating" and shows a Stop at once."""

from __future__ import annotations

import numpy as np
import pytest

from app.train.curves import fig_curves, log_ticks
from app.train.job_state import Job, JobSpec, estimate_left
from app.train.panel import job_label, progress_text
from rnn_core.callbacks import BatchEnd
from rnn_core.tasks import get_task


def _rows(values, batches=4):
    return [{"step": i + 1, "epoch": i // batches + 1, "batch": i % batches + 1, "loss": v} for i, v in
            enumerate(values)]


@pytest.mark.parametrize("lo,hi", [(0.25, 0.7), (0.3, 0.45), (0.69, 0.7), (0.001, 0.03), (1e-5, 10.0)])
def test_a_log_axis_always_has_labelled_numbers_inside_the_data(lo, hi):
    ticks = log_ticks(np.array([lo, (lo + hi) / 2, hi]))
    assert len(ticks) >= 2 and all(lo <= t <= hi for t in ticks)
    assert len(ticks) <= 6


def test_the_imdb_like_loss_chart_carries_its_numbers():
    # An IMDB loss that stays between 0.28 and 0.69: plotly's own 1-2-5 log ticks put no number on it.
    loss = list(np.linspace(0.69, 0.28, 40))
    fig = fig_curves(_rows(loss, 10), [{"epoch": e, "train_loss": 0.5, "val_loss": 0.4} for e in (1, 2, 3, 4)],
                     "loss", batches_per_epoch=10)
    axis = fig.layout.yaxis
    assert axis.type == "log" and len(axis.tickvals) >= 2
    assert all(0.28 <= v <= 0.69 for v in axis.tickvals)
    assert list(axis.ticktext) == [f"{v:.3g}" for v in axis.tickvals]


def test_an_empty_chart_has_no_made_up_scale():
    for key in ("loss", "accuracy", "mse"):
        fig = fig_curves([], [], key)
        assert fig.layout.yaxis.showticklabels is False
        assert "first batch" in fig.layout.annotations[0].text


def test_sine_charts_say_which_steps_loss_and_mse_cover():
    warmup = get_task("sine").warmup
    assert warmup > 0
    loss = fig_curves(_rows([0.1, 0.05]), [], "loss", warmup=warmup).layout.title.text
    mse = fig_curves([dict(r, mse=0.01) for r in _rows([0.1, 0.05])], [], "mse", warmup=warmup).layout.title.text
    assert f"incl. the first {warmup} warm-up steps" in loss and f"after the first {warmup} warm-up steps" in mse
    assert fig_curves(_rows([0.1]), [], "loss").layout.title.text == "Loss"  # no warm-up, no note


def test_a_stopped_partial_epoch_sits_at_its_fraction():
    batches = _rows([1.0] * 4 + [0.8] * 2)  # epoch 2 stopped after 2 of 4 batches
    epochs = [{"epoch": 1, "train_loss": 0.9, "val_loss": 0.9}, {"epoch": 2, "train_loss": 0.8, "val_loss": None}]
    fig = fig_curves(batches, epochs, "loss", batches_per_epoch=4)
    train_epoch = next(t for t in fig.data if t.name == "train · epoch")
    assert list(train_epoch.x) == pytest.approx([1.0, 1.5])


def test_time_left_comes_from_recent_batches_after_warm_up():
    # 3 slow warm-up batches (2 s each), then 0.1 s per batch; 10 batches per epoch, 5 epochs.
    times = list(np.cumsum([2.0, 2.0, 2.0] + [0.1] * 9))
    left = estimate_left(times, 2, 2, 10, 5)
    assert left == pytest.approx((3 * 10 + 8) * 0.1, rel=0.05)
    assert estimate_left(times[:4], 1, 4, 10, 5) is None  # still warming up: no estimate from the first batches
    # A validation pause at each epoch boundary (1 s) is counted once per epoch still to validate.
    steady = [0.1] * 9 + [1.1] + [0.1] * 9 + [1.1] + [0.1] * 5
    times = list(np.cumsum([2.0, 2.0, 2.0, *steady]))
    left = estimate_left(times, 3, 8, 10, 5)
    assert left == pytest.approx((2 * 10 + 2) * 0.1 + 3 * 1.0, rel=0.05)


def test_the_estimate_does_not_jump_by_a_factor_of_three():
    job = Job("s", JobSpec("letters", *get_task("letters").configs("default")))
    job.set(state="running")
    estimates, t = [], 0.0
    for step in range(1, 200):
        epoch, batch = (step - 1) // 20 + 1, (step - 1) % 20 + 1
        t += 3.0 if step <= 3 else 0.1 + 0.01 * (step % 3)  # slow first batches, then a steady pace
        job.on_batch_end(BatchEnd(epoch, batch, 20, step, 0.5, "accuracy", 0.5, 1000.0, t))
        left = job.snapshot().seconds_left
        if step > 8 and left:
            estimates.append(left + t)  # the finish time it predicts
    assert max(estimates) / min(estimates) < 1.5


def test_the_job_box_names_its_job_and_says_validating():
    mcfg, tcfg = get_task("letters").configs("default")
    job = Job("s", JobSpec("letters", mcfg, tcfg, preset="default"))
    job.set(state="running")
    assert job_label(job.snapshot()) == f"letters · GRU({mcfg.hidden_size}) · preset default · {tcfg.epochs} epochs"
    job.on_batch_end(BatchEnd(1, 4, 4, 4, 0.5, "accuracy", 0.5, 1000.0, 1.0))
    assert "validating" in progress_text(job.snapshot())
    job.stop_event.set()
    assert job.snapshot().stopping
