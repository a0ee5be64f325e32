"""fit: events, determinism, stop within a batch, divergence, bucketing, optimisers."""

from __future__ import annotations

import math
import threading

import pytest
import torch

from rnn_core import ModelConfig, TrainConfig, build_model, fit, get_task
from rnn_core.batching import batch_indices
from rnn_core.callbacks import BatchEnd, Callback, CallbackList, EpochBegin, EpochEnd, TrainBegin, TrainEnd
from rnn_core.tasks.base import SeqData, Splits, Task
from rnn_core.tasks.sine import SineTask
from rnn_core.train import evaluate


class ContainsThree(Task):
    """Token sequences of varied length; label: does token 3 occur?"""

    name = "contains3"
    kind = "classify"

    @property
    def labels(self):
        return ["no", "yes"]

    def load(self, data_dir=None, limit=0, seed=0):
        g = torch.Generator().manual_seed(0)
        n, t = 384, 24
        x = torch.randint(4, 20, (n, t), generator=g)  # [n, t]
        lengths = torch.randint(3, t + 1, (n,), generator=g)
        y = torch.randint(0, 2, (n,), generator=g)
        for i in range(n):
            if y[i]:
                x[i, int(torch.randint(0, int(lengths[i]), (1,), generator=g))] = 3
            x[i, lengths[i] :] = 0
        data = SeqData(x, y, lengths)
        return Splits(data.subset(slice(0, 320)), data.subset(slice(320, None)))


MCFG = ModelConfig(cell="gru", vocab_size=20, embed_dim=8, hidden_size=16, output_size=2)


def train(cfg: TrainConfig, callbacks=(), stop=None, mcfg=MCFG):
    task = ContainsThree()
    model = build_model(mcfg, seed=cfg.seed)
    return model, fit(model, task, cfg, callbacks, stop, splits=task.load())


class Recorder(Callback):
    """Every event fit sends, in order."""

    def __init__(self):
        self.events = []

    def on_train_begin(self, event):
        self.events.append(event)

    def on_epoch_begin(self, event):
        self.events.append(event)

    def on_batch_end(self, event):
        self.events.append(event)

    def on_epoch_end(self, event):
        self.events.append(event)

    def on_train_end(self, event):
        self.events.append(event)


class OnBatch(Callback):
    """Calls ``fn(event)`` after every batch."""

    def __init__(self, fn):
        self.fn = fn

    def on_batch_end(self, event):
        self.fn(event)


@pytest.mark.slow
def test_events_in_order_and_learning():
    rec = Recorder()
    _, hist = train(TrainConfig(epochs=4, batch_size=32, lr=0.01), [rec])
    kinds = [type(e) for e in rec.events]
    assert kinds[0] is TrainBegin and kinds[-1] is TrainEnd
    assert set(kinds) == {TrainBegin, EpochBegin, BatchEnd, EpochEnd, TrainEnd}
    assert kinds.count(EpochEnd) == 4 and kinds.count(BatchEnd) == 4 * 10
    assert kinds[1:3] == [EpochBegin, BatchEnd] and kinds[-2] is EpochEnd
    batch = next(e for e in rec.events if isinstance(e, BatchEnd))
    assert (batch.epoch, batch.batch, batch.batches, batch.step, batch.metric) == (1, 1, 10, 1, "accuracy")
    first = {"step": 1, "epoch": 1, "batch": 1, "loss": batch.loss, "accuracy": batch.value}
    assert batch.row() == hist.batches[0] == first
    end = [e for e in rec.events if isinstance(e, EpochEnd)][-1]
    assert set(end.metrics) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy"} and end.metric == "accuracy"
    assert rec.events[-1].history is hist and hist.status == "finished"
    assert hist.epochs[-1]["val_accuracy"] > 0.9, hist.epochs  # the task is learnable: a real signal
    assert hist.epochs[-1]["train_loss"] < hist.epochs[0]["train_loss"]


@pytest.mark.slow
def test_same_seed_same_curves_other_seed_differs():
    cfg = TrainConfig(epochs=2, batch_size=32, lr=0.01, seed=3)
    _, a = train(cfg)
    _, b = train(cfg)
    _, c = train(cfg.replace(seed=4))
    assert [r["loss"] for r in a.batches] == [r["loss"] for r in b.batches]
    assert a.epochs[-1]["val_loss"] == b.epochs[-1]["val_loss"]
    assert [r["loss"] for r in a.batches] != [r["loss"] for r in c.batches]


def test_stop_within_one_batch_keeps_weights():
    stop = threading.Event()
    seen = []

    def cb(event):
        seen.append(event.step)
        if event.step == 3:
            stop.set()

    model, hist = train(TrainConfig(epochs=5, batch_size=32, lr=0.01), [OnBatch(cb)], stop)
    assert hist.stopped and not hist.diverged and hist.status == "stopped"
    assert seen == [1, 2, 3] and len(hist.batches) == 3
    assert "kept" in hist.message
    assert hist.epochs[-1]["val_loss"] is None and hist.epochs[-1]["partial"]
    fresh = build_model(MCFG, seed=0)
    assert any(not torch.equal(p, q) for p, q in zip(model.parameters(), fresh.parameters()))


