"""Principal components of visited states (scikit-learn's PCA): how many directions the state really uses, and
the axes the page draws trajectories, fixed points and the readout on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA

MAX_FIT_POINTS = 50_000  # PCA of more points than this sees an evenly spaced subset: the axes barely move


@dataclass
class PcaFit:
    """mean [state]; components [k, state] (orthonormal rows, leading first); explained [k]: share of the total
    state variance on each component (sums to 1 when k = state size)."""

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray

    def project(self, points: np.ndarray, k: int | None = None) -> np.ndarray:
        """points [n, state] → coordinates [n, k] on the leading k components (all when k is None)."""
        comps = self.components if k is None else self.components[:k]
        return (np.asarray(points, dtype=np.float64) - self.mean) @ comps.T

    def project_direction(self, direction: np.ndarray, k: int | None = None) -> np.ndarray:
        """A direction (not a point: no mean removed) [state] → its coordinates [k]."""
        comps = self.components if k is None else self.components[:k]
        return comps @ np.asarray(direction, dtype=np.float64)

    def components_for(self, share: float = 0.9) -> int:
        """The fewest leading components that together hold ``share`` of the variance."""
        cum = np.cumsum(self.explained)
        return min(len(cum), int(np.searchsorted(cum, share - 1e-12)) + 1)


def fit_pca(states: np.ndarray, seed: int = 0) -> PcaFit:
    """Fit PCA (all components) on states [n, state]. At most MAX_FIT_POINTS evenly spaced rows are used."""
    states = np.asarray(states, dtype=np.float64)
    if states.ndim != 2 or len(states) < 2:
        raise ValueError("PCA needs at least two states")
    if len(states) > MAX_FIT_POINTS:
        states = states[np.linspace(0, len(states) - 1, MAX_FIT_POINTS).astype(np.int64)]
    pca = PCA(random_state=seed).fit(states)
    explained = pca.explained_variance_ratio_
    if not np.isfinite(explained).all():  # every state identical: no variance to share out
        explained = np.zeros_like(explained)
    return PcaFit(pca.mean_, pca.components_, explained)
