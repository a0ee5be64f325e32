"""Rotation in the state space: how many times a trajectory circles its own centre on two principal components.
A network that tracks an oscillating input can turn with it even when its autonomous dynamics do not rotate."""

from __future__ import annotations

import numpy as np

from .analyse import Dynamics


def turns(path: np.ndarray) -> float:
    """Net turns of a 2-D path [steps, 2] around its mean: the unwrapped change of its angle / 2π (signed:
    positive = counter-clockwise)."""
    c = np.asarray(path, dtype=np.float64) - np.mean(path, axis=0)  # [steps, 2]
    if len(c) < 2:
        return 0.0
    angle = np.unwrap(np.arctan2(c[:, 1], c[:, 0]))  # [steps]
    return float((angle[-1] - angle[0]) / (2 * np.pi))


def turns_per_example(dyn: Dynamics, axes: tuple[int, int] = (0, 1)) -> np.ndarray:
    """[examples]: each analysed example's net turns on PCs ``axes``."""
    ax = list(axes)
    return np.array([turns(dyn.pca.project(dyn.states.trajectory(i))[:, ax]) for i in range(dyn.states.n_examples)])


def rotation_vs_cycles(dyn: Dynamics, freq: np.ndarray, window: int, axes: tuple[int, int] = (0, 1)) -> dict:
    """For sine inputs of ``freq`` [examples] cycles per 60 steps over ``window`` steps: the median of |turns| /
    input cycles, and the correlation between |turns| and input cycles across examples."""
    cycles = np.asarray(freq, dtype=np.float64) * window / 60.0  # [examples]
    t = np.abs(turns_per_example(dyn, axes))
    ok = cycles > 0
    corr = float(np.corrcoef(cycles[ok], t[ok])[0, 1]) if ok.sum() > 2 else float("nan")
    return {"turns_per_cycle": float(np.median(t[ok] / cycles[ok])), "correlation": corr, "examples": int(ok.sum())}
