"""Curve figures: the right traces for train and validation, exact values, epoch-based x, smoothing that
follows the data, long runs thinned but ending on the last point, and one overlay line per compared run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.train.curves import MAX_POINTS, batch_x, ema, fig_compare, fig_curves, trace_names


def history(epochs: int = 3, batches: int = 4, metric: str = "accuracy"):
    batch_rows, epoch_rows, step = [], [], 0
    for e in range(1, epochs + 1):
        for b in range(1, batches + 1):
            step += 1
            batch_rows.append({"step": step, "epoch": e, "batch": b, "loss": 2.0 / step, metric: step / 100})
        epoch_rows.append({"epoch": e, "train_loss": 1.0 / e, f"train_{metric}": 0.2 * e,
                           "val_loss": 1.5 / e, f"val_{metric}": 0.1 * e})
    return batch_rows, epoch_rows


def test_loss_figure_has_batch_ema_train_and_val_traces_with_exact_values():
    batches, epochs = history()
    fig = fig_curves(batches, epochs, "loss", batches_per_epoch=4)
    assert trace_names(fig) == ["train · batch", "train · batch EMA", "train · epoch", "val · epoch"]
    raw, _smooth, train, val = fig.data
    assert list(raw.y) == [r["loss"] for r in batches]
    assert list(val.y) == [r["val_loss"] for r in epochs]
    assert list(train.x) == [1, 2, 3]
    assert raw.x[0] == pytest.approx(0.25) and raw.x[-1] == pytest.approx(3.0)  # batch b of B in epoch e: e-1+b/B
    assert fig.layout.yaxis.type == "log"
    assert "%{y:.6g}" in val.hovertemplate


def test_accuracy_figure_uses_the_metric_columns_and_a_0_to_1_axis():
    batches, epochs = history()
    fig = fig_curves(batches, epochs, "accuracy")
    assert trace_names(fig) == ["train · batch", "train · batch EMA", "train · epoch", "val · epoch"]
    assert list(fig.data[3].y) == pytest.approx([0.1, 0.2, 0.3])
    assert fig.layout.yaxis.type == "linear" and tuple(fig.layout.yaxis.range) == (0, 1.02)


def test_mse_task_and_stopped_epoch_without_validation():
    batches, epochs = history(metric="mse")
    epochs[-1].update(val_loss=None, val_mse=None)  # a stopped epoch has no validation
    fig = fig_curves(pd.DataFrame(batches), pd.DataFrame(epochs), "mse")
    val = fig.data[trace_names(fig).index("val · epoch")]
    assert list(val.x) == [1, 2]
    assert fig.layout.title.text == "MSE" and fig.layout.yaxis.type == "log"


def test_before_the_first_epoch_only_batch_traces_exist():
    batches, _ = history(epochs=1)
    assert trace_names(fig_curves(batches[:2], [], "loss")) == ["train · batch", "train · batch EMA"]
    assert trace_names(fig_curves([], [], "loss")) == []


def test_ema_is_bias_corrected_and_skips_missing_values():
    assert ema([3.0, 3.0, 3.0], 0.9) == pytest.approx([3.0, 3.0, 3.0])  # no pull towards 0 at the start
    out = ema([1.0, np.nan, 0.0], 0.5)
    assert out[0] == pytest.approx(1.0) and out[1] == pytest.approx(1.0)
    assert out[2] == pytest.approx((0.5 * 0.5 * 1.0) / (1 - 0.25))  # s=0.25, weight=0.75
    assert ema([], 0.9).shape == (0,)


def _ema_by_hand(values, smoothing):
    """The recurrence written out (the reference pandas' ewm must match)."""
    out, s, weight = [], 0.0, 0.0
    for x in values:
        if np.isfinite(x):
            s = smoothing * s + (1 - smoothing) * x
            weight = smoothing * weight + (1 - smoothing)
        out.append(s / weight if weight > 0 else np.nan)
    return np.array(out)


@pytest.mark.parametrize("smoothing", [0.0, 0.5, 0.9, 0.99])
def test_ema_gives_the_same_numbers_as_the_recurrence(smoothing):
    rng = np.random.default_rng(0)
    v = rng.normal(size=400)
    v[rng.random(400) < 0.2] = np.nan
    v[:3] = np.nan  # a curve that starts with missing points
    np.testing.assert_allclose(ema(v, smoothing), _ema_by_hand(v, smoothing), rtol=1e-12, atol=1e-12)


def test_batch_x_infers_batches_per_epoch():
    df = pd.DataFrame({"epoch": [1, 1, 2, 2], "batch": [1, 2, 1, 2]})
    assert list(batch_x(df)) == [0.5, 1.0, 1.5, 2.0]


def test_long_runs_are_thinned_but_keep_the_first_and_last_point():
    batches, epochs = history(epochs=1000, batches=5)
    fig = fig_curves(batches, epochs, "loss", batches_per_epoch=5)
    raw = fig.data[0]
    assert len(raw.x) <= MAX_POINTS
    assert raw.y[0] == batches[0]["loss"] and raw.y[-1] == batches[-1]["loss"]
    val = fig.data[3]
    assert len(val.x) <= MAX_POINTS and val.x[0] == 1 and val.x[-1] == 1000
    assert list(val.y) == [epochs[int(x) - 1]["val_loss"] for x in val.x]  # thinned, but exact values


def test_compare_overlays_one_line_per_run_with_the_column():
    _, a = history(epochs=3)
    _, b = history(epochs=5)
    fig = fig_compare({"run-a": a, "run-b": pd.DataFrame(b), "no-val": [{"epoch": 1, "train_loss": 1.0}]},
                      "val_accuracy")
    assert trace_names(fig) == ["run-a", "run-b"]
    assert list(fig.data[1].y) == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    assert fig.layout.yaxis.title.text == "validation accuracy"
    assert fig_compare({"run-a": a}, "val_loss").layout.yaxis.type == "log"
