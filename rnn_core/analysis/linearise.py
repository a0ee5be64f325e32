"""The dynamics near a fixed point s*: F(s* + δ, x) ≈ s* + J δ with J = ∂F/∂s at s* (torch.func.jacrev, vmapped
over points). J's eigenvalues λ say how fast each mode fades (|λ| < 1) or grows; a mode's time constant is
τ = −1 / ln|λ| steps, so λ near 1 is a mode that remembers — a direction along which the network integrates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.func import jacrev, vmap

from ..model import RecurrentModel
from .step import CellMap


def jacobians(cmap: CellMap, points: np.ndarray | Tensor, xi: Tensor) -> np.ndarray:
    """∂F/∂s at each point: points [m, state], xi [gates·hidden] → [m, state, state] (row i: d F_i / d s)."""
    pts = torch.as_tensor(np.asarray(points), dtype=cmap.w_hh.dtype)  # [m, state]
    if len(pts) == 0:
        return np.zeros((0, cmap.state_size, cmap.state_size), dtype=np.float64)
    jac = vmap(jacrev(cmap.single, argnums=0), in_dims=(0, None))(pts, xi.detach().to(pts.dtype))  # [m, state, state]
    return jac.detach().double().numpy()


@dataclass
class Linearisation:
    """At one point: eigenvalues [state] (complex, largest |λ| first), right eigenvectors as columns
    [state, state] and left eigenvectors as rows [state, state], scaled so left[k] · right[:, k] = 1."""

    eigenvalues: np.ndarray
    right: np.ndarray
    left: np.ndarray

    @property
    def time_constants(self) -> np.ndarray:
        return time_constants(self.eigenvalues)


def linearise(jac: np.ndarray) -> Linearisation:
    """Eigen-decompose Jacobians: one [state, state], or a stack [m, state, state] (then every field gains a
    leading m axis)."""
    lam, vec = np.linalg.eig(jac)  # lam [..., state], vec [..., state, state] (columns)
    order = np.argsort(-np.abs(lam), axis=-1, kind="stable")  # [..., state]
    lam = np.take_along_axis(lam, order, axis=-1)
    vec = np.take_along_axis(vec, order[..., None, :], axis=-1)
    return Linearisation(lam, vec, np.linalg.inv(vec))


def time_constants(eigenvalues: np.ndarray) -> np.ndarray:
    """τ = −1 / ln|λ| in steps: how long a mode takes to shrink by a factor e. Infinite at |λ| = 1; negative
    for a growing mode (|λ| > 1: the time it takes to grow by e); 0 for |λ| = 0."""
    mag = np.abs(np.asarray(eigenvalues))
    with np.errstate(divide="ignore"):
        log = np.log(mag)
        return np.where(log == 0, np.inf, -1.0 / np.where(log == 0, 1.0, log))


def readout_direction(model: RecurrentModel, cmap: CellMap) -> np.ndarray | None:
    """The state direction the head reads [state], or None when the head does not read this cell (a lower layer).

    Two classes: w_1 − w_0 (moving along it raises the second class's logit against the first: for IMDB,
    positive over negative); one output: its weights; more classes: the head row with the largest norm.
    For an LSTM the c half is zero — the head reads h only.
    """
    cfg = model.cfg
    if cmap.layer != cfg.num_layers - 1:
        return None
    w = model.head.weight.detach().double().numpy()  # [out, dirs*hidden]
    part = slice(0, cfg.hidden_size) if cmap.direction == "fwd" else slice(cfg.hidden_size, 2 * cfg.hidden_size)
    w = w[:, part]  # [out, hidden]
    if cfg.output_size == 2:
        vec = w[1] - w[0]
    elif cfg.output_size == 1:
        vec = w[0]
    else:
        vec = w[int(np.argmax(np.linalg.norm(w, axis=1)))]
    out = np.zeros(cmap.state_size)
    out[: cfg.hidden_size] = vec
    return out


def slow_mode(lin: Linearisation, toward: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The leading (largest |λ|) mode of each decomposition in ``lin`` (one or a stack): (λ [...], right vector
    r [..., state], left vector l [..., state]), real parts, signed so that r · ``toward`` ≥ 0 (e.g. toward the
    readout). For a complex pair the real parts span one direction of the rotation plane."""
    r = lin.right[..., :, 0].real.copy()  # [..., state]
    left = lin.left[..., 0, :].real.copy()  # [..., state]
    if toward is not None:
        sign = np.where(r @ toward < 0, -1.0, 1.0)[..., None]  # [..., 1]
        r, left = r * sign, left * sign
    return lin.eigenvalues[..., 0], r, left


@torch.no_grad()
def input_kicks(cmap: CellMap, points: np.ndarray, drives: Tensor, lefts: np.ndarray) -> np.ndarray:
    """How far one step of each input moves the state along the slow mode, averaged over fixed points.

    points [m, state]; drives [words, gates·hidden] (xi of each input); lefts [m, state]: each point's left slow
    vector l. The kick of input w at s* is l · (F(s*, x_w) − s*) — the slow mode's share of the move, the
    linearised system's own coordinate. → [words], the mean over the m points.
    """
    total = torch.zeros(drives.shape[0], dtype=torch.float64)  # [words]
    for p, left in zip(np.asarray(points), np.asarray(lefts)):
        s = torch.as_tensor(p, dtype=torch.float32)[None].expand(drives.shape[0], -1)  # [words, state]
        move = cmap(s, drives.float()) - s  # [words, state]
        total += move.double() @ torch.as_tensor(left, dtype=torch.float64)
    return (total / max(1, len(points))).numpy()
