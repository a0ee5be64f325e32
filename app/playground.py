"""Shared parts of the Sine and Letters playgrounds: picking a run of a task (models cached by path and file
time), replaying one input through it, and the pure figure builders for the curves, the next-letter bars and
the typed letters. The heatmaps under them come from ``app.unrolled``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from plotly.subplots import make_subplots

from rnn_core.predict import prefix_logits
from rnn_core.runs import list_runs, load_run
from rnn_core.tasks.letters import ALPHABET

from . import state
from .inside_data import QUANTITIES, StepPrediction, direction_views, step_prediction
from .unrolled import fig_unrolled

FONT = "Inter, 'Source Sans Pro', Arial, sans-serif"
INPUT, PRED, TRUE, BAD = "#4b5563", "#d62728", "#1f77b4", "#c62828"
MARGIN = dict(l=70, r=60)  # the unrolled figure's side margins, so a curve's steps sit over its columns
BAR_COLUMNS = 8  # next-letter bar charts per row


# ----------------------------------------------------------------------------------------------- runs
def task_runs(task: str) -> list[dict[str, Any]]:
    """Usable runs of ``task``: bundled ones first, then yours newest first (damaged folders left out)."""
    runs = [r for r in list_runs() if r.get("task") == task and r.get("status") != "damaged"]
    return sorted(runs, key=lambda r: not r["pretrained"])


def run_label(r: dict[str, Any]) -> str:
    """'name (bundled, LSTM, val MSE 0.0023)' — what the model picker shows for a run."""
    m = r.get("final_metrics") or {}
    kind = "bundled" if r["pretrained"] else "your run"
    score = ""
    if m.get("val_mse") is not None:
        score = f", val MSE {m['val_mse']:.4f}"
    elif m.get("val_accuracy") is not None:
        score = f", val accuracy {m['val_accuracy']:.0%}"
    status = "" if r.get("status") in (None, "finished") else f", {r['status']}"
    return f"{r['name']} ({kind}, {(r.get('cell') or '?').upper()}{score}{status})"


def run_stamp(path: str) -> str:
    """The weights file's modification time and inode: part of the cache key, so a run saved again under the
    same name (a new file renamed into place, even within the same clock tick) is loaded afresh."""
    try:
        info = (Path(path) / "weights.safetensors").stat()
    except OSError:
        return ""
    return f"{info.st_mtime_ns}-{info.st_ino}"


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def load_model(path: str, stamp: str):
    """The run at ``path`` (model in eval mode, task with its options), loaded once per weights file."""
    return load_run(path)


def _follow(key: str, names: dict[str, str], seen: str) -> None:
    """On a pick: make it the session's current run (the Inside page opens it next)."""
    name = names.get(st.session_state.get(key))
    state.set_current_run(name)
    st.session_state[seen] = name


def pick_run(task: str, key: str, empty: str):
    """A model picker over the runs of ``task`` → the loaded run. The session's current run (trained or picked
    on another page) is preselected when it is one of them and has changed since this picker last followed it;
    a pick here becomes the current run. Shows ``empty`` and stops the page when there is no run."""
    runs = task_runs(task)
    if not runs:
        st.info(empty, icon=":material/model_training:")
        st.stop()
    names = {r["path"]: r["name"] for r in runs}
    labels = {r["path"]: run_label(r) for r in runs}
    cur, seen = state.current_run(), f"{key}_followed"
    current = next((p for p, n in names.items() if n == cur), None)
    if st.session_state.get(key) not in names:
        st.session_state.pop(key, None)  # first visit, or the run was deleted since
    if current and (st.session_state.get(seen) != cur or key not in st.session_state):
        st.session_state[key] = current
    st.session_state[seen] = cur
    path = st.selectbox("Model", list(names), format_func=labels.get, key=key, on_change=_follow,
                        args=(key, names, seen),
                        help="A bundled model, or any run of this task you trained on the Train page.")
    try:
        run = load_model(path, run_stamp(path))
    except ValueError as e:  # a folder damaged since it was listed
        st.error(f"Can't load this run: {e}", icon=":material/error:")
        st.stop()
    if run.status == "diverged":
        st.warning("This run diverged while training (its loss became infinite or NaN): its answers may be "
                   "nonsense or missing. Pick another run, or train again with a lower learning rate.",
                   icon=":material/warning:")
    return run


def pick_layer(run, key: str) -> int:
    """Which layer's activations to show: a picker for a stacked model, the only layer otherwise."""
    layers = run.model_cfg.num_layers
    if layers == 1:
        return 0
    return st.selectbox("Layer shown below", list(range(layers)), index=layers - 1, key=key,
                        help="The model stacks several recurrent layers; the heatmaps show one of them.")


