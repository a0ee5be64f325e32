"""Plotly figure builders for the Inside page: the network unrolled over time (one static heatmap per
quantity, time × units, the inputs and the per-step prediction beneath), animated in the browser by
frames that move only a step cursor and rewrite the equation text. Pure builders: no ``st.*`` calls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..style import FONT
from .data import GATES, NAMES, QUANTITIES, StepPrediction, equation_html, prediction_text

if TYPE_CHECKING:
    from ..run_access import Replay

DIVERGING = "RdBu_r"  # blue < 0 < red, white at 0
SEQUENTIAL = "Viridis"  # gates: dark = closed (0), yellow = open (1)
PROBS = "Blues"
# Margins in px around the heatmaps: the row titles and unit names (left), the colour bars (right), the time axis
# and the legend (bottom). Wide enough that plotly need not widen them as it draws: widening redraws the figure.
MARGIN_L, MARGIN_R, MARGIN_B = 70, 70, 90
HOW_TO_READ = {
    "h": "Hidden state h: what the cell passes to the next step and to the head; blue < 0 < red.",
    "c": "Cell state c: the LSTM's long-term memory, changed only through the gates; blue < 0 < red.",
    "i": "Input gate i: how much of the candidate g is written into the cell (0 closed, 1 open).",
    "f": "Forget gate f: how much of the old cell state is kept (1 keeps everything).",
    "g": "Candidate g: the new content offered to the cell, in (−1, 1).",
    "o": "Output gate o: how much of tanh(c) is shown as h.",
    "r": "Reset gate r: how much of the old state feeds the candidate n.",
    "z": "Update gate z: 1 keeps the old state, 0 takes the candidate n.",
    "n": "Candidate n: the GRU's proposed new state, in (−1, 1).",
    "pre": "Pre-activation: input plus recurrent sum before tanh; large |values| saturate h.",
    "prediction.classify": "Prediction row: the class probabilities the head gives if the input ended at that step "
    "(darker = likelier); ○ marks the true label.",
    "prediction.tag": "Prediction row: each step's tag probabilities (darker = likelier); ○ marks the true tag.",
    "prediction.regress": "Output row: the predicted value at each step (red) against the target (dotted), when known.",
    # A bidirectional model whose head reads the last step: its backward half has read the whole input at every step.
    "prediction.bidirectional": "Bidirectional model: at every step the backward direction has already read the "
    "whole input (it runs from the end), so the prediction row is not what the model would say had the input "
    "ended there — only its forward half reads left to right.",
}
CAPTION = (
    "How to read this: time runs left to right, one row per unit; each block is one quantity. "
    "Press Play or drag the slider to walk through the steps — the box marks the current step and the text "
    "above works the chosen unit's equations with that step's numbers."
)


def _input_mode(inputs: np.ndarray | None) -> str:
    """How the input row draws: "line" (one numeric feature), "grid" (a few features), "words" (labels only)."""
    if inputs is None or np.ndim(inputs) != 2:
        return "words"
    return "line" if np.shape(inputs)[1] == 1 else "grid" if np.shape(inputs)[1] <= 64 else "words"


def _layout_rows(units: int, n_q: int, pred: StepPrediction | None, mode: str, inputs: np.ndarray | None) -> list[int]:
    """Row heights in px: heatmaps, the input row, the prediction row. A grid of inputs gets 12 px per feature (up
    to 150) so plotly names every one of a few features (it drops every other name below ~10 px a row)."""
    heat = int(np.clip(units * 3, 56, 150))
    grid = int(np.clip(np.shape(inputs)[1] * 12, 46, 150)) if mode == "grid" and inputs is not None else 46
    rows = [heat] * n_q + [86 if mode == "words" else grid]
    if pred is not None:
        rows.append(110 if pred.kind == "regress" else int(np.clip(len(pred.names) * 16, 48, 120)))
    return rows


def _zrange(views: Mapping[str, Mapping[str, np.ndarray]], q: str) -> tuple[float, float]:
    if q in GATES:
        return 0.0, 1.0
    if q in ("h", "g", "n"):
        return -1.0, 1.0
    # c and pre are unbounded: symmetric around 0 over every direction so the colours compare.
    m = max(float(np.abs(v[q]).max()) if v[q].size else 0.0 for v in views.values())
    return -max(1.0, m), max(1.0, m)


def _nice_step(n: int, most: int = 12) -> int:
    """A round tick spacing (1, 2, 5, 10, 20, 25, 50…) giving at most ``most`` ticks over ``n`` steps."""
    for base in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if n / base <= most:
            return base
    return int(np.ceil(n / most))


def _tick_labels(steps: list[str], xs: np.ndarray, max_labels: int = 60) -> tuple[list[int], list[str], int]:
    stride = max(1, int(np.ceil(len(xs) / max_labels)))
    vals = [int(x) for x in xs[::stride]]
    text = [(steps[x][:10] + "…") if len(steps[x]) > 11 else steps[x] for x in vals]
    longest = max((len(s) for s in text), default=0)
    return vals, text, (0 if longest <= 3 and len(xs) <= 40 else -60)


def _text_px(labels: list[str]) -> int:
    """A generous width in px of the longest line of the step texts at 12 px (markup left out)."""
    lines = (re.sub(r"<[^>]+>", "", line) for label in labels for line in label.split("<br>"))
    return int(6.6 * max((len(line) for line in lines), default=0))


def _fixed_width(n_steps: int, n_cols: int, labels: list[str]) -> int | None:
    """A few steps: a width keeping cells near square rather than stretched across the page, yet wide enough for
    the longest line of the step text. None (the page's width) otherwise."""
    if n_steps * n_cols > 12:
        return None
    return max(int(180 + n_cols * max(n_steps, 3) * 95), MARGIN_L + _text_px(labels) + 40)


def _step_text(fig: go.Figure, xs: np.ndarray, labels: list[str], n_cols: int, yshift: int) -> None:
    """The step's text (equations, prediction) above the heatmaps, and one frame per step moving the cursor boxes
    and rewriting that text. The text is an annotation placed on the first x axis's domain ("x domain"): plotly
    redraws axis-tied annotations and shapes in a no-redraw transition, but keeps a paper-placed one as first drawn.
    It replaces a slider current-value label, which made plotly measure every step's multi-line text several times
    as the figure drew (seconds for a 170-step review)."""
    fig.layout.annotations = (dict(
        text=labels[0], xref="x domain", yref="paper", x=0, y=1, yshift=yshift, xanchor="left", yanchor="bottom",
        align="left", showarrow=False, font=dict(size=12, color="#222", family=FONT)), *fig.layout.annotations)
    fig.frames = [go.Frame(name=str(t), layout=dict(shapes=[dict(x0=t - 0.5, x1=t + 0.5)] * n_cols,
                                                    annotations=[dict(text=label)]))
                  for t, label in zip(xs, labels, strict=True)]


def fig_unrolled(
    views: Mapping[str, Mapping[str, np.ndarray]],
    steps: list[str],
    cell: str,
    *,
    quantities: tuple[str, ...] | None = None,
    order: np.ndarray | None = None,
    unit: int = 0,
    window: tuple[int, int] | None = None,
    inputs: np.ndarray | None = None,
    input_names: list[str] | None = None,
    prediction: StepPrediction | None = None,
    prediction_title: str | None = None,
    frame_ms: int = 450,
) -> go.Figure:
    """The unrolled network for one layer.

    ``views``: direction ("fwd", "bwd") → quantity → activations [seq, units]; directions become
    columns side by side over the same inputs. ``steps``: a label per step. ``quantities``: which to
    draw (default: every one the cell has). ``order``: unit order (row 0 on top). ``unit``: whose
    equations the text works out. ``window``: [start, stop) of steps drawn. ``inputs``: numeric input
    [seq, features] for the input row (a line for one feature, a grey heatmap for a few); tokens show
    as labels only. ``prediction``: the per-step head output for the bottom row, titled
    ``prediction_title`` (default "p(class)" or "output").

    One frame per step in the window; a frame carries only the cursor position and the equation text.
    """
    dirs = list(views)
    first = views[dirs[0]]
    seq, units = first["h"].shape
    qs = tuple(q for q in (quantities or QUANTITIES[cell]) if q in first)
    if not qs:
        raise ValueError(f"choose at least one of {', '.join(QUANTITIES[cell])} to draw")
    if len(steps) != seq:
        raise ValueError(f"{len(steps)} step labels for {seq} steps")
    start, stop = window or (0, seq)
    xs = np.arange(start, stop)
    order = np.arange(units) if order is None else np.asarray(order)
    unit = int(np.clip(unit, 0, units - 1))
    ylab = [f"u{k}" for k in order]
    mode = _input_mode(inputs)
    heights = _layout_rows(units, len(qs), prediction, mode, inputs)
    n_rows, n_cols = len(heights), len(dirs)
    gap_px = 14
    plot_px = sum(heights) + gap_px * (n_rows - 1)
    fig = make_subplots(
        rows=n_rows,
        cols=n_cols,
        shared_xaxes=True,
        row_heights=heights,
        vertical_spacing=gap_px / plot_px,
        horizontal_spacing=0.06 if n_cols > 1 else 0.0,
        column_titles=[("forward →" if d == "fwd" else "← backward") for d in dirs] if n_cols > 1 else None,
    )
    domains = [fig.get_subplot(r + 1, 1).yaxis.domain for r in range(n_rows)]

    for c, d in enumerate(dirs, start=1):
        for r, q in enumerate(qs, start=1):
            zmin, zmax = _zrange(views, q)
            gate = q in GATES
            dom = domains[r - 1]
            z = views[d][q][start:stop][:, order].T.astype(np.float32)  # [units, window]
            fig.add_trace(
                go.Heatmap(
                    z=z, x=xs, y=ylab, zmin=zmin, zmax=zmax, zmid=None if gate else 0.0,
                    colorscale=SEQUENTIAL if gate else DIVERGING,
                    showscale=c == n_cols,
                    colorbar=dict(title=dict(text=q, side="right"), y=(dom[0] + dom[1]) / 2,
                                  len=(dom[1] - dom[0]) * 1.02,
                                  thickness=10, x=1.005, xpad=4, tickfont=dict(size=9), nticks=3),
                    hovertemplate=f"step %{{x}}<br>unit %{{y}}<br>{q} = %{{z:.4f}}<extra>{d}</extra>",
                    name=f"{d} {q}",
                ),
                row=r, col=c,
            )
            fig.update_yaxes(
                row=r, col=c, autorange="reversed", tickfont=dict(size=8), showgrid=False,
                title=dict(text=f"<b>{q}</b><br>{NAMES[q]}", font=dict(size=11)) if c == 1 else None,
            )
            # A small marker at the left edge of each block: the unit the equations follow.
            fig.add_trace(
                go.Scatter(x=[start - 0.5], y=[f"u{unit}"], mode="markers", cliponaxis=False, hoverinfo="skip",
                           marker=dict(symbol="triangle-right", size=9, color="#111"), showlegend=False),
                row=r, col=c,
            )
        _input_row(fig, len(qs) + 1, c, xs, steps, inputs, input_names, mode)
        if prediction is not None:
            _prediction_row(fig, n_rows, c, xs, prediction, c == 1, prediction_title)

    # Words stand upright inside their own row; letters sit under the input grid; drawn values need no labels.
    ticks, ticktext, angle = _tick_labels(steps, xs, max_labels=100 if mode == "words" else 60)
    fig.update_xaxes(range=[start - 0.5, stop - 0.5], showgrid=False, zeroline=False)
    for c in range(1, n_cols + 1):
        fig.update_xaxes(row=len(qs) + 1, col=c, showticklabels=mode != "line", tickmode="array", tickvals=ticks,
                         ticktext=ticktext, tickangle=-90 if mode == "words" else angle, tickfont=dict(size=10),
                         ticklabelposition="inside" if mode == "words" else "outside",
                         # plotly hides an inside label reaching past the axis ends: the first word (step 0) and
                         # the last stand half a cell from them, their upright text a little wider.
                         ticklabeloverflow="allow" if mode == "words" else None)
        fig.update_xaxes(row=n_rows, col=c, showticklabels=True, title=dict(text="time step", font=dict(size=11)),
                         tickformat="d", dtick=_nice_step(len(xs)))

    # Frames move only the cursor boxes (one per column, spanning every row) and rewrite the equation text (see
    # _step_text): plotly's no-redraw transitions would wipe the heatmaps if a frame touched trace data.
    top, bottom = domains[0][1], domains[-1][0]
    xrefs = [fig.get_subplot(1, c).xaxis.plotly_name.replace("axis", "") for c in range(1, n_cols + 1)]
    fig.layout.shapes = [
        dict(type="rect", xref=xr, yref="paper", x0=start - 0.5, x1=start + 0.5, y0=bottom, y1=top,
             line=dict(color="#111", width=1.6), fillcolor="rgba(0,0,0,0)", layer="above")
        for xr in xrefs
    ]
    def text(t: int) -> str:
        lines = [f"<b>step {t}</b> · input <b>{steps[t]}</b> · unit <b>u{unit}</b>"]
        for d in dirs:
            eq = equation_html(cell, views[d], t, unit, d)
            lines.append(eq if n_cols == 1 else f"<i>{d}</i>  " + eq.replace("<br>", f"<br><i>{d}</i>  "))
        lines.append(prediction_text(prediction, t))
        return "<br>".join(s for s in lines if s)

    labels = [text(int(t)) for t in xs]
    n_lines = labels[0].count("<br>") + 1
    top_px = 16 * n_lines + 94 + (24 if n_cols > 1 else 0)  # room for the text and plotly's toolbar above it
    width = _fixed_width(len(xs), n_cols, labels)
    for a in fig.layout.annotations[: n_cols if n_cols > 1 else 0]:  # column titles sit just above the heatmaps
        a.update(yshift=-4, font=dict(size=13))
    if len(xs) > 1:
        step_controls(fig, xs, None, frame_ms, 0.2 if width is None else min(0.45, 200 / width))
    else:  # plotly draws no slider for a single step: the text sits lower, where the buttons would be
        top_px -= 40
    _step_text(fig, xs, labels, n_cols, 58 if len(xs) > 1 else 12 + (24 if n_cols > 1 else 0))
    fig.update_layout(
        height=plot_px + top_px + MARGIN_B,
        margin=dict(l=MARGIN_L, r=MARGIN_R, t=top_px, b=MARGIN_B),
        template="plotly_white",
        font=dict(family=FONT, size=12),
        legend=dict(orientation="h", x=1, xanchor="right", yref="container", y=0, yanchor="bottom", font=dict(size=10)),
        hoverlabel=dict(font=dict(family=FONT)),
    )
    if width:  # a few steps: keep cells near square instead of stretching them across the page
        fig.update_layout(width=width)
    return fig


def fig_inside(rep: Replay, layer: int, prediction: StepPrediction | None = None,
               input_names: list[str] | None = None, prediction_title: str | None = None,
               quantities: tuple[str, ...] | None = None) -> go.Figure:
    """The unrolled network over a replayed input (the Inside page's figure: by default every quantity of the
    cell, Play and a step slider) for one layer, with the input and the per-step prediction (``prediction``
    when given, else the replay's own) beneath."""
    return fig_unrolled(rep.views(layer), rep.steps, rep.cell, quantities=quantities or QUANTITIES[rep.cell],
                        inputs=rep.inputs, input_names=input_names, prediction=prediction or rep.prediction,
                        prediction_title=prediction_title)


def _input_row(fig, row, col, xs, steps, inputs, input_names, mode: str) -> None:
    """The inputs under the heatmaps: a line (one feature), a grey heatmap (a few), or just labels."""
    hover = [steps[x] for x in xs]
    if mode == "line":
        vals = np.asarray(inputs, dtype=np.float32)[xs, 0]
        fig.add_trace(go.Scatter(x=xs, y=vals, mode="lines+markers", marker=dict(size=4),
                                 line=dict(color="#444", width=1.5),
                                 hovertemplate="step %{x}<br>x = %{y:.4f}<extra>input</extra>", showlegend=False),
                      row=row, col=col)
    elif mode == "grid":
        arr = np.asarray(inputs, dtype=np.float32)[xs].T  # [features, window]
        names = input_names or [f"x{k}" for k in range(arr.shape[0])]
        fig.add_trace(go.Heatmap(z=arr, x=xs, y=names, colorscale="Greys", showscale=False,
                                 hovertemplate="step %{x}<br>%{y} = %{z:.3f}<extra>input</extra>"), row=row, col=col)
        fig.update_yaxes(row=row, col=col, autorange="reversed", tickfont=dict(size=8))
    else:
        # Invisible points: each step's word on hover (the tick labels show only every k-th word when crowded).
        fig.add_trace(go.Scatter(x=xs, y=np.zeros(len(xs)), mode="markers", marker=dict(size=8, opacity=0),
                                 text=hover, hovertemplate="step %{x}: %{text}<extra>input</extra>", showlegend=False),
                      row=row, col=col)
        fig.update_yaxes(row=row, col=col, showticklabels=False, range=[-1, 1], fixedrange=True)
    fig.update_yaxes(row=row, col=col, title=dict(text="<b>input</b>", font=dict(size=11)) if col == 1 else None,
                     showgrid=False)


def _prediction_row(fig, row, col, xs, pred: StepPrediction, show_legend: bool, title: str | None) -> None:
    """Per-step probabilities as a small heatmap (target marked ○), or predicted vs target lines."""
    title = title or ("output" if pred.kind == "regress" else "p(class)")
    ytitle = dict(text=f"<b>{title}</b>", font=dict(size=11)) if col == 1 else None
    if pred.kind == "regress":
        for k, name in enumerate(pred.names):
            fig.add_trace(go.Scatter(x=xs, y=pred.values[xs, k], mode="lines", name=f"predicted {name}",
                                     line=dict(color="#d62728", width=2), showlegend=show_legend,
                                     hovertemplate="step %{x}<br>predicted %{y:.4f}<extra></extra>"), row=row, col=col)
            if pred.target is not None:
                fig.add_trace(go.Scatter(x=xs, y=pred.target[xs, k], mode="lines", name=f"target {name}",
                                         line=dict(color="#333", width=1.5, dash="dot"), showlegend=show_legend,
                                         hovertemplate="step %{x}<br>target %{y:.4f}<extra></extra>"), row=row, col=col)
        fig.update_yaxes(row=row, col=col, title=ytitle)
        return
    fig.add_trace(go.Heatmap(z=pred.values[xs].T.astype(np.float32), x=xs, y=pred.names, zmin=0, zmax=1,
                             colorscale=PROBS, showscale=False,
                             hovertemplate="step %{x}<br>p(%{y}) = %{z:.4f}<extra>prediction</extra>"),
                  row=row, col=col)
    if pred.target is not None:
        known = [x for x in xs if pred.target[x] >= 0]
        fig.add_trace(go.Scatter(x=known, y=[pred.names[pred.target[x]] for x in known], mode="markers",
                                 marker=dict(symbol="circle-open", size=9, color="#ff7f0e", line=dict(width=2)),
                                 name="target", showlegend=show_legend,
                                 hovertemplate="step %{x}<br>target %{y}<extra></extra>"),
                      row=row, col=col)
    fig.update_yaxes(row=row, col=col, autorange="reversed", tickfont=dict(size=9), showgrid=False,
                     title=ytitle)


def step_controls(fig: go.Figure, xs: np.ndarray, labels: list[str] | None, frame_ms: int, slider_x: float) -> None:
    """Play / Pause buttons and a step slider above the heatmaps; both animate the frames client-side
    without a redraw. The slider's current-value label shows the step's text (``labels``; None: no label, the
    frames carry the text); its tick labels are shrunk to nothing so 500 steps don't crowd the rail."""
    play = dict(frame=dict(duration=frame_ms, redraw=False), fromcurrent=True, transition=dict(duration=0),
                mode="immediate")
    pause = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")
    fig.update_layout(
        updatemenus=[dict(type="buttons", direction="left", x=0, xanchor="left", y=1, yanchor="bottom", pad=dict(b=18),
                          showactive=False, buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                                                     dict(label="❚❚ Pause", method="animate", args=[[None], pause])])],
        sliders=[dict(
            active=0, x=slider_x, len=1 - slider_x, xanchor="left", y=1, yanchor="bottom", pad=dict(t=0, b=14),
            currentvalue=dict(prefix="", xanchor="left", offset=8, font=dict(size=12, color="#222", family=FONT),
                              visible=labels is not None),
            font=dict(size=1, color="rgba(0,0,0,0)"), ticklen=0, minorticklen=0,
            steps=[dict(method="animate", label="" if labels is None else labels[k], value=str(t),
                        args=[[str(t)], pause]) for k, t in enumerate(xs)],
        )],
    )
