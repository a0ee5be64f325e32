"""Fixed and slow points of a cell under a constant input (Sussillo & Barak 2013): minimise the speed
q(s) = ½‖F(s, x) − s‖² from many starting states at once, keep the points below a tolerance, merge duplicates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .step import CellMap


@dataclass
class FixedPoints:
    """points [m, state] sorted slowest first; q [m] their speed ½‖F(s) − s‖²; counts [m]: how many starts ended
    at each (after merging). ``final_q`` [starts] is every start's speed after optimising, kept or not."""

    points: np.ndarray
    q: np.ndarray
    counts: np.ndarray
    final_q: np.ndarray
    n_starts: int
    tol: float

    def __len__(self) -> int:
        return len(self.points)


def speed(cmap: CellMap, s: Tensor, xi: Tensor) -> Tensor:
    """q(s) = ½‖F(s, xi) − s‖² for each row of s [n, state] → [n]."""
    return 0.5 * (cmap(s, xi) - s).pow(2).sum(dim=-1)


def sample_starts(states: np.ndarray, n: int, noise: float = 0.01, seed: int = 0) -> Tensor:
    """n rows drawn from visited states [points, state] with Gaussian noise of ``noise`` × their spread added, so
    starts cover the visited region without sitting exactly on a trajectory. → [n, state] float32."""
    rng = np.random.default_rng(seed)
    picked = np.asarray(states, dtype=np.float32)[rng.integers(0, len(states), size=n)]  # [n, state]
    spread = float(np.asarray(states, dtype=np.float64).std()) or 1.0
    return torch.from_numpy(picked + rng.normal(0.0, noise * spread, size=picked.shape).astype(np.float32))


def find_fixed_points(
    cmap: CellMap,
    xi: Tensor,
    starts: Tensor,
    steps: int = 600,
    lr: float = 3e-2,
    rel_tol: float = 1e-3,
    merge_dist: float = 1e-3,
    progress: Callable[[float], None] | None = None,
) -> FixedPoints:
    """Minimise q from all ``starts`` [n, state] together; ``xi`` [gates·hidden] is the constant drive.

    Adam on the summed q (the points do not interact, so each follows its own gradient), the rate decaying
    a hundredfold over ``steps``. A trained network's attractors are often only approximate — a line of *slow*
    points rather than exact fixed points — so a point is kept when its q is below ``rel_tol`` × the median q
    of the starts (it moves ~√rel_tol as fast as visited states do under this input). Kept points closer than
    ``merge_dist`` (Euclidean) are merged into the slowest of them.
    """
    s = starts.detach().clone().float().requires_grad_(True)  # [n, state]
    xi = xi.detach().float()[None]  # [1, gates*hidden]
    with torch.no_grad():
        tol = rel_tol * float(torch.nan_to_num(speed(cmap, s, xi), nan=0.0).median())
    opt = torch.optim.Adam([s], lr=lr)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.01 ** (1.0 / max(1, steps)))
    for k in range(steps):
        opt.zero_grad(set_to_none=True)
        speed(cmap, s, xi).sum().backward()
        opt.step()
        sched.step()
        if progress is not None and (k + 1) % 50 == 0:
            progress((k + 1) / steps)
    with torch.no_grad():
        final = speed(cmap, s, xi)  # [n]
    keep = torch.isfinite(final) & (final <= tol)
    pts, qs = s.detach()[keep], final[keep]
    order = torch.argsort(qs)
    points, q, counts = merge_points(pts[order], qs[order], merge_dist)
    return FixedPoints(points, q, counts, final.numpy(), int(starts.shape[0]), tol)


def merge_points(points: Tensor, q: Tensor, dist: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy merge of points [m, state] sorted slowest first: each point joins the first kept point within
    ``dist``, else is kept itself. → (kept points, their q, how many points each absorbed, itself included)."""
    kept: list[int] = []
    counts: list[int] = []
    for i in range(len(points)):
        if kept:
            d = torch.linalg.vector_norm(points[kept] - points[i], dim=-1)  # [kept]
            j = int(torch.argmin(d))
            if float(d[j]) < dist:
                counts[j] += 1
                continue
        kept.append(i)
        counts.append(1)
    idx = torch.as_tensor(kept, dtype=torch.long)
    return points[idx].numpy(), q[idx].numpy(), np.asarray(counts, dtype=np.int64)