def test_a_stop_during_a_forward_pass_skips_its_backward_pass_and_keeps_the_weights():
    stop = threading.Event()
    model = build_model(MCFG, seed=0)
    passes = []

    def press_stop_in_the_third_forward_pass(module, _inputs, _out):
        passes.append(module.training)
        if len(passes) == 3:
            stop.set()

    after_two = {}

    def keep_weights(event):
        if event.step == 2:
            after_two.update({k: v.clone() for k, v in model.state_dict().items()})

    model.register_forward_hook(press_stop_in_the_third_forward_pass)
    task = ContainsThree()
    hist = fit(model, task, TrainConfig(epochs=5, batch_size=32, lr=0.01), [OnBatch(keep_weights)], stop,
               splits=task.load())
    assert hist.stopped and len(hist.batches) == 2 and passes == [True, True, True]  # no validation pass either
    assert "epoch 1, batch 2 of 10" in hist.message
    assert all(torch.equal(v, after_two[k]) for k, v in model.state_dict().items())  # the third step never applied


def test_a_stop_before_the_first_step_trains_nothing():
    stop = threading.Event()

    class PressStopAtTheStart(Callback):  # as a Stop pressed while a callback (the probe's replay) runs
        def on_train_begin(self, event):
            stop.set()

    model, hist = train(TrainConfig(epochs=5, batch_size=32, lr=0.01), [PressStopAtTheStart()], stop)
    assert hist.stopped and hist.batches == [] and hist.epochs == []
    assert "the start of epoch 1" in hist.message
    fresh = build_model(MCFG, seed=0)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), fresh.parameters(), strict=True))


def test_divergence_stops_with_advice_and_keeps_finite_weights():
    def poison(event):
        if event.step == 2:
            with torch.no_grad():
                info_model.head.weight.fill_(float("inf"))  # the next loss is not finite

    task = ContainsThree()
    info_model = build_model(MCFG, seed=0)
    hist = fit(info_model, task, TrainConfig(epochs=3, batch_size=32, lr=0.01), [OnBatch(poison)], splits=task.load())
    assert hist.diverged and not hist.stopped and hist.status == "diverged"
    assert "learning rate" in hist.message and "epoch 1, batch 3" in hist.message
    assert len(hist.batches) == 2


def test_bucketing_groups_similar_lengths_and_covers_everything():
    lengths = torch.randint(1, 500, (3200,), generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(0)
    bucketed = batch_indices(lengths, 64, True, True, g)
    plain = batch_indices(lengths, 64, True, False, torch.Generator().manual_seed(0))
    assert sorted(torch.cat(bucketed).tolist()) == list(range(3200))

    def padding(batches):
        return sum(int(lengths[b].max()) * len(b) - int(lengths[b].sum()) for b in batches)

    assert padding(bucketed) < 0.1 * padding(plain)
    # Smaller pools mix lengths more: padding between the fully sorted pools and random batches.
    small = batch_indices(lengths, 64, True, True, torch.Generator().manual_seed(0), pool_batches=4)
    assert sorted(torch.cat(small).tolist()) == list(range(3200))
    assert padding(bucketed) < padding(small) < 0.5 * padding(plain)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "sgd"])
def test_each_optimizer_trains(optimizer):
    lr = {"adam": 0.01, "rmsprop": 0.003, "sgd": 0.1}[optimizer]
    _, hist = train(TrainConfig(epochs=4, batch_size=32, lr=lr, optimizer=optimizer))
    assert hist.epochs[-1]["train_loss"] < hist.epochs[0]["train_loss"]
    assert all(math.isfinite(r["loss"]) for r in hist.batches)


def test_impossible_settings_are_clear_errors():
    with pytest.raises(ValueError, match="lr must be"):
        TrainConfig(lr=-1).validate()
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0).validate()
    with pytest.raises(ValueError, match="hidden_size"):
        ModelConfig(hidden_size=0).validate()
    with pytest.raises(ValueError, match="cell must be"):
        ModelConfig(cell="transformer").validate()
    with pytest.raises(ValueError, match="input_dropout must be"):
        ModelConfig(input_dropout=1.0).validate()
    with pytest.raises(ValueError, match="bucket_pool must be"):
        TrainConfig(bucket_pool=0).validate()
    with pytest.raises(ValueError, match="weight_decay must be"):
        TrainConfig(weight_decay=-0.1).validate()


def test_evaluate_padding_does_not_change_results():
    task = ContainsThree()
    splits = task.load()
    model = build_model(MCFG, seed=0)
    a = evaluate(model, task, splits.val)
    padded = SeqData(torch.nn.functional.pad(splits.val.x, (0, 30)), splits.val.y, splits.val.lengths)
    b = evaluate(model, task, padded)
    assert a["loss"] == pytest.approx(b["loss"], abs=1e-6) and a["accuracy"] == b["accuracy"]


