"""The Sine playground's parts: the model's answer for a curve and the nearest sine to a drawn curve (pure), the
figure of input, answer and error, and the grid drawn on the canvas. The heatmaps come from ``app.inside.figure``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from ..inside.data import StepPrediction, step_prediction
from ..style import FONT

INPUT, PRED, TRUE = "#4b5563", "#d62728", "#1f77b4"
MARGIN = dict(l=70, r=60)  # the unrolled figure's side margins, so a curve's steps sit over its columns

def sine_prediction(pred: np.ndarray, cosine: np.ndarray | None) -> StepPrediction:
    """The model's cosine per step (and the true one when known) for the row under the heatmaps."""
    return step_prediction("regress", pred.reshape(-1, 1), ["cos"], None if cosine is None else cosine.reshape(-1, 1))


def fig_sine(values: np.ndarray, pred: np.ndarray, cosine: np.ndarray | None = None, warmup: int = 0,
             height: int = 380) -> go.Figure:
    """The input curve, the model's output over it, and — when the input is a sine — the true cosine with the
    per-step error as bars beneath. Steps are placed as in the unrolled figure (same x range and margins)."""
    n = len(values)
    xs = np.arange(n)
    rows = 2 if cosine is not None else 1
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.72, 0.28] if rows == 2 else [1.0])
    fig.add_trace(go.Scatter(x=xs, y=values, name="input", mode="lines+markers", marker=dict(size=4),
                             line=dict(color=INPUT, width=1.5),
                             hovertemplate="step %{x}<br>input %{y:.3f}<extra></extra>"), row=1, col=1)
    if cosine is not None:
        fig.add_trace(go.Scatter(x=xs, y=cosine, name="true cosine", mode="lines",
                                 line=dict(color=TRUE, width=2, dash="dash"),
                                 hovertemplate="step %{x}<br>true cosine %{y:.3f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=xs, y=pred, name="prediction", mode="lines", line=dict(color=PRED, width=2.5),
                             hovertemplate="step %{x}<br>prediction %{y:.3f}<extra></extra>"), row=1, col=1)
    if cosine is not None:
        err = pred - cosine
        colours = np.where(xs < warmup, "#d1d5db", np.where(err >= 0, "#ef8a62", "#67a9cf"))
        fig.add_trace(go.Bar(x=xs, y=err, name="error", marker=dict(color=colours.tolist()), showlegend=False,
                             hovertemplate="step %{x}<br>prediction − true %{y:+.3f}<extra>error</extra>"),
                      row=2, col=1)
        fig.update_yaxes(title=dict(text="error", font=dict(size=11)), zeroline=True, zerolinecolor="#9ca3af",
                         row=2, col=1)
        if warmup:
            fig.add_vrect(x0=-0.5, x1=warmup - 0.5, fillcolor="#9ca3af", opacity=0.08, line_width=0, row="all", col=1)
    fig.update_yaxes(title=dict(text="value", font=dict(size=11)), zeroline=True, zerolinecolor="#d1d5db", row=1, col=1)
    fig.update_xaxes(range=[-0.5, n - 0.5], showgrid=False)
    fig.update_xaxes(title=dict(text="time step", font=dict(size=11)), row=rows, col=1)
    fig.update_layout(height=height, margin=dict(**MARGIN, t=30, b=40), template="plotly_white",
                      font=dict(family=FONT, size=12), hovermode="x unified", bargap=0.15,
                      legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom"))
    return fig


@dataclass
class SineFit:
    """The sine nearest to a curve: values ≈ amplitude·sin(θ_t + phase) + offset, θ_t = 2π·freq·t/60 (freq in
    cycles per 60 steps, as the task counts them); ``r2`` the share of the curve's variance it explains;
    ``cosine`` [n] amplitude·cos(θ_t + phase), the answer the task's mapping gives for that sine."""

    freq: float
    phase: float
    amplitude: float
    offset: float
    r2: float
    cosine: np.ndarray
    half_range: float  # (max − min) / 2 of the curve

    def is_sine(self, min_r2: float = 0.95) -> bool:
        """Close enough to call the curve a sine: the fit explains ≥ ``min_r2`` of it, with little offset, and
        the curve reaches the sine's peaks (a ramp or a gentle bend also fits a slice of a larger, slower sine)."""
        return (self.r2 >= min_r2 and abs(self.offset) <= 0.2 * self.amplitude
                and self.amplitude <= 1.2 * self.half_range)


def nearest_sine(values: np.ndarray, freqs: np.ndarray | None = None) -> SineFit:
    """Least-squares sine fit: for each candidate frequency (default 0.25–8 cycles per 60 steps) solve
    values ≈ p·sin θ + q·cos θ + c, keep the best; then amplitude = √(p² + q²), phase = atan2(q, p), and the
    matching cosine is p·cos θ − q·sin θ."""
    v = np.asarray(values, dtype=np.float64)
    t = np.arange(len(v))
    freqs = np.arange(0.25, 8.0001, 0.01) if freqs is None else np.asarray(freqs, dtype=np.float64)
    theta = 2 * np.pi * freqs[:, None] * t[None, :] / 60  # [freqs, n]
    best = (np.inf, 0, np.zeros(3))
    for k, th in enumerate(theta):
        basis = np.stack([np.sin(th), np.cos(th), np.ones_like(th)], axis=1)  # [n, 3]
        coef, *_ = np.linalg.lstsq(basis, v, rcond=None)
        sse = float(np.sum((basis @ coef - v) ** 2))
        if sse < best[0]:
            best = (sse, k, coef)
    sse, k, (p, q, c) = best
    th = theta[k]
    total = float(np.sum((v - v.mean()) ** 2))
    r2 = 1.0 - sse / total if total > 0 else 0.0
    return SineFit(float(freqs[k]), float(np.arctan2(q, p)), float(np.hypot(p, q)), float(c), r2,
                   p * np.cos(th) - q * np.sin(th), float(np.ptp(v)) / 2 if len(v) else 0.0)


def sine_error(pred: np.ndarray, cosine: np.ndarray, warmup: int) -> float:
    """Mean squared error after the first ``warmup`` steps (the task's metric)."""
    return float(np.mean((pred[warmup:] - cosine[warmup:]) ** 2))


@st.cache_data(max_entries=4, show_spinner=False)
def canvas_grid(width: int, height: int, steps: int) -> bytes:
    """A PNG to draw on: a faint line every 10 steps of the model's window, the middle (0) line darker and the
    ±1 levels of the "canvas" scale at the edges — so a person sees where their drawing's steps fall."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), "#fbfbfd")
    draw = ImageDraw.Draw(img)
    for t in range(0, steps, 10):
        x = round(t * (width - 1) / max(1, steps - 1))
        draw.line([(x, 0), (x, height)], fill="#eceef3")
    for frac in (0.25, 0.75):
        draw.line([(0, round(height * frac)), (width, round(height * frac))], fill="#eceef3")
    draw.line([(0, height // 2), (width, height // 2)], fill="#c9ced8", width=1)
    buf = BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
