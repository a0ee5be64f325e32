"""Pure figure builders for the Dynamics page (plotly; no Streamlit): variance per principal component, the state
space with trajectories animated by Play, slow points coloured by speed, and eigenvalues in the complex plane."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from rnn_core.analysis.analyse import Dynamics
from rnn_core.analysis.linearise import time_constants

FONT = "Inter, 'Source Sans Pro', Arial, sans-serif"
LABEL_COLOURS = ["#b2182b", "#2166ac", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]
TRAJ_COLOURS = ["#111827", "#7c3aed", "#ea580c", "#0d9488"]
MAX_POINTS = 6000  # states drawn as dots (an even subsample): enough to show the shape, light for the browser
MAX_FRAMES = 120  # Play frames per figure; long inputs advance several steps per frame
TRAINED, UNTRAINED = "#2166ac", "#9ca3af"

READ_VARIANCE = ("How to read: each bar is the share of all state variance along one principal direction; the lines "
                 "add them up. Few bars holding most of it means the network moves in a low-dimensional space — "
                 "compare with the same network before training (grey).")
READ_SPACE = ("How to read: every dot is the state after one step of one example, drawn on the top principal "
              "components; contours show where each class's states crowd. Press Play to watch the chosen inputs' "
              "states move step by step from the initial state (×); the dashed arrow is the direction the readout "
              "reads (moving along it raises the second class against the first).")
READ_FIXED = ("How to read: diamonds are slow points — states the network barely leaves while the constant input "
              "is held; darker means slower (log₁₀ q, q = ½‖F(s) − s‖² per step). Points in a row form an "
              "approximate line attractor: a memory the network can slide along.")
READ_EIGEN = ("How to read: the eigenvalues of the linearised step at the chosen slow point. Inside the unit circle a "
              "mode fades, outside it grows; near 1 it is remembered for τ = −1/ln|λ| steps. Off the real axis the "
              "mode rotates (a complex pair).")


@dataclass
class Trajectory:
    """One input's path: ``states`` [steps, state] in time order, ``steps`` a label per step (word / value)."""

    name: str
    states: np.ndarray
    steps: list[str]


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(title=title, height=height, font=dict(family=FONT), margin=dict(l=60, r=20, t=50, b=50),
                      template="plotly_white")
    return fig


def fig_variance(dyn: Dynamics, k: int = 20) -> go.Figure:
    """Share of variance per PC (bars) and cumulative (lines), trained vs untrained, first ``k`` PCs."""
    k = min(k, len(dyn.pca.explained))
    pcs = np.arange(1, k + 1)
    fig = go.Figure()
    series = (("trained", dyn.pca.explained, TRAINED), ("untrained", dyn.untrained_explained, UNTRAINED))
    for name, ev, colour in series:
        fig.add_bar(x=pcs, y=ev[:k], name=f"{name}: per PC", marker_color=colour,
                    hovertemplate="PC %{x}: %{y:.2%}<extra>" + name + "</extra>")
        fig.add_scatter(x=pcs, y=np.cumsum(ev)[:k], name=f"{name}: cumulative", mode="lines+markers",
                        line=dict(color=colour, dash="dot" if name == "untrained" else "solid"),
                        hovertemplate="first %{x} PCs: %{y:.2%}<extra>" + name + "</extra>")
    fig.add_hline(y=0.9, line=dict(color="#6b7280", width=1, dash="dash"), annotation_text="90 %")
    fig.update_layout(barmode="group", yaxis=dict(tickformat=".0%", range=[0, 1.02], title="share of variance"),
                      xaxis=dict(title="principal component", dtick=1 if k <= 20 else None))
    return _layout(fig, "Variance explained by each principal component")


