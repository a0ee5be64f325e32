"""The long-memory task (recall the first symbol after N distractors), fit's stop_at, and the probe's
per-epoch memory record (gradients and spectral radii)."""

from __future__ import annotations

import pytest
import torch

from rnn_core import build_model, fit, get_task, list_tasks
from rnn_core.analysis.gradient_flow import gradient_flow
from rnn_core.probe import ProbeRecorder, probe_grads, probe_radii
from rnn_core.tasks.recall import DISTRACTOR_BOUNDS, SIZES, SYMBOLS, TARGETS


def test_sequences_hold_the_answer_at_step_zero_only():
    task = get_task("recall", distractors=7)
    s = task.load()
    assert len(s.train) == SIZES["train"] and len(s.val) == SIZES["val"] and len(s.test) == SIZES["test"]
    assert s.train.x.shape == (SIZES["train"], 8, len(SYMBOLS))
    assert torch.equal(s.train.x[:, 0], torch.nn.functional.one_hot(s.train.y, len(SYMBOLS)).float())  # clean answer
    assert set(s.train.y.tolist()) == set(range(len(TARGETS)))
    later = get_task("recall", distractors=7, noise=0.0).load().train.x[:, 1:].argmax(-1)
    assert set(later.unique().tolist()) == set(range(len(SYMBOLS)))  # targets recur among the distractors
    assert torch.equal(s.train.x, get_task("recall", distractors=7).load(seed=5).train.x)  # same data for any seed
    assert not torch.equal(s.train.x[:, :8], get_task("recall", distractors=8).load().train.x[:, :8])
    assert task.step_labels(s.train, 0)[0] == s.train.meta["text"][0][0]


def test_options_are_bounded_and_input_checked():
    hi = DISTRACTOR_BOUNDS[1]
    for bad in (0, hi + 1, 2.5, "many", True):
        with pytest.raises(ValueError, match="distractors"):
            get_task("recall", distractors=bad)
    assert get_task("recall", distractors="40").distractors == 40
    task = get_task("recall")
    x, steps = task.encode("B efgA h")
    assert x.shape == (1, 6, len(SYMBOLS)) and steps == list("BefgAh")
    for bad, msg in (("", "type a first symbol"), ("e fgh", "first symbol must be"), ("Bxyz", "only distractors"),
                     ("A" * (hi + 2), "at most")):
        with pytest.raises(ValueError, match=msg):
            task.encode(bad)
    assert "recall" in [t["name"] for t in list_tasks()]
    assert task.decode(torch.tensor([0.0, 3.0, 0.0, 0.0]))["prediction"] == "B"


def test_stop_at_ends_training_as_finished_once_solved(single_thread):
    task = get_task("recall", distractors=3, noise=0.0)
    mcfg, tcfg = task.configs("seed", cell="lstm", epochs=30, limit=256, stop_at=0.9, lr=0.02, batch_size=32)
    hist = fit(build_model(mcfg, seed=0), task, tcfg)
    assert hist.status == "finished"
    assert 1 < len(hist.epochs) < 30 and hist.epochs[-1]["val_accuracy"] >= 0.9
    assert all(r["val_accuracy"] < 0.9 for r in hist.epochs[:-1])
    assert "stop_at" in hist.message
    with pytest.raises(ValueError, match="stop_at"):
        tcfg.replace(stop_at=-1).validate()


def test_probe_keeps_gradients_and_radii_per_epoch():
    task = get_task("recall", distractors=4)
    splits = task.load(limit=128)
    mcfg, tcfg = task.configs("seed", cell="lstm", epochs=2, limit=128, hidden_size=6)
    model = build_model(mcfg, seed=0)
    rec = ProbeRecorder(task, splits=splits)
    fit(model, task, tcfg, callbacks=[rec], splits=splits)
    t = rec.tensors()
    assert sorted(probe_radii(t)) == [0, 1, 2]
    assert probe_radii(t)[2]["layers.0.fwd"].shape == (4,)  # i, f, g, o blocks
    grads = probe_grads(t, 2)["layers.0.fwd.hook_h"]
    flow = gradient_flow(model, "classify", rec.x, rec.y, rec.lengths)
    torch.testing.assert_close(grads, flow.grads)  # the last epoch's record is the trained model's gradient
    assert not torch.equal(probe_grads(t, 0)["layers.0.fwd.hook_h"], grads)
    assert probe_grads(t, 7) == {}


def test_noise_option_leaves_the_answer_clean():
    clean = get_task("recall", distractors=6, noise=0.0).load().train  # the first split drawn: same symbols, then noise
    noisy = get_task("recall", distractors=6, noise=0.5).load().train
    assert torch.equal(noisy.x[:, 0], clean.x[:, 0]) and torch.equal(noisy.y, clean.y)
    assert 0.45 < float((noisy.x[:, 1:] - clean.x[:, 1:]).std()) < 0.55
    for bad in (-1, 9, "loud"):
        with pytest.raises(ValueError, match="noise"):
            get_task("recall", noise=bad)


def test_memory_bias_starts_the_memory_gate_where_asked():
    from rnn_core import ModelConfig

    for cell, block in (("lstm", 1), ("gru", 1)):
        cfg = ModelConfig(cell=cell, input_size=3, hidden_size=4, output_size=2, memory_bias=3.0)
        rnn = build_model(cfg, seed=0).rnn
        assert torch.equal(rnn.bias_ih_l0[block * 4 : (block + 1) * 4], torch.full((4,), 3.0))
        assert torch.equal(rnn.bias_hh_l0[block * 4 : (block + 1) * 4], torch.zeros(4))
        x = torch.randn(1, 5, 3)
        gate = "hook_f" if cell == "lstm" else "hook_z"
        _, cache = build_model(cfg, seed=0).run_with_cache(x)
        assert float(cache[f"layers.0.fwd.{gate}"].mean()) > 0.8  # σ(3) ≈ 0.95, moved a little by the input
    plain = build_model(ModelConfig(cell="rnn", input_size=3, hidden_size=4, output_size=2, memory_bias=3.0), seed=0)
    same = build_model(ModelConfig(cell="rnn", input_size=3, hidden_size=4, output_size=2), seed=0)
    assert all(torch.equal(a, b) for a, b in zip(plain.parameters(), same.parameters()))  # no gate: unchanged
    with pytest.raises(ValueError, match="memory_bias"):
        ModelConfig(memory_bias=50.0).validate()
    assert ModelConfig().memory_bias == 0.0  # 0: the init's own biases


@pytest.mark.slow  # ~4 s of one core when the machine is quiet; much longer on the shared one
def test_lstm_remembers_where_the_rnn_forgets(single_thread):
    """The gap on the long-memory task: the same data, order and seed, 5 epochs at N = 20 (noise 1.0)."""
    task = get_task("recall", distractors=20)
    splits = task.load()
    acc = {}
    for cell in ("rnn", "lstm"):
        mcfg, tcfg = task.configs("seed", cell=cell, epochs=5, stop_at=0.0)
        hist = fit(build_model(mcfg, seed=0), task, tcfg, splits=splits)
        acc[cell] = hist.epochs[-1]["val_accuracy"]
    assert acc["lstm"] >= 0.9, acc
    assert acc["rnn"] <= 0.6, acc  # 25 % is chance; the RNN has at best found part of the answer
