"""What the Inside views show, prepared as plain numpy: one direction's activations per quantity, the
per-step prediction, unit orderings, the window that keeps a figure light, and each step's cell
equations written out with that step's numbers. No plotly and no streamlit here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import leaves_list, linkage

from rnn_core.cells import CELL_ACTIVATIONS
from rnn_core.hooks import hook_name

STATES = ("h", "c")  # stacked first in the unrolled view, then the cell's other activations in rnn_core's order
# What each cell exposes (rnn_core's CELL_ACTIVATIONS), in the order the unrolled view stacks them.
QUANTITIES = {cell: tuple(sorted(acts, key=lambda q: STATES.index(q) if q in STATES else len(STATES)))
              for cell, acts in CELL_ACTIVATIONS.items()}
GATES = frozenset({"i", "f", "o", "r", "z"})  # σ outputs in (0, 1): sequential colours
NAMES = {
    "h": "hidden state",
    "c": "cell state",
    "i": "input gate",
    "f": "forget gate",
    "g": "candidate",
    "o": "output gate",
    "r": "reset gate",
    "z": "update gate",
    "n": "candidate",
    "pre": "pre-activation",
}
ORDERS = ("index", "cluster", "peak", "pc")
# Figure JSON cost, measured with ``python -m app.inside.bench``: a float32 heatmap value ~6.9 characters
# (base64 plus plotly's escaping of '/'); each step's equation text ~600 per direction plus ~70 for its
# frame; ~90 kB for everything else. A figure is windowed so its estimate stays under FIGURE_BUDGET.
VALUE_BYTES, TEXT_BYTES, FRAME_BYTES, FIXED_BYTES = 7.0, 620, 70, 90_000
FIGURE_BUDGET = 1_900_000


@dataclass
class StepPrediction:
    """The head's output at every step. ``values``: [seq, classes] probabilities (classify, tag) or
    [seq, outputs] predicted values (regress); ``names``: class or output names; ``target``: [seq]
    class index per step (-1 where unknown) or [seq, outputs] true values, or None."""

    kind: str
    values: np.ndarray
    names: list[str]
    target: np.ndarray | None = None


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def step_prediction(kind: str, logits: np.ndarray, names: list[str], target=None) -> StepPrediction:
    """Per-step head output [seq, out] → probabilities (softmax) for classifiers, values for regression.
    ``target``: a class index (classify: the sequence's label, shown at every step), a [seq] tag array,
    or [seq, out] values."""
    logits = np.asarray(logits, dtype=np.float64)
    seq = logits.shape[0]
    if kind == "regress":
        tgt = None if target is None else np.asarray(target, dtype=np.float64).reshape(seq, -1)[:, : logits.shape[1]]
        names = names or [f"y{k}" for k in range(logits.shape[1])]
        return StepPrediction(kind, logits, list(names), tgt)
    classes = None
    if target is not None:
        flat = np.asarray(target, dtype=np.int64).reshape(-1)
        flat = np.full(seq, int(flat[0])) if flat.size == 1 else flat[:seq]
        classes = np.where((flat >= 0) & (flat < logits.shape[1]), flat, -1)
    names = list(names) if names else [str(k) for k in range(logits.shape[1])]
    return StepPrediction(kind, softmax(logits), names, classes)


def direction_views(cache: Mapping, layer: int, directions: tuple[str, ...], cell: str) -> dict[str, dict]:
    """``{direction: {quantity: [seq, units]}}`` for one layer of one example (batch row 0)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for d in directions:
        out[d] = {}
        for q in QUANTITIES[cell]:
            key = hook_name(layer, d, q)
            if key not in cache:
                raise ValueError(f"the cache has no {key}; replay the model with every activation kept")
            out[d][q] = np.asarray(cache[key][0], dtype=np.float32)  # [seq, units]
    return out


# ----------------------------------------------------------------------------------------- ordering
def unit_order(values: np.ndarray, method: str = "index") -> np.ndarray:
    """A deterministic order of the units of ``values`` [seq, units].

    index: 0, 1, 2…;  cluster: units with similar time courses next to each other (average-linkage
    agglomerative clustering on Euclidean distance, leaves in tree order: scipy's ``leaves_list``);
    peak: by the step where |value| is largest;  pc: by loading on the leading principal component of the time courses.
    """
    values = np.asarray(values, dtype=np.float64)
    units = values.shape[1]
    if method not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {method!r}")
    if method == "index" or units < 3:
        return np.arange(units)
    if method == "peak":
        peak = np.abs(values).argmax(axis=0)  # [units]
        return np.lexsort((np.arange(units), peak))
    if method == "pc":
        centred = values - values.mean(axis=0, keepdims=True)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        pc = vt[0]
        pc = pc if pc[np.abs(pc).argmax()] >= 0 else -pc  # SVD's sign is arbitrary; fix it
        return np.lexsort((np.arange(units), -pc))
    return leaves_list(linkage(values.T, method="average"))  # one observation per unit: its time course


# ------------------------------------------------------------------------------------------ windows
def max_window(units: int, n_quantities: int, n_directions: int, budget: int = FIGURE_BUDGET) -> int:
    """The most steps one figure shows at once so its JSON stays under ``budget`` bytes (estimate)."""
    per_step = VALUE_BYTES * units * n_quantities * n_directions + TEXT_BYTES * n_directions + FRAME_BYTES
    return max(1, int((budget - FIXED_BYTES) // per_step))


def window_bounds(seq: int, length: int, start: int = 0) -> tuple[int, int]:
    """``[start, stop)`` of a window of at most ``length`` steps, moved inside ``[0, seq)``."""
    length = max(1, min(int(length), seq))
    start = min(max(0, int(start)), seq - length)
    return start, start + length


# ---------------------------------------------------------------------------------------- equations
def _n(v: float) -> str:
    """A number as the equations print it: 3 decimals, a true minus sign."""
    s = f"{v:.3f}"
    return "0.000" if s == "-0.000" else s.replace("-", "−")


def _f(v: float) -> str:
    """A factor inside a product: negatives in parentheses."""
    return f"({_n(v)})" if _n(v).startswith("−") else _n(v)


def equation_html(cell: str, acts: Mapping[str, np.ndarray], t: int, unit: int, direction: str = "fwd") -> str:
    """The cell's update for ``unit`` at step ``t`` with that step's numbers, as plotly HTML text.

    The previous state is the step processed just before: t−1 going forward, t+1 for the backward
    direction (zero before the first step).
    """
    seq = acts["h"].shape[0]
    prev_t = t - 1 if direction == "fwd" else t + 1
    prev_sub = "t−1" if direction == "fwd" else "t+1"

    def at(q: str, step: int) -> float:
        return float(acts[q][step, unit]) if 0 <= step < seq else 0.0

    h, h_prev = at("h", t), at("h", prev_t)
    sub = lambda s: f"<sub>{s}</sub>"
    if cell == "lstm":
        i, f, g, o, c, c_prev = at("i", t), at("f", t), at("g", t), at("o", t), at("c", t), at("c", prev_t)
        lines = [
            f"i = σ(·) = {_n(i)}    f = σ(·) = {_n(f)}    g = tanh(·) = {_n(g)}    o = σ(·) = {_n(o)}",
            f"c{sub('t')} = f·c{sub(prev_sub)} + i·g = {_f(f)}·{_f(c_prev)} + {_f(i)}·{_f(g)} = <b>{_n(c)}</b>",
            f"h{sub('t')} = o·tanh(c{sub('t')}) = {_f(o)}·tanh({_n(c)}) = <b>{_n(h)}</b>",
        ]
    elif cell == "gru":
        r, z, n = at("r", t), at("z", t), at("n", t)
        lines = [
            f"r = σ(·) = {_n(r)}    z = σ(·) = {_n(z)}",
            f"n = tanh(W{sub('in')}x{sub('t')} + b{sub('in')} + r·(W{sub('hn')}h{sub(prev_sub)} + b{sub('hn')}))"
            f" = {_n(n)}",
            f"h{sub('t')} = (1−z)·n + z·h{sub(prev_sub)} = {_f(1 - z)}·{_f(n)} + {_f(z)}·{_f(h_prev)} = <b>{_n(h)}</b>",
        ]
    elif cell == "rnn":
        pre = at("pre", t)
        lines = [
            f"pre = W{sub('ih')}x{sub('t')} + b{sub('ih')} + W{sub('hh')}h{sub(prev_sub)} + b{sub('hh')} = {_n(pre)}"
            f"    (h{sub(prev_sub)} = {_n(h_prev)})",
            f"h{sub('t')} = tanh(pre) = tanh({_n(pre)}) = <b>{_n(h)}</b>",
        ]
    else:
        raise ValueError(f"cell must be rnn, lstm or gru, not {cell!r}")
    return "<br>".join(lines)


def prediction_text(pred: StepPrediction | None, t: int) -> str:
    """One line: what the head says at step t (top class and its probability, or the value vs target)."""
    if pred is None:
        return ""
    if pred.kind == "regress":
        parts = [f"{name} = {_n(pred.values[t, k])}" for k, name in enumerate(pred.names)]
        if pred.target is not None:
            parts += [f"target {_n(pred.target[t, k])}" for k in range(len(pred.names))]
        return "prediction: " + "   ".join(parts)
    k = int(pred.values[t].argmax())
    text = f"prediction: <b>{pred.names[k]}</b> ({pred.values[t, k]:.2f})"
    if pred.target is not None and pred.target[t] >= 0:
        text += f"   target: {pred.names[int(pred.target[t])]}"
        # A sequence label is the answer for the whole input: only the last step is judged by it.
        if pred.kind == "tag" or t == len(pred.values) - 1:
            text += " ✓" if int(pred.target[t]) == k else " ✗"
    return text
