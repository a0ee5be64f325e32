"""Pure plotly figures of the Memory page (no ``st.*``): curves of several cells overlaid, gradient flow as a
heatmap and as log-scale lines, connectivity over the input, gate saturation, the memory gate over time, spectral
radii per epoch, and intervention differences. Each figure has a ``READ`` caption: what healthy and unhealthy look like.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..inside.figure import DIVERGING, SEQUENTIAL
from ..style import FONT
from ..train.curves import PALETTE

CELL_COLORS = {"rnn": PALETTE[4], "lstm": PALETTE[0], "gru": PALETTE[2]}
MAGNITUDE = "Magma"  # gradient magnitudes: dark = tiny, bright = large (log10 scale)

READ = {
    "curves": "Healthy: every cell's validation curve rises (loss falls) and flattens near the top. Unhealthy: a cell "
              "whose accuracy stays flat at chance or whose loss never leaves its starting value has not found the "
              "signal; validation far below train means memorising.",
    "vs_n": "Healthy: a line that stays near 100 % as N grows — the cell carries the first symbol across every "
            "distractor. Unhealthy: a line falling towards chance (25 %, dotted) as N grows: beyond that span the "
            "cell forgets, or never learns to remember; a wide band means the seeds disagree.",
    "grad_heat": "Healthy: colour reaches back to the early steps — the loss still says something about what the "
                 "network did there. Vanishing: the left (early) columns go black, orders of magnitude below the "
                 "right; exploding: bright columns growing towards the start.",
    "grad_lines": "Healthy: a flat-ish line — early steps get a gradient of the same order as late ones. Vanishing: "
                  "the line drops steeply towards step 0 (each grid line is a factor of 10); exploding: it climbs.",
    "grad_epochs": "One line per recorded epoch, on the probe example. Healthy: as training goes on the early steps "
                   "keep (or gain) gradient; unhealthy: the left end sinks epoch after epoch while only the last "
                   "steps are learned from.",
    "connectivity": "Healthy for a memory task: the step that holds the answer (the first) stands out even when it is "
                    "far back. Unhealthy: only the last few steps light up — the output depends on recent input "
                    "alone, however long the sequence.",
    "saturation": "Share of the time each gate unit is shut (< 0.1) or wide open (> 0.9). Healthy: some units "
                  "saturated (decisive switches, e.g. a forget gate held open), most not. Unhealthy: nearly every "
                  "unit pinned at one end — gradients through a saturated sigmoid are almost zero.",
    "memory_gate": "Mean forget gate (LSTM) or update gate (GRU) per step; near 1 the old state is kept. Healthy "
                   "for long memory: it rises towards 1 over training (the cell learns to hold). Unhealthy: it stays "
                   "around 0.5 — the state halves every step, so after 20 steps a millionth is left.",
    "radius": "Largest |eigenvalue| of each recurrent weight block per epoch. Near 1 (dotted line): signals and "
              "gradients keep their size over many steps. Well below 1: they shrink geometrically (vanishing); "
              "well above 1: they can grow (exploding) — for a plain RNN the one block decides it all.",
    "intervention": "Left: the unmodified run; middle: with the intervention; right: their difference (blue < 0 < "
                    "red). Nothing may change before the step you chose; how far the difference spreads afterwards "
                    "shows how much later steps depend on what you changed.",
}


def _layout(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    fig.update_layout(font={"family": FONT}, height=height, margin={"l": 10, "r": 10, "t": 36, "b": 10},
                      title={"text": title, "x": 0, "font": {"size": 14}}, template="plotly_white",
                      legend={"orientation": "h", "y": -0.25})
    return fig


def fig_curves(series: Mapping[str, pd.DataFrame], metric: str, cells: Mapping[str, str]) -> go.Figure:
    """Loss (log) and ``metric`` per epoch for each run: ``series`` label → epoch rows; ``cells`` label → cell
    (colour). Validation solid, train dotted."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", metric), horizontal_spacing=0.08)
    for i, (label, rows) in enumerate(series.items()):
        color = CELL_COLORS.get(cells.get(label, ""), PALETTE[(i + 5) % len(PALETTE)])
        for col, key in ((1, "loss"), (2, metric)):
            for split, dash in (("val", "solid"), ("train", "dot")):
                name = f"{split}_{key}"
                if rows.empty or name not in rows:
                    continue
                fig.add_trace(go.Scatter(
                    x=rows["epoch"], y=rows[name], mode="lines+markers", name=f"{label} ({split})",
                    line={"color": color, "dash": dash}, marker={"size": 4}, legendgroup=label,
                    showlegend=col == 1, hovertemplate=f"{label}<br>epoch %{{x}}<br>{name} %{{y:.4g}}<extra></extra>",
                ), row=1, col=col)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_xaxes(title_text="epoch")
    return _layout(fig, "Training curves, overlaid", 360)


