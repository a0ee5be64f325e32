"""Pure plotly figure builders for training curves. Each ``fig_*`` takes plain rows or DataFrames and returns
a ``go.Figure``; none calls ``st.*``, so they are unit-tested directly.

The x axis is in epochs: batch ``b`` of ``B`` in epoch ``e`` sits at ``e - 1 + b / B``, so per-batch points and
the per-epoch points (at ``x = e``) share one axis. Hover shows exact values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

TRAIN_COLOR = "#2563eb"
VAL_COLOR = "#ea580c"
# A trace longer than this is thinned evenly before drawing: the page re-sends its figures twice a second while
# training, and a browser redrawing tens of thousands of points each time stops responding to clicks.
MAX_POINTS = 600
LABELS = {"loss": "loss", "accuracy": "accuracy", "mse": "MSE"}
READ_CURVES = (
    "How to read this: x is epochs. The faint blue line is every batch, the solid blue line its moving average "
    "(EMA); dotted blue is the whole-epoch train value, orange the validation value after each epoch. Loss uses a "
    "log scale. Validation clearly worse than train means the network memorises rather than generalises."
)
PALETTE = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777", "#4b5563")


def ema(values: Iterable[float], smoothing: float = 0.9) -> np.ndarray:
    """Exponential moving average with bias correction (TensorBoard's smoothing), by pandas' ``ewm``.

    s_t = smoothing * s_{t-1} + (1 - smoothing) * v_t,  s_0 = 0;  shown value = s_t / (1 - smoothing^t).
    The correction removes the pull towards 0 at the start (``adjust=True``). Missing values (NaN) are skipped
    and carry the previous smoothed value (``ignore_na=True``).
    """
    v = pd.Series(np.asarray(list(values), dtype=float))
    alpha = min(1.0, max(1e-9, 1.0 - smoothing))  # ewm needs 0 < alpha <= 1
    return v.ewm(alpha=alpha, adjust=True, ignore_na=True).mean().to_numpy()


def _frame(rows: Any) -> pd.DataFrame:
    if rows is None:
        return pd.DataFrame()
    return rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))


def batch_x(batches: pd.DataFrame, batches_per_epoch: int | None = None) -> np.ndarray:
    """Fractional-epoch x of each batch row: ``epoch - 1 + batch / batches_per_epoch``.

    Without ``batches_per_epoch`` the largest batch index seen in each epoch is used.
    """
    if batches.empty:
        return np.zeros(0)
    per = batches_per_epoch or batches.groupby("epoch")["batch"].transform("max")
    return (batches["epoch"] - 1 + batches["batch"] / per).to_numpy(dtype=float)


def _thin(n: int, limit: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most ``limit`` evenly spaced points out of ``n`` (always keeping the last)."""
    if n <= limit:
        return np.arange(n)
    idx = np.linspace(0, n - 1, limit).round().astype(int)
    return np.unique(idx)


def _layout(fig: go.Figure, title: str, ytitle: str, key: str, height: int) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=15)),
        height=height,
        margin=dict(l=10, r=10, t=36, b=10),
        hovermode="x unified",
        legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0),
        template="plotly_white",
    )
    fig.update_xaxes(title_text="epoch", rangemode="tozero")
    log = key in ("loss", "mse")
    if not fig.data:  # empty axes before training: no made-up scale (plotly's default log axis reads 0.1..1e4)
        fig.update_xaxes(range=[0, 10])
        fig.update_yaxes(title_text=ytitle, showticklabels=False, range=[0, 1])
        fig.add_annotation(text="the curve appears with the first batch", showarrow=False, xref="paper",
                           yref="paper", x=0.5, y=0.5, font=dict(color="#6b7280"))
        return fig
    ticks = log_ticks(_y_values(fig)) if log else None
    fig.update_yaxes(title_text=ytitle, type="log" if log else "linear",
                     tickvals=ticks, ticktext=[f"{v:.3g}" for v in ticks] if ticks else None,
                     range=[0, 1.02] if key == "accuracy" else None)
    return fig


def _y_values(fig: go.Figure) -> np.ndarray:
    """Every finite positive y value drawn (what a log axis spans)."""
    ys = [np.asarray(t.y, dtype=float) for t in fig.data if t.y is not None]
    y = np.concatenate(ys) if ys else np.zeros(0)
    return y[np.isfinite(y) & (y > 0)]


def log_ticks(values: np.ndarray, most: int = 6) -> list[float] | None:
    """Tick values for a log axis over ``values``, each labelled in full: 1-2-5 per decade when the data span
    decades, finer round numbers (0.3, 0.4, 0.5) when they span less — plotly's own log ticks leave a curve that
    stays between 0.25 and 0.7 with no number at all. At least two ticks when the data vary; None with no data."""
    if values.size == 0:
        return None
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo * 1.0001:  # one value: one tick at it
        return [float(f"{lo:.3g}")]
    decades = range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
    ticks: list[float] = []
    for mantissas in ((1,), (1, 2, 5), (1, 1.5, 2, 3, 4, 5, 6, 7, 8)):
        ticks = [float(f"{m * 10.0**d:.3g}") for d in decades for m in mantissas if lo <= m * 10.0**d <= hi]
        if len(ticks) >= 3:
            break
    if len(ticks) < 2:  # under a factor of 1.5: round numbers on a linear step
        step = 10.0 ** np.floor(np.log10((hi - lo) / 3))
        step *= next(k for k in (1, 2, 2.5, 5, 10) if (hi - lo) / (step * k) <= 4)
        ticks = [float(f"{v:.4g}") for v in np.arange(np.ceil(lo / step) * step, hi + step / 2, step) if lo <= v <= hi]
    if len(ticks) > most:
        ticks = ticks[:: int(np.ceil(len(ticks) / most))]
    return ticks


