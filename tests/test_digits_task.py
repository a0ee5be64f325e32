"""The digits task beyond its data: drawings made into training-style images (MNIST's 20×20 box and centre of
mass; optdigits' 16 grey levels), blank / dot / scribble refused, the presets, and the double softmax as a real
model option whose cost shows in the loss."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from rnn_core import build_model, load_run
from rnn_core.mnist_idx import read_pair
from rnn_core.tasks import get_task, list_tasks
from rnn_core.tasks.digit_images import DrawingError, area_resize, ink, to_mnist
from rnn_core.train import evaluate, fit, loss_and_stats

MNIST = Path(os.environ["UNROLLED_DATA_DIR"]) / "mnist"


def canvas_digit(kind: str, size: int = 280, width: int = 18) -> np.ndarray:
    """A white-on-transparent RGBA canvas like the page's, with a '1' (vertical bar) or a '0' (ring) drawn."""
    yy, xx = np.mgrid[0:size, 0:size]
    if kind == "1":
        mask = (abs(xx - 150) < width / 2) & (yy > 50) & (yy < 230)
    elif kind == "0":
        r = np.hypot((xx - 140) / 0.7, yy - 140)
        mask = abs(r - 85) < width / 2
    else:
        raise ValueError(kind)
    rgba = np.zeros((size, size, 4), dtype=np.uint8)
    rgba[mask] = (0, 0, 0, 255)
    return rgba


def test_ink_reads_transparent_and_opaque_canvases_alike():
    rgba = canvas_digit("0")
    opaque = np.full_like(rgba, 255)
    opaque[rgba[..., 3] > 0] = (0, 0, 0, 255)  # black on white, no transparency
    assert np.allclose(ink(rgba), ink(opaque)) and ink(rgba).max() == 1.0
    full = np.zeros((280, 280, 3), dtype=np.uint8)  # black pen over the whole white canvas: all ink, not none
    assert ink(full).min() == 1.0  # white on black too


def test_mnist_preprocessing_fits_20x20_and_centres_the_mass():
    image = to_mnist(ink(canvas_digit("0")))
    assert image.shape == (28, 28) and image.min() >= 0 and image.max() <= 1
    rows, cols = np.flatnonzero(image.any(1)), np.flatnonzero(image.any(0))
    assert rows[-1] - rows[0] + 1 == 20 and cols[-1] - cols[0] + 1 <= 20  # the longer side fills the box
    total = image.sum()
    com = ((image.sum(1) * np.arange(28)).sum() / total, (image.sum(0) * np.arange(28)).sum() / total)
    assert abs(com[0] - 14) <= 0.5 and abs(com[1] - 14) <= 0.5
    assert ((image > 0.05) & (image < 0.95)).any()  # anti-aliased edges: grey, not just 0 / 1


def test_an_mnist_digit_blown_up_comes_back_as_itself():
    """The preprocessing inverts a plain enlargement of a real test image: what the page does to a drawing is
    what LeCun et al. did to theirs."""
    x, _ = read_pair(MNIST / "t10k-images-idx3-ubyte.gz", MNIST / "t10k-labels-idx1-ubyte.gz")
    scores = []
    for image in x[:50].astype(np.float64) / 255:
        big = np.kron(image, np.ones((10, 10)))  # [280, 280], as if drawn on the canvas
        back = to_mnist(big)
        scores.append(np.corrcoef(back.ravel(), image.ravel())[0, 1])
    assert np.median(scores) > 0.9 and min(scores) > 0.6


def test_8x8_preprocessing_gives_16_grey_levels_like_scikit_learn():
    task = get_task("digits")
    image = task.preprocess(canvas_digit("1"))
    counts = image * 16
    assert image.shape == (8, 8) and np.allclose(counts, counts.round()) and counts.max() == 16
    assert (image.sum(axis=1) > 0).all()  # as in scikit-learn's set, the digit spans every row
    assert image[:, :2].sum() == 0 and image[:, -2:].sum() == 0  # a narrow '1' stays in the middle columns
    ref = get_task("digits").load().train.x.mean().item()  # scikit-learn's mean ink 0.305
    assert 0.1 < get_task("digits").preprocess(canvas_digit("0")).mean() < 2 * ref