def fig_vs_n(base: go.Figure, chance: float) -> go.Figure:
    """The Sweeps page's metric-vs-field figure with the chance level drawn in and the accuracy axis fixed."""
    base.add_hline(y=chance, line={"dash": "dot", "color": "#6b7280"}, annotation_text="chance")
    base.update_yaxes(range=[0, 1.05], tickformat=".0%")
    base.update_xaxes(title_text="N (distractors)")
    return base


def fig_grad_heatmap(magnitude: np.ndarray, steps: Sequence[str], title: str) -> go.Figure:
    """|d loss / d h_t| averaged over the batch, [seq, units], as log10 over (step, unit)."""
    z = np.log10(np.maximum(magnitude.T, 1e-30))  # [units, seq]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(len(steps))), y=list(range(z.shape[0])), colorscale=MAGNITUDE,
        zmin=float(np.percentile(z, 2)), colorbar={"title": {"text": "log10 |grad|"}},
        customdata=np.power(10.0, z), text=[list(steps)] * z.shape[0],
        hovertemplate="step %{x} (%{text})<br>unit %{y}<br>|d loss / d h| %{customdata:.3e}<extra></extra>",
    ))
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="unit")
    return _layout(fig, title, 300)


def fig_grad_lines(lines: Mapping[str, np.ndarray], colors: Mapping[str, str], title: str) -> go.Figure:
    """Mean ‖d loss / d h_t‖ per step, one line per label, on a log y axis."""
    fig = go.Figure()
    for i, (label, y) in enumerate(lines.items()):
        fig.add_trace(go.Scatter(
            x=list(range(len(y))), y=np.maximum(y, 1e-30), mode="lines", name=label,
            line={"color": colors.get(label, PALETTE[i % len(PALETTE)])},
            hovertemplate=f"{label}<br>step %{{x}}<br>‖d loss / d h‖ %{{y:.3e}}<extra></extra>",
        ))
    fig.update_yaxes(type="log", title_text="‖d loss / d h_t‖", exponentformat="power")
    fig.update_xaxes(title_text="step t")
    return _layout(fig, title)


def connectivity_html(steps: Sequence[str], shares: np.ndarray, output_step: int) -> str:
    """The input's step labels as text, each shaded by its share of influence (the output step underlined)."""
    top = float(shares.max()) if len(shares) and shares.max() > 0 else 1.0
    spans = []
    for t, (label, s) in enumerate(zip(steps, shares)):
        alpha = 0.08 + 0.85 * float(s) / top
        mark = "text-decoration:underline 2px;" if t == output_step else ""
        title = f"step {t}: {float(s):.1%} of the influence"
        spans.append(f'<span title="{title}" style="background:rgba(234,88,12,{alpha:.2f});padding:1px 3px;'
                     f'margin:1px;border-radius:3px;{mark}">{_escape(label)}</span>')
    return '<div style="line-height:2.0;font-family:monospace">' + " ".join(spans) + "</div>"


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fig_connectivity(shares: np.ndarray, steps: Sequence[str], curve: np.ndarray | None,
                     output_step: int) -> go.Figure:
    """Influence share of each input step on the output at ``output_step``: bars, or over a one-feature input
    the curve itself with the area under it shaded by influence."""
    x = list(range(len(shares)))
    fig = go.Figure()
    if curve is not None:
        fig.add_trace(go.Bar(x=x, y=curve, marker={"color": shares, "colorscale": "Oranges", "cmin": 0},
                             name="input (shaded by influence)", customdata=shares,
                             hovertemplate="step %{x}<br>input %{y:.3g}<br>influence %{customdata:.1%}<extra></extra>"))
        fig.add_trace(go.Scatter(x=x, y=curve, mode="lines", line={"color": "#111827"}, showlegend=False,
                                 hoverinfo="skip"))
        fig.update_yaxes(title_text="input value")
    else:
        fig.add_trace(go.Bar(x=x, y=shares, marker={"color": "#ea580c"}, text=list(steps), textposition="none",
                             hovertemplate="step %{x} (%{text})<br>influence %{y:.1%}<extra></extra>"))
        fig.update_yaxes(title_text="share of influence", tickformat=".0%")
    fig.add_vline(x=output_step, line={"dash": "dot"}, annotation_text="output step")
    fig.update_xaxes(title_text="input step")
    return _layout(fig, f"Influence of each input step on the output at step {output_step}", 280)