def test_regression_metric_skips_warmup():
    task = get_task("sine")
    splits = task.load(limit=64)
    model = build_model(task.configs("seed")[0], seed=0)
    ev = evaluate(model, task, splits.val)
    assert set(ev) == {"loss", "mse", "n", "seconds", "tokens_per_s"}
    assert ev["mse"] != pytest.approx(ev["loss"])  # warm-up steps are left out of the metric only


def test_stop_during_validation_ends_without_finishing_it():
    task = ContainsThree()
    data = task.load()
    big_val = SeqData(data.train.x.repeat(4, 1), data.train.y.repeat(4), data.train.lengths.repeat(4))  # 5 eval batches
    model = build_model(MCFG, seed=0)
    stop = threading.Event()
    evals = []

    def on_eval_batch(module, _inputs, _out):
        if not module.training:
            evals.append(1)
            stop.set()  # pressed while the first validation batch runs

    model.register_forward_hook(on_eval_batch)
    hist = fit(
        model, task, TrainConfig(epochs=3, batch_size=32, lr=0.01), stop_event=stop, splits=Splits(data.train, big_val)
    )
    assert hist.stopped and "validating epoch 1" in hist.message
    assert len(evals) == 1 and len(hist.epochs) == 1 and hist.epochs[0]["val_loss"] is None


@pytest.mark.slow
def test_keep_best_ends_with_the_weights_of_the_best_validation_epoch():
    class WreckAfterTwoEpochs(Callback):  # training that goes wrong late: the last epochs are the worst
        def on_epoch_begin(self, event):
            if event.epoch == 3:
                with torch.no_grad():
                    for p in event.model.parameters():
                        p.normal_(0, 3.0)

    wreck_after_two_epochs = WreckAfterTwoEpochs()

    cfg = TrainConfig(epochs=4, batch_size=32, lr=0.01, keep_best=True)
    task = ContainsThree()
    model, hist = train(cfg, [wreck_after_two_epochs])
    accs = [r["val_accuracy"] for r in hist.epochs]
    assert hist.best_epoch in (1, 2) and hist.best_epoch == 1 + accs.index(max(accs)), accs
    kept = hist.epochs[hist.best_epoch - 1]
    ev = evaluate(model, task, task.load().val)
    assert ev["loss"] == pytest.approx(kept["val_loss"], abs=1e-6)  # the model holds that epoch's weights
    assert hist.final_metrics()["val_accuracy"] == kept["val_accuracy"] > accs[-1]
    assert f"epoch {hist.best_epoch}" in hist.message
    plain_model, plain = train(cfg.replace(keep_best=False), [wreck_after_two_epochs])
    assert plain.best_epoch is None and plain.final_metrics()["val_loss"] == plain.epochs[-1]["val_loss"]
    assert evaluate(plain_model, task, task.load().val)["loss"] == pytest.approx(plain.epochs[-1]["val_loss"], abs=1e-6)


@pytest.mark.slow
def test_test_metrics_are_filed_under_the_kept_epoch_and_a_stop_skips_them():
    from rnn_core.train import add_test_metrics

    task = ContainsThree()
    base = task.load()
    splits = Splits(base.train, base.val, test=base.val.subset(slice(0, 40)))
    model = build_model(MCFG, seed=0)
    hist = fit(model, task, TrainConfig(epochs=2, batch_size=32, lr=0.01), splits=splits)
    found = add_test_metrics(model, task, splits, hist)
    assert set(found) == {"test_loss", "test_accuracy"}
    assert found["test_accuracy"] == evaluate(model, task, splits.test)["accuracy"]
    assert hist.final_metrics()["test_accuracy"] == found["test_accuracy"]
    stopped = threading.Event()
    stopped.set()
    hist2 = fit(build_model(MCFG, seed=0), task, TrainConfig(epochs=1, batch_size=32), splits=splits)
    assert add_test_metrics(model, task, splits, hist2, stop_event=stopped) == {}
    assert "test_accuracy" not in hist2.final_metrics()
    assert add_test_metrics(model, task, base, hist2) == {}  # no test split, nothing to add


@pytest.mark.slow
def test_regression_events_carry_mse_by_name_and_keep_best_keeps_the_lowest():
    task = SineTask()
    model = build_model(task.base_model_config().replace(hidden_size=8), seed=0)
    rec = Recorder()
    hist = fit(model, task, TrainConfig(epochs=3, batch_size=32, lr=0.01, limit=96, keep_best=True), [rec])
    batch = next(e for e in rec.events if isinstance(e, BatchEnd))
    assert batch.metric == "mse" and set(batch.row()) == {"step", "epoch", "batch", "loss", "mse"}
    ends = [e for e in rec.events if isinstance(e, EpochEnd)]
    assert set(ends[0].metrics) == {"train_loss", "train_mse", "val_loss", "val_mse"}
    mses = [r["val_mse"] for r in hist.epochs]
    assert hist.best_epoch == 1 + mses.index(min(mses)) and hist.metric == "mse"


def test_only_callback_subclasses_are_accepted():
    with pytest.raises(TypeError, match="Callback"):
        CallbackList([lambda event, info: None])