# -------------------------------------------------------------------------------------------- replay
@dataclass
class Trace:
    """One input replayed through a model: ``views`` direction → quantity → [seq, units] for one layer,
    ``logits`` [seq, outputs] what the head says at each step (for a classifier: as if the input ended there)."""

    cell: str
    views: dict[str, dict[str, np.ndarray]]
    logits: np.ndarray
    layer: int


@torch.no_grad()
def trace(model, x: torch.Tensor, layer: int = -1) -> Trace:
    """Replay ``x`` [1, seq, features] step by step through ``model`` and keep one layer's activations."""
    cfg = model.cfg
    layer = layer % cfg.num_layers
    _, cache = model.run_with_cache(x)
    logits = cache["hook_logits"][0]  # [seq, outputs]
    if cfg.bidirectional and cfg.head == "last":
        logits = prefix_logits(model, x)  # [seq, classes]: the backward half must not see past step t
    views = direction_views(cache, layer, model.directions(), cfg.cell)
    return Trace(cfg.cell, views, logits.numpy().astype(np.float64), layer)


def fig_inside(tr: Trace, steps: list[str], inputs: np.ndarray, prediction: StepPrediction,
               input_names: list[str] | None = None, prediction_title: str | None = None,
               quantities: tuple[str, ...] | None = None) -> go.Figure:
    """The unrolled network for this input (the Inside page's figure: by default every quantity of the cell,
    Play and a step slider), with the input and the per-step prediction beneath."""
    return fig_unrolled(tr.views, steps, tr.cell, quantities=quantities or QUANTITIES[tr.cell], inputs=inputs,
                        input_names=input_names, prediction=prediction, prediction_title=prediction_title)


# ------------------------------------------------------------------------------------------------ sine
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


# --------------------------------------------------------------------------------------------- letters
def letters_html(text: str) -> str:
    """The typed text as HTML: letters of the alphabet as they are, every other character struck through in
    red (all of it escaped), so a person sees exactly which characters the model will not read."""
    parts = []
    for ch in str(text):
        if ch.isspace():
            parts.append(" ")
        elif ch.lower() in ALPHABET:
            parts.append(html.escape(ch))
        else:
            parts.append(f'<s style="color:{BAD};font-weight:600" title="not one of {", ".join(ALPHABET)}">'
                         f"{html.escape(ch)}</s>")
    return ('<div style="font-family:monospace;font-size:1.4rem;letter-spacing:0.15em">' + "".join(parts)
            + "</div>")


def next_in_cycle(letters: list[str], variant: str) -> np.ndarray:
    """What the training patterns say follows each typed letter: the next of "abcde", with e → a in the
    4-letter variant (its windows wrap round) and nothing (−1) after e in the 1-letter one."""
    nxt = [ALPHABET.index(ch) + 1 for ch in letters]
    return np.array([k % len(ALPHABET) if variant == "4in" else (k if k < len(ALPHABET) else -1) for k in nxt])


def fig_letter_bars(letters: list[str], probs: np.ndarray, expected: np.ndarray | None = None) -> go.Figure:
    """One bar chart per step: the model's probability for each next letter after reading the letters so far
    ([seq, 5] probabilities). The predicted letter is the dark bar; the expected one (if known) is outlined."""
    seq = len(letters)
    cols = min(BAR_COLUMNS, seq)
    rows = -(-seq // cols)
    titles = []
    for t in range(seq):
        k = int(probs[t].argmax())
        titles.append(f"after <b>{html.escape(''.join(letters[max(0, t - 5): t + 1]))}</b> → "
                      f"<b>{ALPHABET[k]}</b> {probs[t, k]:.0%}")
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.025,
                        vertical_spacing=0.5 / rows if rows > 1 else 0.0, shared_yaxes=True)
    for t in range(seq):
        r, c = divmod(t, cols)
        k = int(probs[t].argmax())
        colours = ["#1f2430" if j == k else "#9ca3af" for j in range(len(ALPHABET))]
        outline = [3 if expected is not None and j == expected[t] else 0 for j in range(len(ALPHABET))]
        fig.add_trace(go.Bar(x=list(ALPHABET), y=probs[t], name=f"step {t}", showlegend=False,
                             marker=dict(color=colours, line=dict(color="#ff7f0e", width=outline)),
                             hovertemplate=f"step {t} ('{html.escape(letters[t])}')<br>p(next = %{{x}}) = "
                                           "%{y:.3f}<extra></extra>"),
                      row=r + 1, col=c + 1)
    fig.update_yaxes(range=[0, 1], tickvals=[0, 0.5, 1], tickformat=".0%", gridcolor="#eef0f3")
    fig.update_xaxes(tickfont=dict(size=12), fixedrange=True)
    fig.update_annotations(font=dict(size=12, family=FONT))
    fig.update_layout(height=190 * rows + 30, margin=dict(l=50, r=20, t=40, b=20), template="plotly_white",
                      font=dict(family=FONT, size=12), bargap=0.25)
    return fig


# ---------------------------------------------------------------------------------------------- canvas
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