@pytest.mark.parametrize("picture, words", [
    (np.zeros((280, 280, 4), dtype=np.uint8), "blank"),
    (np.pad(np.full((6, 6), 255, dtype=np.uint8), 137), "blank"),  # a speck below MIN_INK
    (np.pad(np.full((24, 24), 255, dtype=np.uint8), 128), "only a dot"),  # a dab of the pen
    (np.full((280, 280), 200, dtype=np.uint8) * (np.random.default_rng(0).random((280, 280)) > 0.3), "scribble"),
    (np.zeros((5,)), "shape"),
])
def test_blank_dot_and_scribble_are_refused_not_guessed(picture, words):
    for source in ("sklearn", "mnist"):
        with pytest.raises(DrawingError, match=words):
            get_task("digits", source=source).encode(picture)


def test_encode_gives_the_model_input_and_row_labels():
    task = get_task("digits", source="mnist")
    x, steps = task.encode(canvas_digit("1"))
    assert x.shape == (1, 28, 28) and steps[0] == "row 1" and len(steps) == 28
    cols = get_task("digits", source="mnist", read="columns")
    xc, steps_c = cols.encode(canvas_digit("1"))
    assert torch.equal(xc, x.transpose(1, 2)) and steps_c[-1] == "col 28"
    xj, _ = task.encode(str(canvas_digit("1")[..., 3].tolist()))  # JSON text, as the CLI passes it
    assert torch.allclose(xj, x)


def test_area_resize_keeps_the_mean():
    a = np.random.default_rng(1).random((37, 23))
    assert np.isclose(area_resize(a, 20, 9).mean(), a.mean())


def test_presets_are_the_notes_settings():
    assert "digits" in [t["name"] for t in list_tasks()]
    task = get_task("digits", source="mnist")
    m, t = task.configs("seed")
    assert (m.cell, m.hidden_size, m.input_size, m.head, m.output_size) == ("lstm", 100, 28, "last", 10)
    assert (t.optimizer, t.lr, t.batch_size, t.epochs, t.clip_grad) == ("adam", 1e-4, 50, 6, 0.0)
    assert not m.double_softmax
    m2, t2 = task.configs("seed-as-written")
    assert m2.double_softmax and m2.replace(double_softmax=False) == m and t2 == t
    assert get_task("digits").configs("default")[0].input_size == 8
    assert task.presets["seed"].task == {"source": "mnist", "read": "rows"}


def test_double_softmax_floors_the_loss_and_keeps_predictions():
    logits = torch.tensor([[20.0, -20.0] + [-20.0] * 8])  # [1, 10]: certain and right
    y = torch.tensor([0])
    lengths = torch.tensor([1])
    plain = loss_and_stats("classify", logits, y, lengths)[0].item()
    double, correct, _, _ = loss_and_stats("classify", logits, y, lengths, double_softmax=True)
    assert plain < 1e-6
    assert double.item() == pytest.approx(np.log(1 + 9 / np.e), abs=1e-4) and correct == 1.0


@pytest.mark.slow
def test_the_config_flag_reaches_training_and_slows_it():
    task = get_task("digits")
    splits = task.load(limit=200)
    results = {}
    for flag in (False, True):
        mcfg, tcfg = task.configs("default", epochs=3, lr=0.02, hidden_size=16, batch_size=20, double_softmax=flag)
        model = build_model(mcfg, seed=0)
        hist = fit(model, task, tcfg, splits=splits)
        results[flag] = (hist.epochs[-1]["train_loss"], evaluate(model, task, splits.test)["loss"])
    assert results[True][0] > 1.46 and results[True][1] > 1.46  # both training and evaluation honour it
    assert results[False][0] < results[True][0] - 0.3


def test_bundled_8x8_model_reads_the_held_out_digits():
    run = load_run("digits-8x8")
    assert run.task.source == "sklearn" and run.model_cfg.input_size == 8
    splits = run.task.load()
    assert evaluate(run.model, run.task, splits.test)["accuracy"] >= 0.97
    x, _ = run.task.encode(canvas_digit("0"))
    assert run.task.decode(run.model(x))["prediction"] == "0"


@pytest.mark.slow
def test_default_8x8_preset_reaches_97_percent_on_the_held_out_images():
    task = get_task("digits")
    mcfg, tcfg = task.configs("default")
    splits = task.load(seed=tcfg.seed)
    model = build_model(mcfg, seed=tcfg.seed)
    fit(model, task, tcfg, splits=splits)
    assert evaluate(model, task, splits.test)["accuracy"] >= 0.97  # 0.986 measured (seed 0)
