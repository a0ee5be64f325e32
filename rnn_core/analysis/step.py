"""The map F(s, x) of one recurrent cell — its state s_t = F(s_{t-1}, x_t) as a plain function — built on the
step functions of ``rnn_core.cells`` over the model's own parameters, so fixed points and Jacobians are found
by autograd through the very equations the replay runs. For an LSTM the state is the pair (h, c), concatenated.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..cells import gru_step, lstm_step, rnn_step
from ..model import RecurrentModel

SETTLE_STEPS = 200  # steps a lower layer reads a constant input before its output is taken as settled


@dataclass(frozen=True)
class CellMap:
    """F(s, xi) for cell (``layer``, ``direction``) of a model; ``xi`` = W_ih · input + b_ih is the input drive.

    The state s is h [hidden] for RNN / GRU and [h, c] [2·hidden] for an LSTM (h first). Call with any number
    of leading batch dimensions collapsed to one: s [batch, state_size], xi [batch, gates·hidden] or [gates·hidden].
    """

    cell: str
    hidden: int
    layer: int
    direction: str
    w_ih: Tensor  # [gates*hidden, in]
    b_ih: Tensor  # [gates*hidden]
    w_hh: Tensor  # [gates*hidden, hidden]
    b_hh: Tensor  # [gates*hidden]

    @property
    def state_size(self) -> int:
        return 2 * self.hidden if self.cell == "lstm" else self.hidden

    @property
    def state_parts(self) -> str:
        """How a state vector is laid out, in words."""
        return "[h, c] (the LSTM's hidden and cell state, concatenated)" if self.cell == "lstm" else "h"

    def drive(self, inp: Tensor) -> Tensor:
        """The input drive xi = W_ih · inp + b_ih; inp [..., in] → [..., gates·hidden]."""
        return torch.nn.functional.linear(inp, self.w_ih, self.b_ih)

    def __call__(self, s: Tensor, xi: Tensor) -> Tensor:
        """One step: s [batch, state_size], xi [batch or 1, gates·hidden] → s' [batch, state_size]."""
        xi = xi.expand(s.shape[0], -1)  # [batch, gates*hidden]
        if self.cell == "lstm":
            h, c = s.split(self.hidden, dim=-1)  # each [batch, hidden]
            h2, c2 = lstm_step(xi, h, c, self.w_hh, self.b_hh)
            return torch.cat([h2, c2], dim=-1)  # [batch, 2*hidden]
        if self.cell == "gru":
            return gru_step(xi, s, self.w_hh, self.b_hh)
        return rnn_step(xi, s, self.w_hh, self.b_hh)

    def single(self, s: Tensor, xi: Tensor) -> Tensor:
        """F for one state: s [state_size], xi [gates·hidden] → [state_size] (what torch.func transforms take)."""
        return self(s[None], xi[None])[0]


def checked_cell(model: RecurrentModel, layer: int, direction: str) -> int:
    """The layer index (negative counts from the last) of a cell that ``model`` has, in 0..layers-1; ValueError
    saying what to pick when the layer or direction does not exist."""
    cfg = model.cfg
    if not -cfg.num_layers <= layer < cfg.num_layers:
        raise ValueError(f"layer must be from 0 to {cfg.num_layers - 1} for this model, not {layer}")
    layer %= cfg.num_layers
    if direction not in model.directions():
        raise ValueError(f"direction must be one of {', '.join(model.directions())}, not {direction!r}")
    return layer


def cell_map(model: RecurrentModel, layer: int = -1, direction: str = "fwd") -> CellMap:
    """The CellMap of ``model``'s cell at ``layer`` (negative counts from the last) and ``direction``.
    Parameters are detached: the analysis differentiates with respect to states, never weights."""
    cfg = model.cfg
    layer = checked_cell(model, layer, direction)
    sfx = f"_l{layer}" + ("_reverse" if direction == "bwd" else "")
    p = {n: getattr(model.rnn, f"{n}{sfx}").detach() for n in ("weight_ih", "bias_ih", "weight_hh", "bias_hh")}
    return CellMap(cfg.cell, cfg.hidden_size, layer, direction, p["weight_ih"], p["bias_ih"], p["weight_hh"],
                   p["bias_hh"])


def constant_input(model: RecurrentModel, kind: str = "zero", value: float | int = 0) -> Tensor:
    """The network input held constant, as the first layer sees it: [in].

    ``kind``: "zero" (an all-zero input vector), "pad" (the padding token's embedding; token models only),
    "token" (token id ``value``'s embedding) or "value" (every feature equal to ``value``; feature models).
    """
    cfg = model.cfg
    if kind == "zero":
        return torch.zeros(cfg.embed_dim if cfg.token_input else cfg.input_size)
    if kind in ("pad", "token"):
        if model.embed is None:
            raise ValueError("this model reads numbers, not tokens: choose a zero or constant value input")
        tok = cfg.padding_idx if kind == "pad" else int(value)
        if not 0 <= tok < cfg.vocab_size:
            raise ValueError(f"token id must be from 0 to {cfg.vocab_size - 1}, not {tok}")
        return model.embed.weight[tok].detach().clone()  # [embed]
    if kind == "value":
        if cfg.token_input:
            raise ValueError("this model reads tokens: choose the zero input, the padding token or a word")
        return torch.full((cfg.input_size,), float(value))
    raise ValueError(f"constant input must be 'zero', 'pad', 'token' or 'value', not {kind!r}")


@torch.no_grad()
def layer_drive(model: RecurrentModel, cmap: CellMap, inp: Tensor) -> Tensor:
    """The drive xi [gates·hidden] the cell of ``cmap`` receives while the network reads ``inp`` [in] forever.

    For layer 0 that is W_ih · inp + b_ih. A deeper layer's input is the layer below's output, which itself
    moves: each lower cell (every direction) is iterated SETTLE_STEPS steps from the zero state on its own
    constant drive — with a constant input the time direction does not matter — and its settled h is taken.
    """
    layer_in = inp  # [in]
    for layer in range(cmap.layer):
        outs = []
        for d in model.directions():
            below = cell_map(model, layer, d)
            xi = below.drive(layer_in)[None]  # [1, gates*hidden]
            s = xi.new_zeros(1, below.state_size)  # [1, state]
            for _ in range(SETTLE_STEPS):
                s = below(s, xi)
            outs.append(s[0, : below.hidden])  # h only: that is what the next layer reads
        layer_in = torch.cat(outs)  # [dirs*hidden]
    return cmap.drive(layer_in)
