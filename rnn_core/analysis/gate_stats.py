"""Gate statistics: how often each gate unit is saturated (nearly shut < 0.1 or wide open > 0.9), the mean
forget-gate (LSTM) or update-gate (GRU) value over time, and the spectral radius of each recurrent weight block —
the numbers that say whether a cell is holding on to information or washing it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..cells import CELL_ACTIVATIONS
from ..hooks import hook_name

SATURATION = (0.1, 0.9)  # a sigmoid gate below the first is "shut", above the second "open"
GATES = {"rnn": (), "lstm": ("i", "f", "o"), "gru": ("r", "z")}  # the sigmoid gates of each cell
BLOCKS = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}  # W_hh's row blocks, torch order
MEMORY_GATE = {"lstm": "f", "gru": "z"}  # the gate whose value near 1 means "keep the old state"


@dataclass(frozen=True)
class Saturation:
    """Share of (example, step) pairs where a gate unit is below ``lo`` / above ``hi``: each [units]."""

    gate: str
    shut: Tensor  # [units]
    open: Tensor  # [units]

    @property
    def saturated(self) -> Tensor:
        """Share of the time each unit is at either end: [units]."""
        return self.shut + self.open


def saturation(values: Tensor, lengths: Tensor | None = None, gate: str = "",
               bounds: tuple[float, float] = SATURATION) -> Saturation:
    """Per-unit saturation of one gate's values [batch, seq, units] over the real steps of each example."""
    lo, hi = bounds
    b, seq, _ = values.shape
    inside = (torch.ones(b, seq) if lengths is None
              else (torch.arange(seq)[None, :] < lengths[:, None]).float())  # [batch, seq]
    count = inside.sum().clamp_min(1)
    shut = ((values < lo).float() * inside[..., None]).sum((0, 1)) / count  # [units]
    wide = ((values > hi).float() * inside[..., None]).sum((0, 1)) / count  # [units]
    return Saturation(gate=gate, shut=shut, open=wide)


def gate_saturation(cache: Mapping[str, Tensor], cell: str, layer: int = 0, direction: str = "fwd",
                    lengths: Tensor | None = None) -> dict[str, Saturation]:
    """``{gate: Saturation}`` for every sigmoid gate of one layer / direction in a ``run_with_cache`` cache
    (empty for a plain RNN, which has none)."""
    return {g: saturation(cache[hook_name(layer, direction, g)], lengths, g) for g in GATES[cell]}


def memory_gate_over_time(cache: Mapping[str, Tensor], cell: str, layer: int = 0,
                          direction: str = "fwd") -> Tensor | None:
    """The mean over examples and units of the forget gate (LSTM) or update gate (GRU) at every step: [seq].
    Near 1 the cell carries its state forward; near 0 it overwrites it. None for a plain RNN."""
    gate = MEMORY_GATE.get(cell)
    if gate is None:
        return None
    return cache[hook_name(layer, direction, gate)].mean(dim=(0, 2))  # [seq]


def spectral_radius(matrix: Tensor) -> float:
    """max |eigenvalue| of a square matrix. For h_t = tanh(W h_{t-1} + ...), a radius well below 1 shrinks both
    the state and the backward gradient at every step (vanishing); well above 1 can make them explode."""
    return float(torch.linalg.eigvals(matrix.detach().double().cpu()).abs().max())


def recurrent_radii(rnn: nn.RNNBase, cell: str) -> dict[str, dict[str, float]]:
    """Spectral radius of each square block of every recurrent matrix: ``{"layers.0.fwd": {"f": 0.97, ...}}``
    (one block "h" for a plain RNN; i, f, g, o for an LSTM; r, z, n for a GRU)."""
    hidden = rnn.hidden_size
    out: dict[str, dict[str, float]] = {}
    for layer in range(rnn.num_layers):
        for d, direction in enumerate(("fwd", "bwd")[: 2 if rnn.bidirectional else 1]):
            w = getattr(rnn, f"weight_hh_l{layer}" + ("_reverse" if d else ""))  # [blocks*hidden, hidden]
            blocks = w.detach().split(hidden, dim=0)
            out[f"layers.{layer}.{direction}"] = {q: spectral_radius(m) for q, m in zip(BLOCKS[cell], blocks)}
    return out


assert all(set(GATES[c]) <= set(CELL_ACTIVATIONS[c]) for c in GATES)  # gate names are hook names