def default_smoothing(batches_per_epoch: int | None) -> float:
    """EMA smoothing for a run: 0.9 (about ten batches) once an epoch has ten batches or more, less for fewer, and
    none for one batch per epoch, so the smoothed line never lags the per-epoch points by more than an epoch."""
    n = max(1, batches_per_epoch or 1)
    return min(0.9, 1 - 1 / n)


def chart_title(key: str, warmup: int = 0) -> str:
    """The chart's title; with ``warmup`` steps (a regression task) it says which steps each value covers, since the
    loss counts the first steps that no model can get right and the MSE leaves them out."""
    label = LABELS.get(key, key)
    title = label[:1].upper() + label[1:]
    if warmup and key == "loss":
        return f"{title} — every step, incl. the first {warmup} warm-up steps"
    if warmup and key == "mse":
        return f"{title} — after the first {warmup} warm-up steps (so below the loss)"
    return title


def epoch_x(epochs: pd.DataFrame, batches: pd.DataFrame, batches_per_epoch: int | None = None) -> np.ndarray:
    """x of each per-epoch row: the epoch's last batch on the batch axis, so an epoch cut short by Stop sits at
    the fraction of it that was trained (2.4), not at a whole epoch; the epoch number when no batches are known."""
    x = epochs["epoch"].to_numpy(dtype=float)
    if batches.empty or "epoch" not in batches:
        return x
    last = pd.Series(batch_x(batches, batches_per_epoch)).groupby(batches["epoch"].to_numpy()).max()
    return np.array([min(e, last.get(e, e)) for e in x], dtype=float)


def fig_curves(batches: Any, epochs: Any, key: str = "loss", batches_per_epoch: int | None = None,
               smoothing: float | None = None, title: str | None = None, height: int = 340,
               warmup: int = 0) -> go.Figure:
    """Train and validation curves of one quantity (``key``: "loss", "accuracy" or "mse").

    Every trace keeps at most MAX_POINTS evenly spaced points (the first and last always among them).
    Traces, in order (each only when it has data): "train · batch" (raw per-batch values, faint),
    "train · batch EMA" (smoothed), "train · epoch" and "val · epoch" (per-epoch values from
    ``train_<key>`` / ``val_<key>``, at ``epoch_x``). Per-batch accuracy / MSE is the running mean within the
    epoch, as ``fit`` reports it. Loss and MSE use a log axis, since they shrink by orders of magnitude.
    ``smoothing`` defaults to ``default_smoothing(batches_per_epoch)``; ``warmup`` goes into the title
    (``chart_title``).
    """
    b, e = _frame(batches), _frame(epochs)
    label = LABELS.get(key, key)
    fig = go.Figure()
    if not b.empty and key in b and b[key].notna().any():
        x = batch_x(b, batches_per_epoch)
        y = b[key].to_numpy(dtype=float)
        per = batches_per_epoch or int(b["batch"].max())
        smooth = ema(y, default_smoothing(per) if smoothing is None else smoothing)
        keep = _thin(len(y))
        hover = "%{y:.6g}<extra>%{fullData.name}</extra>"
        fig.add_trace(go.Scatter(x=x[keep], y=y[keep], name="train · batch", mode="lines", hovertemplate=hover,
                                 line=dict(color=TRAIN_COLOR, width=1), opacity=0.3))
        fig.add_trace(go.Scatter(x=x[keep], y=smooth[keep], name="train · batch EMA", mode="lines",
                                 hovertemplate=hover, line=dict(color=TRAIN_COLOR, width=2)))
    for split, color, dash in (("train", TRAIN_COLOR, "dot"), ("val", VAL_COLOR, "solid")):
        col = f"{split}_{key}"
        if e.empty or col not in e or not e[col].notna().any():
            continue
        rows = e[e[col].notna()]
        rows = rows.iloc[_thin(len(rows))]
        fig.add_trace(go.Scatter(
            x=epoch_x(rows, b, batches_per_epoch), y=rows[col], name=f"{split} · epoch",
            mode="lines+markers" if len(rows) <= 40 else "lines",
            hovertemplate="%{y:.6g}<extra>%{fullData.name}</extra>",
            line=dict(color=color, width=2, dash=dash), marker=dict(size=5),
        ))
    return _layout(fig, title or chart_title(key, warmup), label, key, height)


def fig_compare(runs: Mapping[str, Any], column: str = "val_loss", title: str | None = None,
                height: int = 380) -> go.Figure:
    """One line per run: ``column`` of its per-epoch metrics (e.g. "val_loss", "val_accuracy", "val_mse").

    ``runs`` maps a run name to its metrics rows; runs without that column are left out.
    """
    key = column.split("_", 1)[-1]
    fig = go.Figure()
    for i, (name, rows) in enumerate(runs.items()):
        e = _frame(rows)
        if e.empty or column not in e or not e[column].notna().any():
            continue
        e = e[e[column].notna()]
        e = e.iloc[_thin(len(e))]
        fig.add_trace(go.Scatter(
            x=e["epoch"], y=e[column], name=name, mode="lines+markers" if len(e) <= 40 else "lines",
            hovertemplate="%{y:.6g}<extra>%{fullData.name}</extra>",
            line=dict(color=PALETTE[i % len(PALETTE)], width=2), marker=dict(size=5),
        ))
    split = {"val": "validation", "train": "train"}.get(column.split("_", 1)[0], column.split("_", 1)[0])
    label = f"{split} {LABELS.get(key, key)}"
    return _layout(fig, title or f"{label[:1].upper() + label[1:]} per epoch", label, key, height)


def trace_names(fig: go.Figure) -> list[str]:
    """Names of a figure's traces, in order (tests and captions use it)."""
    return [t.name for t in fig.data]