def _subsample(n: int, limit: int, seed: int = 0) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def fig_state_space(dyn: Dynamics, trajectories: list[Trajectory], label_names: list[str], colour_by: str = "label",
                    axes: tuple[int, int] = (0, 1), show_fixed: bool = True) -> go.Figure:
    """States on PCs ``axes`` (dots coloured by label or step, density contours per label), the initial state, the
    readout direction, slow points coloured by log₁₀ q, and ``trajectories`` drawn step by step with Play."""
    ax = list(axes)
    proj = dyn.pca.project(dyn.states.states)[:, ax]  # [points, 2]
    pick = _subsample(len(proj), MAX_POINTS)
    fig = go.Figure()
    labels = dyn.states.point_labels()
    if colour_by == "step":
        steps = dyn.states.step
        fig.add_scattergl(x=proj[pick, 0], y=proj[pick, 1], mode="markers", name="states",
                          marker=dict(size=3, opacity=0.5, color=steps[pick], colorscale="Viridis",
                                      colorbar=dict(title="step", x=1.02, len=0.5, y=0.8)),
                          hovertemplate="step %{marker.color}<extra></extra>")
    else:
        for c in sorted(set(labels.tolist())):
            name = label_names[c] if 0 <= c < len(label_names) else "states"
            colour = LABEL_COLOURS[c % len(LABEL_COLOURS)] if c >= 0 else "#6b7280"
            sel = pick[labels[pick] == c]
            fig.add_scattergl(x=proj[sel, 0], y=proj[sel, 1], mode="markers", name=name, legendgroup=name,
                              marker=dict(size=3, opacity=0.25, color=colour), hoverinfo="skip")
            every = np.flatnonzero(labels == c)
            fig.add_histogram2dcontour(x=proj[every, 0], y=proj[every, 1], name=f"{name} density",
                                       legendgroup=name, showlegend=False, ncontours=6, showscale=False,
                                       contours=dict(coloring="none"), line=dict(color=colour, width=1),
                                       hoverinfo="skip")
    init = dyn.pca.project(dyn.initial[None])[0, ax]
    fig.add_scatter(x=[init[0]], y=[init[1]], mode="markers", name="initial state",
                    marker=dict(symbol="x", size=12, color="#111827", line=dict(width=1)),
                    hovertemplate="initial state (all zeros)<extra></extra>")
    if dyn.readout is not None:
        d = dyn.pca.project_direction(dyn.readout)[ax]
        if np.linalg.norm(d) > 0:
            span = float(np.abs(proj).max()) * 0.9
            d = d / np.linalg.norm(d) * span
            fig.add_annotation(x=d[0], y=d[1], ax=-d[0], ay=-d[1], xref="x", yref="y", axref="x", ayref="y",
                               showarrow=True, arrowhead=3, arrowwidth=1.5, arrowcolor="#374151",
                               text="readout", font=dict(size=11, color="#374151"))
    if show_fixed and len(dyn.fixed):
        fp = dyn.pca.project(dyn.fixed.points)[:, ax]
        logq = np.log10(np.maximum(dyn.fixed.q, 1e-30))
        fig.add_scatter(x=fp[:, 0], y=fp[:, 1], mode="markers", name="slow points",
                        marker=dict(symbol="diamond", size=7, color=logq, colorscale="YlOrBr_r",
                                    line=dict(width=0.5, color="#111827"),
                                    colorbar=dict(title="log₁₀ q", x=1.02, len=0.45, y=0.25)),
                        customdata=np.stack([dyn.fixed.q, np.abs(dyn.eigenvalues[:, 0])], axis=1)
                        if len(dyn.eigenvalues) else None,
                        hovertemplate="slow point<br>q = %{customdata[0]:.2e}<br>|λ₁| = %{customdata[1]:.4f}"
                                      "<extra></extra>")
    _add_trajectories(fig, dyn, trajectories, ax)
    fig.update_layout(xaxis=dict(title=f"PC {ax[0] + 1} ({dyn.pca.explained[ax[0]]:.0%})"),
                      yaxis=dict(title=f"PC {ax[1] + 1} ({dyn.pca.explained[ax[1]]:.0%})"),
                      legend=dict(orientation="h", y=-0.18))
    return _layout(fig, "State space on the top principal components", height=560)


