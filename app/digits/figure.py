"""Plotly figures of the Digits page: the model's-eye view of one digit at its real resolution, and the digit
being read — the current row boxed, the rows still to come veiled — beside "when does it know", the class
probabilities after each row. Play and the step slider are the Inside figure's (frames move only shapes).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..inside.figure import step_controls
from ..style import FONT
from .reading import Reading

INK = [[0.0, "#ffffff"], [1.0, "#111111"]]  # 0 = paper, 1 = full ink, as the drawing looks
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]  # one per digit 0–9 (plotly's default cycle)


def _image_trace(image: np.ndarray) -> go.Heatmap:
    side = image.shape[0]
    return go.Heatmap(z=image.astype(np.float32), x=np.arange(side), y=np.arange(side), zmin=0, zmax=1,
                      colorscale=INK, showscale=False, xgap=0.5 if side <= 8 else 0, ygap=0.5 if side <= 8 else 0,
                      hovertemplate="row %{y}, column %{x}<br>ink %{z:.3f}<extra></extra>", name="image")


def fig_eye(image: np.ndarray, title: str) -> go.Figure:
    """The image the model reads, one cell per pixel (8×8 or 28×28), exact values on hover."""
    side = image.shape[0]
    fig = go.Figure(_image_trace(image))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False, showgrid=False, zeroline=False)
    fig.update_layout(title=dict(text=f"{title}<br><sup>{side}×{side} pixels</sup>", font=dict(size=13)),
                      height=300, width=300, margin=dict(l=10, r=10, t=60, b=10), font=dict(family=FONT),
                      template="plotly_white")
    return fig


def _row_shapes(side: int, t: int, columns: bool) -> list[dict]:
    """The box around step ``t``'s row (or column) and a veil over those not read yet."""
    lo, hi = t - 0.5, t + 0.5
    end = side - 0.5
    if columns:
        box = dict(x0=lo, x1=hi, y0=-0.5, y1=end)
        veil = dict(x0=hi, x1=max(hi, end), y0=-0.5, y1=end)
    else:
        box = dict(x0=-0.5, x1=end, y0=lo, y1=hi)
        veil = dict(x0=-0.5, x1=end, y0=hi, y1=max(hi, end))
    return [dict(type="rect", xref="x", yref="y", line=dict(color="#d62728", width=2.5), fillcolor="rgba(0,0,0,0)",
                 layer="above", **box),
            dict(type="rect", xref="x", yref="y", line=dict(width=0), fillcolor="rgba(255,255,255,0.72)",
                 layer="above", **veil)]


def fig_reading(r: Reading, columns: bool = False, frame_ms: int = 350) -> go.Figure:
    """Left: the digit with the step being read boxed and the unread part veiled. Right: p(digit) after each
    step, one line per digit (the final answer thick), a cursor at the current step. Play / slider animate."""
    side = r.image.shape[0]
    n = len(r.steps)
    xs = np.arange(n)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.36, 0.64], horizontal_spacing=0.08,
                        subplot_titles=("what it has read", "when does it know: p(digit) after each step"))
    fig.add_trace(_image_trace(r.image), row=1, col=1)
    fig.update_xaxes(row=1, col=1, showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(row=1, col=1, autorange="reversed", scaleanchor="x", showticklabels=False, showgrid=False,
                     zeroline=False)
    for d in range(r.probs.shape[1]):
        final = d == r.answer
        fig.add_trace(go.Scatter(
            x=xs + 1, y=r.probs[:, d], mode="lines+markers" if final else "lines", name=str(d),
            line=dict(color=COLOURS[d % len(COLOURS)], width=3.5 if final else 1.3), marker=dict(size=5),
            hovertemplate=f"after {r.steps[0].split()[0]} %{{x}}<br>p({d}) = %{{y:.4f}}<extra></extra>",
        ), row=1, col=2)
    fig.update_xaxes(row=1, col=2, title=dict(text=f"{r.steps[0].split()[0]}s read", font=dict(size=11)),
                     range=[0.5, n + 0.5], dtick=1 if n <= 10 else 4, showgrid=False)
    fig.update_yaxes(row=1, col=2, range=[-0.02, 1.02], title=dict(text="probability", font=dict(size=11)))

    def shapes(t: int) -> list[dict]:
        cursor = dict(type="line", xref="x2", yref="y2", x0=t + 1, x1=t + 1, y0=0, y1=1,
                      line=dict(color="#111", width=1.2, dash="dot"))
        return [*_row_shapes(side, t, columns), cursor]

    fig.layout.shapes = shapes(0)
    fig.frames = [go.Frame(name=str(t), layout=dict(shapes=shapes(int(t)))) for t in xs]
    labels = []
    for t in xs:
        top = int(r.probs[t].argmax())
        labels.append(f"<b>{r.steps[t]}</b> read · top guess <b>{top}</b> (p = {r.probs[t, top]:.2f})")
    step_controls(fig, xs, labels, frame_ms, 0.2)
    fig.update_layout(height=430, margin=dict(l=20, r=20, t=110, b=50), template="plotly_white",
                      font=dict(family=FONT, size=12),
                      legend=dict(title=dict(text="digit"), orientation="v", x=1.01, font=dict(size=10)))
    return fig