def fig_saturation(shut: Mapping[str, np.ndarray], wide: Mapping[str, np.ndarray]) -> go.Figure:
    """Rows '<gate> < 0.1' and '<gate> > 0.9' per gate, one column per unit; sequential 0..1."""
    rows, z = [], []
    for g in shut:
        rows += [f"{g} shut (< 0.1)", f"{g} open (> 0.9)"]
        z += [shut[g], wide[g]]
    fig = go.Figure(go.Heatmap(z=np.array(z), y=rows, x=list(range(len(z[0]) if z else 0)), colorscale=SEQUENTIAL,
                               zmin=0, zmax=1, colorbar={"title": {"text": "share of time"}},
                               hovertemplate="%{y}<br>unit %{x}<br>%{z:.1%} of the time<extra></extra>"))
    fig.update_xaxes(title_text="unit")
    return _layout(fig, "Gate saturation per unit", 120 + 36 * len(rows))


def fig_memory_gate(lines: Mapping[int, np.ndarray], gate: str) -> go.Figure:
    """Mean memory-gate value per step, one line per epoch (darker = later)."""
    fig = go.Figure()
    epochs = sorted(lines)
    for k, epoch in enumerate(epochs):
        shade = 0.25 + 0.75 * (k / max(len(epochs) - 1, 1))
        fig.add_trace(go.Scatter(x=list(range(len(lines[epoch]))), y=lines[epoch], mode="lines",
                                 name=f"epoch {epoch}", line={"color": f"rgba(37,99,235,{shade:.2f})"},
                                 hovertemplate=f"epoch {epoch}<br>step %{{x}}<br>mean {gate} %{{y:.3f}}"
                                               "<extra></extra>"))
    fig.update_yaxes(range=[0, 1], title_text=f"mean {gate}")
    fig.update_xaxes(title_text="step")
    return _layout(fig, f"Mean {'forget' if gate == 'f' else 'update'} gate {gate} over time, per epoch")


def fig_radius(epochs: Sequence[int], radii: Mapping[str, Sequence[float]]) -> go.Figure:
    """Spectral radius of each recurrent block against the epoch, with 1 marked."""
    fig = go.Figure()
    for i, (block, values) in enumerate(radii.items()):
        fig.add_trace(go.Scatter(x=list(epochs), y=list(values), mode="lines+markers", name=f"W_h{block}",
                                 line={"color": PALETTE[i % len(PALETTE)]},
                                 hovertemplate=f"W_h{block}<br>epoch %{{x}}<br>radius %{{y:.3f}}<extra></extra>"))
    fig.add_hline(y=1.0, line={"dash": "dot", "color": "#6b7280"})
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="spectral radius", rangemode="tozero")
    return _layout(fig, "Spectral radius of the recurrent weights per epoch")


def fig_intervention(base: np.ndarray, changed: np.ndarray, steps: Sequence[str], name: str) -> go.Figure:
    """Three heatmaps over (step, unit): unmodified, intervened, and their difference; diverging, centred on 0."""
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.03,
                        subplot_titles=(f"{name} as is", f"{name} with the intervention", "difference"))
    diff = changed - base
    lim = float(max(np.abs(base).max(), np.abs(changed).max(), 1e-9))
    dlim = float(max(np.abs(diff).max(), 1e-9))
    for col, (z, zlim) in enumerate(((base, lim), (changed, lim), (diff, dlim)), start=1):
        fig.add_trace(go.Heatmap(
            z=z.T, x=list(range(len(steps))), colorscale=DIVERGING, zmid=0, zmin=-zlim, zmax=zlim,
            showscale=col in (2, 3), text=[list(steps)] * z.shape[1],
            colorbar={"x": 1.0 if col == 3 else 0.64, "len": 0.9, "thickness": 10},
            hovertemplate="step %{x} (%{text})<br>unit %{y}<br>%{z:.4f}<extra></extra>",
        ), row=1, col=col)
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="unit", row=1, col=1)
    return _layout(fig, f"{name}: unmodified, intervened, difference", 320)
