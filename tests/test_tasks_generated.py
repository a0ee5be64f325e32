"""The generated tasks (letters, sine): data, encode / decode, bad input, and that their seed presets train
to the results the source notes report."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnn_core import build_model
from rnn_core.tasks import get_task, list_tasks
from rnn_core.tasks.letters import ALPHABET, check_input
from rnn_core.tasks.sine import make_wave
from rnn_core.train import evaluate, fit

# ------------------------------------------------------------------------------------------ letters


def test_letters_1in_is_the_notes_data():
    task = get_task("letters")
    s = task.load()
    assert s.train.x.shape == (4, 1, 5) and s.test is None
    assert [task.step_labels(s.train, i) for i in range(4)] == [["a"], ["b"], ["c"], ["d"]]
    assert [task.labels[k] for k in s.train.y.tolist()] == ["b", "c", "d", "e"]
    # A memorisation toy: validation is the very same patterns.
    assert torch.equal(s.val.x, s.train.x) and torch.equal(s.val.y, s.train.y)


def test_letters_4in_windows_over_the_cycle():
    task = get_task("letters", variant="4in")
    s = task.load()
    assert s.train.x.shape == (5, 4, 5)
    pairs = ["".join(task.step_labels(s.train, i)) + ">" + task.labels[int(s.train.y[i])] for i in range(5)]
    assert pairs == ["abcd>e", "bcde>a", "cdea>b", "deab>c", "eabc>d"]
    assert task.load(limit=2).train.x.shape[0] == 2 and len(task.load(limit=2).val) == 5


def test_letters_bad_variant_is_refused():
    with pytest.raises(ValueError, match="1in, 4in"):
        get_task("letters", variant="3in")


def test_letters_encode_one_hot_case_and_space_insensitive():
    task = get_task("letters")
    x, labels = task.encode(" A b\tE ")
    assert labels == ["a", "b", "e"]
    assert x.shape == (1, 3, 5)
    assert x[0].argmax(-1).tolist() == [0, 1, 4] and x.sum().item() == 3


@pytest.mark.parametrize(
    "text, message",
    [
        ("abx", r"'x' is not one of a, b, c, d, e"),
        ("a?zz", r"'\?', 'z' are not"),
        ("", "at least one letter"),
        ("   ", "at least one letter"),
        (42, "as text"),
    ],
)
def test_letters_encode_bad_input_says_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        get_task("letters").encode(text)


def test_letters_check_input_flags_without_raising():
    assert check_input("aXbz x") == (["a", "b"], ["x", "z"])
    assert check_input("") == ([], [])


def test_letters_decode():
    task = get_task("letters")
    logits = torch.tensor([0.0, 3.0, 0.0, 1.0, 0.0])
    for out in (logits, logits[None]):
        d = task.decode(out)
        assert d["prediction"] == "b"
        assert list(d["probabilities"]) == list(ALPHABET)
        assert math.isclose(sum(d["probabilities"].values()), 1.0, rel_tol=1e-6)
        assert d["probabilities"]["b"] > d["probabilities"]["d"] > d["probabilities"]["a"]
    with pytest.raises(ValueError, match=r"\[5\]"):
        task.decode(torch.zeros(3))


def test_letters_seed_presets_batch_holds_every_pattern():
    for preset in ("seed", "seed-4in"):
        task = get_task("letters", **get_task("letters").presets[preset].task)
        mcfg, tcfg = task.configs(preset)
        assert (mcfg.cell, mcfg.hidden_size, tcfg.lr, tcfg.epochs) == ("rnn", 3, 0.01, 100)
        assert tcfg.batch_size == len(task.load().train)  # one full batch per epoch, as Keras's 32 gives


def _train(task, preset, **overrides):
    mcfg, tcfg = task.configs(preset, **overrides)
    model = build_model(mcfg, seed=tcfg.seed)
    hist = fit(model, task, tcfg)
    return model, hist


PRESET_VARIANTS = [("seed", "1in"), ("seed-4in", "4in"), ("default", "1in"), ("default", "4in")]


@pytest.mark.slow
@pytest.mark.parametrize("preset, variant", PRESET_VARIANTS)
def test_letters_presets_get_every_letter_right(preset, variant):
    task = get_task("letters", variant=variant)
    model, hist = _train(task, preset, seed=0)
    assert hist.final_metrics()["val_accuracy"] == 1.0
    # What a person sees: typing each pattern gives the next letter, by the fused and by the replay path.
    for inp, target in zip(task.load().train.meta["text"], task.load().train.meta["target"]):
        x, _ = task.encode(inp)
        assert task.decode(model(x))["prediction"] == target
        _, cache = model.run_with_cache(x)
        assert task.decode(cache["hook_logits"][0, -1])["prediction"] == target


def test_letters_default_preset_needs_fewer_epochs_than_seed():
    task = get_task("letters")
    assert task.configs("default")[1].epochs < task.configs("seed")[1].epochs


# --------------------------------------------------------------------------------------------- sine


def test_sine_splits_shapes_and_determinism():
    task = get_task("sine")
    a, b, c = task.load(seed=0), task.load(seed=0), task.load(seed=1)
    assert a.train.x.shape == (2000, 60, 1) and a.train.y.shape == (2000, 60, 1)
    assert len(a.val) == 500 and len(a.test) == 500
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.test.y, b.test.y)
    assert not torch.allclose(a.train.x, c.train.x)
    assert not torch.allclose(a.train.x[:500], a.val.x)  # splits are different waves
    # Amplitude 1: sin² + cos² = 1 at every step; frequencies within 1–4 cycles per 60 steps.
    assert torch.allclose(a.train.x**2 + a.train.y**2, torch.ones(1), atol=1e-5)
    assert min(a.train.meta["freq"]) >= 1.0 and max(a.train.meta["freq"]) <= 4.0
    assert len(task.load(limit=100).train) == 100


def test_sine_options_window_and_sizes():
    task = get_task("sine", window=30, sizes=(20, 10, 0))
    s = task.load()
    assert s.train.x.shape == (20, 30, 1) and len(s.val) == 10 and s.test is None
    with pytest.raises(ValueError, match="window"):
        get_task("sine", window=5)
    with pytest.raises(ValueError, match="data must be"):
        get_task("sine", data="file")


def test_sine_notes_data_is_consecutive_windows_of_sin_k_pi_over_9():
    s = get_task("sine", data="notes", sizes=(40, 10, 10)).load()
    k = torch.arange(60, dtype=torch.float64)
    assert torch.allclose(s.train.x[3, :, 0].double(), torch.sin((k + 3) * math.pi / 9), atol=1e-6)
    assert torch.allclose(s.train.y[3, :, 0].double(), torch.cos((k + 3) * math.pi / 9), atol=1e-6)
    assert torch.equal(s.train.x[1, :-1], s.train.x[0, 1:])
    assert torch.allclose(s.val.x[0, :, 0].double(), torch.sin((k + 40) * math.pi / 9), atol=1e-6)


def test_sine_encode_accepts_numbers_in_many_forms():
    task = get_task("sine")
    for given in ([0, 0.5, 1.0], np.array([0, 0.5, 1.0]), torch.tensor([[0.0], [0.5], [1.0]]), "0, 0.5 1"):
        x, labels = task.encode(given)
        assert x.shape == (1, 3, 1) and x.dtype == torch.float32
        assert x.flatten().tolist() == [0.0, 0.5, 1.0]
        assert labels == ["0.00", "0.50", "1.00"]
    assert task.encode([3.0, -7.0])[0].flatten().tolist() == [3.0, -7.0]  # no rescaling here


@pytest.mark.parametrize(
    "given, message",
    [
        ([], "at least 2"),
        ([0.3], "at least 2"),
        (0.3, "at least 2"),
        ("", "at least 2"),
        ([0.0, float("nan"), 1.0], r"steps \[1\]"),
        ([0.0, float("inf")], "finite"),
        ("0, 1, abc", "'abc' not a number"),
        (["a", "b"], "list of numbers"),
        ([[0, 1], [2, 3]], "one curve"),
    ],
)
def test_sine_encode_bad_input_says_what_is_wrong(given, message):
    with pytest.raises(ValueError, match=message):
        get_task("sine").encode(given)


def test_sine_decode():
    task = get_task("sine")
    out = torch.tensor([0.25, -0.5, 1.0])
    assert task.decode(out.reshape(1, 3, 1)) == [0.25, -0.5, 1.0]
    assert task.decode(out) == [0.25, -0.5, 1.0]
    with pytest.raises(ValueError, match="shape"):
        task.decode(torch.zeros(2, 3, 1))


def test_make_wave_kinds():
    sine, cos = make_wave("sine", n=60, freq=3.0, phase=0.5, amplitude=2.0)
    t = np.arange(60)
    assert np.allclose(sine, 2 * np.sin(2 * np.pi * 3 * t / 60 + 0.5))
    assert np.allclose(cos, 2 * np.cos(2 * np.pi * 3 * t / 60 + 0.5))
    assert np.allclose(sine[20:], sine[:-20])  # 3 cycles per 60 steps: period 20
    square, none = make_wave("square", n=60, freq=1.0, amplitude=0.5)
    assert none is None and set(np.round(square, 6)) == {0.5, -0.5}
    assert square[:30].min() == 0.5 and square[30:].max() == -0.5
    saw, _ = make_wave("sawtooth", n=60, freq=1.0)
    assert saw[0] == pytest.approx(0.0) and np.all(np.diff(saw[:30]) > 0) and saw.min() >= -1 and saw.max() <= 1
    noisy, clean_cos = make_wave("noisy_sine", n=60, seed=1)
    assert np.allclose(clean_cos, make_wave("sine", n=60)[1])
    assert np.array_equal(noisy, make_wave("noisy_sine", n=60, seed=1)[0])
    assert not np.array_equal(noisy, make_wave("noisy_sine", n=60, seed=2)[0])
    assert 0.05 < np.std(noisy - make_wave("sine", n=60)[0]) < 0.2
    for bad in ({"kind": "triangle"}, {"n": 1}, {"freq": 0}, {"amplitude": float("nan")}, {"noise": -1}):
        with pytest.raises(ValueError):
            make_wave(**bad)


@pytest.mark.slow
def test_sine_seed_preset_reaches_low_error_after_warmup():
    """The notes' SimpleRNN(32) learns the mapping: val MSE (after the warm-up) under 0.01, and the
    first step — where rising and falling curves look alike — is far worse than the steps after warm-up."""
    task = get_task("sine")
    assert task.warmup == 10
    model, hist = _train(task, "seed", seed=0)
    assert hist.final_metrics()["val_mse"] < 0.01
    splits = task.load(seed=0)
    assert evaluate(model, task, splits.test)["mse"] < 0.01
    with torch.no_grad():
        err = (model(splits.val.x) - splits.val.y).pow(2).mean(dim=(0, 2))  # [seq]
    assert err[0] > 10 * err[task.warmup :].mean()


def test_generated_tasks_are_listed_with_seed_presets():
    by_name = {t["name"]: t for t in list_tasks()}
    assert "seed" in by_name["letters"]["presets"] and "seed-4in" in by_name["letters"]["presets"]
    assert by_name["sine"]["kind"] == "regress" and by_name["sine"]["metric"] == "mse"
