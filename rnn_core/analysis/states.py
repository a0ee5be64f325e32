"""The states a network visits: run a set of inputs through the replay and keep one cell's state (h, or [h, c]
for an LSTM) at every real step, with which example and step each point came from and the example's label."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..model import RecurrentModel
from .step import checked_cell

BATCH = 128  # examples per replay call: bounds memory, and one long padded batch wastes little


@dataclass
class StateSet:
    """Visited states of one cell. ``states`` [points, state_size] holds every real step of every example in
    order; example ``i`` is rows ``offsets[i]:offsets[i+1]`` (its trajectory, step 0 first)."""

    states: np.ndarray  # float32 [points, state_size]
    offsets: np.ndarray  # int64 [examples + 1]
    labels: np.ndarray  # [examples]: the example's class id (classifiers) or -1
    layer: int
    direction: str
    cell: str

    @property
    def n_examples(self) -> int:
        return len(self.offsets) - 1

    @property
    def step(self) -> np.ndarray:
        """int64 [points]: each point's time step inside its example."""
        lengths = np.diff(self.offsets)
        return np.arange(len(self.states)) - np.repeat(self.offsets[:-1], lengths)

    @property
    def example(self) -> np.ndarray:
        """int64 [points]: which example each point came from."""
        return np.repeat(np.arange(self.n_examples), np.diff(self.offsets))

    def point_labels(self) -> np.ndarray:
        """[points]: each point's example label."""
        return self.labels[self.example]

    def trajectory(self, i: int) -> np.ndarray:
        """[steps, state_size]: example ``i``'s states in time order."""
        return self.states[self.offsets[i] : self.offsets[i + 1]]


def state_names(model: RecurrentModel, layer: int, direction: str) -> list[str]:
    """The hook names whose values make up the state of cell (layer, direction): h, and c for an LSTM."""
    parts = ["h", "c"] if model.cfg.cell == "lstm" else ["h"]
    return [f"layers.{layer}.{direction}.hook_{p}" for p in parts]


def collect_states(
    model: RecurrentModel,
    x: Tensor,
    lengths: Tensor | Sequence[int] | None = None,
    labels: Tensor | Sequence[int] | None = None,
    layer: int = -1,
    direction: str = "fwd",
    progress: Callable[[float], None] | None = None,
) -> StateSet:
    """Replay ``x`` (token ids [n, seq] or features [n, seq, features]) and gather cell (layer, direction)'s state
    at every step inside each sequence. ``progress(fraction)`` is called after each batch."""
    cfg = model.cfg
    layer = checked_cell(model, layer, direction)
    n = int(x.shape[0])
    lens = model.lengths_of(x, lengths)
    lens = torch.full((n,), int(x.shape[1]), dtype=torch.long) if lens is None else lens  # [n]
    names = state_names(model, layer, direction)
    # The fused kernel's output is the last layer's h at every step (a parity test holds it to the replay's); it
    # is ~5x faster, so use it whenever h is the whole state and no backward pass or lower layer is asked for.
    fused = cfg.cell != "lstm" and not cfg.bidirectional and layer == cfg.num_layers - 1
    chunks: list[np.ndarray] = []
    for lo in range(0, n, BATCH):
        hi = min(n, lo + BATCH)
        seq = int(lens[lo:hi].max())
        if fused:
            with torch.no_grad():
                both, _ = model.eval().rnn(model._inputs(x[lo:hi, :seq]))  # [b, seq, hidden]
        else:
            _, cache = model.run_with_cache(x[lo:hi, :seq], lens[lo:hi], names_filter=names)
            both = torch.cat([cache[nm] for nm in names], dim=-1)  # [b, seq, state]
        for row, ln in enumerate(lens[lo:hi].tolist()):
            chunks.append(both[row, :ln].numpy())
        if progress is not None:
            progress(hi / n)
    offsets = np.concatenate([[0], np.cumsum(lens.numpy())]).astype(np.int64)
    lab = np.full(n, -1, dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64).reshape(n)
    return StateSet(np.concatenate(chunks).astype(np.float32), offsets, lab, layer, direction, cfg.cell)
