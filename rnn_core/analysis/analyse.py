"""The whole state-space analysis of one model in one call — states, PCA (trained and untrained), slow points
under a constant input and their linearisation — and the few numbers that answer "is there a line attractor?"."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import Tensor

from ..model import RecurrentModel, build_model
from .fixed_points import FixedPoints, find_fixed_points, sample_starts
from .linearise import input_kicks, jacobians, linearise, readout_direction, slow_mode, time_constants
from .pca import PcaFit, fit_pca
from .states import StateSet, collect_states
from .step import CellMap, cell_map, constant_input, layer_drive

Progress = Callable[[float, str], None]
MAX_KICK_POINTS = 40  # per-word kicks are averaged over at most this many slow points, spread along the line


@dataclass(frozen=True)
class Options:
    """What to analyse. ``input_kind``/``input_value`` pick the constant input (see step.constant_input)."""

    layer: int = -1
    direction: str = "fwd"
    input_kind: str = "zero"
    input_value: float = 0.0
    n_starts: int = 1000
    steps: int = 600
    seed: int = 0


@dataclass
class Dynamics:
    """Everything the Dynamics page draws. Per slow point k: ``eigenvalues[k]`` [state] (largest |λ| first),
    ``slow_right[k]`` / ``slow_left[k]`` [state] the leading mode's right / left vectors (sign: toward the readout)."""

    options: Options
    cell: str
    state_parts: str
    states: StateSet
    pca: PcaFit
    untrained_explained: np.ndarray
    fixed: FixedPoints
    eigenvalues: np.ndarray
    slow_right: np.ndarray
    slow_left: np.ndarray
    readout: np.ndarray | None
    initial: np.ndarray
    seconds: dict[str, float] = field(default_factory=dict)  # wall-clock seconds per phase
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # this process's CPU seconds per phase

    def time_constants(self, k: int) -> np.ndarray:
        """τ = −1/ln|λ| in steps for slow point k's modes."""
        return time_constants(self.eigenvalues[k])

    def summary(self) -> dict[str, Any]:
        """The headline numbers (see the Dynamics page for how to read each)."""
        lead = self.eigenvalues[:, 0] if len(self.eigenvalues) else np.zeros(0, dtype=complex)
        out: dict[str, Any] = {
            "state_size": int(self.states.states.shape[1]),
            "pcs_90_trained": self.pca.components_for(0.9),
            "pcs_90_untrained": int(np.searchsorted(np.cumsum(self.untrained_explained), 0.9 - 1e-12) + 1),
            "pc1_share_trained": float(self.pca.explained[0]),
            "pc1_share_untrained": float(self.untrained_explained[0]),
            "starts": self.fixed.n_starts,
            "slow_points": len(self.fixed),
            "q_tolerance": self.fixed.tol,
            "line_share": float(fit_pca(self.fixed.points).explained[0]) if len(self.fixed) >= 3 else None,
            "leading_abs_eig_median": float(np.median(np.abs(lead))) if len(lead) else None,
            "leading_distance_from_1_median": float(np.median(np.abs(1 - lead))) if len(lead) else None,
            # share of slow points whose slowest mode is a rotation (a complex pair) rather than a plain decay
            "leading_complex_share": float(np.mean(np.abs(lead.imag) > 1e-9)) if len(lead) else None,
        }
        if len(lead):
            angles = np.abs(np.angle(self.eigenvalues))  # [m, state]
            rot = np.where(angles > 1e-6, np.abs(self.eigenvalues), 0).max(axis=1)  # slowest rotating mode's |λ|
            k = int(np.argmax(rot))
            if rot[k] > 0:
                j = int(np.argmax(np.where(angles[k] > 1e-6, np.abs(self.eigenvalues[k]), -1)))
                lam = self.eigenvalues[k, j]
                out["slowest_rotation"] = {"abs": float(abs(lam)), "angle_rad": float(abs(np.angle(lam))),
                                           "period_steps": float(2 * np.pi / abs(np.angle(lam))),
                                           "tau_steps": float(time_constants(np.array([lam]))[0])}
        return out