def _add_trajectories(fig: go.Figure, dyn: Dynamics, trajectories: list[Trajectory], ax: list[int]) -> None:
    """Each trajectory as a line plus a marker at its newest step; frames grow them together (Play)."""
    if not trajectories:
        return
    paths = [dyn.pca.project(t.states)[:, ax] for t in trajectories]  # each [steps, 2]
    first = len(fig.data)
    for t, p, colour in zip(trajectories, paths, TRAJ_COLOURS * 4):
        fig.add_scatter(x=p[:, 0], y=p[:, 1], mode="lines", name=t.name, line=dict(color=colour, width=2),
                        text=t.steps, hovertemplate="step %{pointNumber}: %{text}<extra>" + t.name + "</extra>")
        fig.add_scatter(x=p[-1:, 0], y=p[-1:, 1], mode="markers", showlegend=False, hoverinfo="skip",
                        marker=dict(size=10, color=colour, line=dict(width=1, color="white")))
    longest = max(len(p) for p in paths)
    stride = max(1, int(np.ceil(longest / MAX_FRAMES)))
    ends = [*range(1, longest, stride), longest]
    frames = []
    for end in ends:
        data = []
        for p, t in zip(paths, trajectories):
            k = min(end, len(p))
            data.append(go.Scatter(x=p[:k, 0], y=p[:k, 1], text=t.steps[:k]))
            data.append(go.Scatter(x=p[k - 1 : k, 0], y=p[k - 1 : k, 1]))
        frames.append(go.Frame(data=data, name=str(end), traces=list(range(first, first + 2 * len(paths)))))
    fig.frames = frames
    play = dict(label="▶ Play", method="animate",
                args=[None, dict(frame=dict(duration=60, redraw=False), fromcurrent=True, mode="immediate")])
    pause = dict(label="❚❚ Pause", method="animate",
                 args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")])
    fig.update_layout(
        updatemenus=[dict(type="buttons", direction="left", x=0, y=1.08, xanchor="left", buttons=[play, pause])],
        sliders=[dict(x=0.2, len=0.8, y=1.1, currentvalue=dict(prefix="step "), pad=dict(t=0),
                      steps=[dict(label=str(e), method="animate",
                                  args=[[str(e)], dict(mode="immediate", frame=dict(duration=0, redraw=False))])
                             for e in ends])])


def fig_eigenvalues(eigenvalues: np.ndarray) -> go.Figure:
    """Eigenvalues [state] in the complex plane with the unit circle; hover gives |λ|, angle and τ."""
    lam = np.asarray(eigenvalues)
    tau = time_constants(lam)
    theta = np.linspace(0, 2 * np.pi, 361)
    fig = go.Figure()
    fig.add_scatter(x=np.cos(theta), y=np.sin(theta), mode="lines", name="unit circle", hoverinfo="skip",
                    line=dict(color="#9ca3af", width=1))
    fig.add_scatter(x=lam.real, y=lam.imag, mode="markers", name="eigenvalues",
                    marker=dict(size=8, color=np.abs(lam), colorscale="Viridis", cmin=0,
                                cmax=max(1.0, float(np.abs(lam).max())), colorbar=dict(title="|λ|")),
                    customdata=np.stack([np.abs(lam), np.angle(lam), tau], axis=1),
                    hovertemplate="λ = %{x:.4f} %{y:+.4f}i<br>|λ| = %{customdata[0]:.4f}<br>angle "
                                  "%{customdata[1]:.3f} rad<br>τ = %{customdata[2]:.1f} steps<extra></extra>")
    fig.update_layout(xaxis=dict(title="real part", scaleanchor="y", zeroline=True),
                      yaxis=dict(title="imaginary part", zeroline=True), showlegend=False)
    return _layout(fig, "Eigenvalues of the linearised step", height=440)


def fig_time_constants(eigenvalues: np.ndarray, k: int = 12) -> go.Figure:
    """The ``k`` longest time constants τ = −1/ln|λ| (steps), slowest first; growing modes are left out."""
    lam = np.asarray(eigenvalues)
    tau = time_constants(lam)
    keep = np.flatnonzero((tau > 0) & np.isfinite(tau))
    order = keep[np.argsort(-tau[keep])][:k]
    fig = go.Figure(go.Bar(x=[f"λ{j + 1}" for j in order], y=tau[order], marker_color=TRAINED,
                           customdata=np.abs(lam[order]),
                           hovertemplate="%{x}: τ = %{y:.1f} steps (|λ| = %{customdata:.4f})<extra></extra>"))
    fig.update_layout(yaxis=dict(title="τ (steps)", type="log"), xaxis=dict(title="mode (largest |λ| first)"))
    return _layout(fig, "Time constants of the fading modes", height=440)


def fig_state_space_3d(dyn: Dynamics, trajectories: list[Trajectory], label_names: list[str]) -> go.Figure:
    """The same picture on the top three PCs (drag to turn it): states by label, slow points, trajectories."""
    k = min(3, len(dyn.pca.explained))
    proj = dyn.pca.project(dyn.states.states, k)  # [points, k]
    proj = np.pad(proj, ((0, 0), (0, 3 - k)))  # a 2-unit network still draws, flat
    pick = _subsample(len(proj), MAX_POINTS // 2)
    labels = dyn.states.point_labels()
    fig = go.Figure()
    for c in sorted(set(labels.tolist())):
        sel = pick[labels[pick] == c]
        name = label_names[c] if 0 <= c < len(label_names) else "states"
        fig.add_scatter3d(x=proj[sel, 0], y=proj[sel, 1], z=proj[sel, 2], mode="markers", name=name,
                          marker=dict(size=2, opacity=0.3, color=LABEL_COLOURS[c % len(LABEL_COLOURS)]),
                          hoverinfo="skip")
    if len(dyn.fixed):
        fp = np.pad(dyn.pca.project(dyn.fixed.points, k), ((0, 0), (0, 3 - k)))
        fig.add_scatter3d(x=fp[:, 0], y=fp[:, 1], z=fp[:, 2], mode="markers", name="slow points",
                          marker=dict(size=3, symbol="diamond", color=np.log10(np.maximum(dyn.fixed.q, 1e-30)),
                                      colorscale="YlOrBr_r"),
                          customdata=dyn.fixed.q, hovertemplate="slow point, q = %{customdata:.2e}<extra></extra>")
    for t, colour in zip(trajectories, TRAJ_COLOURS * 4):
        p = np.pad(dyn.pca.project(t.states, k), ((0, 0), (0, 3 - k)))
        fig.add_scatter3d(x=p[:, 0], y=p[:, 1], z=p[:, 2], mode="lines", name=t.name, text=t.steps,
                          line=dict(color=colour, width=4),
                          hovertemplate="step %{pointNumber}: %{text}<extra>" + t.name + "</extra>")
    fig.update_layout(scene=dict(xaxis_title="PC 1", yaxis_title="PC 2", zaxis_title="PC 3"),
                      legend=dict(orientation="h", y=-0.05))
    return _layout(fig, "State space on the top three principal components", height=600)