def analyse(
    model: RecurrentModel,
    x: Tensor,
    lengths: Tensor | None = None,
    labels: Tensor | None = None,
    options: Options = Options(),
    progress: Progress | None = None,
    init_seed: int = 0,
) -> Dynamics:
    """States of ``x`` and of the same config untrained, PCA of both, slow points from ``options.n_starts`` starts
    under the constant input, and each point's Jacobian eigen-decomposition. The untrained network is
    ``build_model(cfg, seed=init_seed)``: pass the run's training seed to get the very weights it started from."""
    report = progress or (lambda _f, _m: None)
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    model = model.eval()

    def phase(name: str, lo: float, hi: float, msg: str) -> Callable[[float], None]:
        report(lo, msg)
        seconds[name], cpu[name] = time.perf_counter(), time.process_time()
        return lambda f: report(lo + (hi - lo) * f, msg)

    tick = phase("states", 0.0, 0.3, "Replaying the inputs and collecting states")
    states = collect_states(model, x, lengths, labels, options.layer, options.direction, tick)
    pca = fit_pca(states.states, options.seed)
    _done(seconds, cpu, "states")

    tick = phase("untrained", 0.3, 0.5, "The same network untrained, for comparison")
    fresh = build_model(model.cfg, seed=init_seed).eval()
    untrained = fit_pca(collect_states(fresh, x, lengths, labels, options.layer, options.direction, tick).states)
    _done(seconds, cpu, "untrained")

    tick = phase("fixed_points", 0.5, 0.9, f"Searching slow points from {options.n_starts} starts")
    cmap = cell_map(model, options.layer, options.direction)
    xi = layer_drive(model, cmap, constant_input(model, options.input_kind, options.input_value))
    starts = sample_starts(states.states, options.n_starts, seed=options.seed)
    fixed = find_fixed_points(cmap, xi, starts, steps=options.steps, progress=tick)
    _done(seconds, cpu, "fixed_points")

    phase("jacobians", 0.9, 1.0, "Linearising around each slow point")
    readout = readout_direction(model, cmap)
    eig, right, left = _modes(cmap, fixed, xi, readout)
    _done(seconds, cpu, "jacobians")
    report(1.0, "Done")
    return Dynamics(options, cmap.cell, cmap.state_parts, states, pca, untrained.explained, fixed, eig, right,
                    left, readout, np.zeros(cmap.state_size), seconds, cpu)


def _done(seconds: dict[str, float], cpu: dict[str, float], name: str) -> None:
    seconds[name] = time.perf_counter() - seconds[name]
    cpu[name] = time.process_time() - cpu[name]


def _modes(cmap: CellMap, fixed: FixedPoints, xi: Tensor, readout: np.ndarray | None):
    size = cmap.state_size
    if len(fixed) == 0:
        return np.zeros((0, size), dtype=complex), np.zeros((0, size)), np.zeros((0, size))
    lin = linearise(jacobians(cmap, fixed.points, xi))  # stacked over points
    _, right, left = slow_mode(lin, readout)
    return lin.eigenvalues, right, left


def word_kicks(model: RecurrentModel, dyn: Dynamics) -> np.ndarray:
    """Per token id [vocab]: the kick one step of that word gives along the slow mode, averaged over up to
    MAX_KICK_POINTS slow points spread evenly along the first PC of the slow points (see linearise.input_kicks).
    Positive = toward the readout's second class (IMDB: positive). Token models, first layer only."""
    if model.embed is None:
        raise ValueError("per-word kicks need a model that reads words")
    if len(dyn.fixed) == 0:
        raise ValueError("no slow points were found, so there is no line to measure kicks along")
    cmap = cell_map(model, dyn.options.layer, dyn.options.direction)
    if cmap.layer != 0:
        raise ValueError("per-word kicks are measured on the first layer, which reads the words directly")
    pts = dyn.fixed.points
    order = np.argsort(fit_pca(pts).project(pts, 1)[:, 0]) if len(pts) >= 3 else np.arange(len(pts))
    pick = order[np.linspace(0, len(order) - 1, min(MAX_KICK_POINTS, len(order))).astype(np.int64)]
    drives = cmap.drive(model.embed.weight.detach())  # [vocab, gates*hidden]
    return input_kicks(cmap, pts[pick], drives, dyn.slow_left[pick])


def kick_agreement(kicks: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """Spearman rank correlation between per-word kicks and another model's word weights (both [vocab]; NaN
    entries are left out)."""
    from scipy.stats import spearmanr

    ok = np.isfinite(kicks) & np.isfinite(weights)
    rho, p = spearmanr(kicks[ok], weights[ok])
    return {"spearman": float(rho), "p_value": float(p), "words": int(ok.sum())}
