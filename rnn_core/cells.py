"""One time step of each recurrent cell, written out exactly as torch's fused kernels compute it.

The replay path (``RecurrentModel.run_with_cache``) calls these once per step over the same
parameters the fused ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` use. The input projection ``x W_ih^T + b_ih``
does not depend on the state, so callers compute it for all steps at once and pass ``xi`` (one
step's slice); only the recurrent part runs inside the loop. Each step function takes a ``hook``
callable ``hook(name, tensor) -> tensor`` so every intermediate can be read or replaced, and the
replacement flows on through the recurrence.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Hook = Callable[[str, Tensor], Tensor]


def _identity(_name: str, t: Tensor) -> Tensor:
    return t


def rnn_step(xi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor, hook: Hook = _identity) -> Tensor:
    """Elman RNN (Keras SimpleRNN):  pre_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh,  h_t = tanh(pre_t).

    xi: [batch, hidden] = W_ih x_t + b_ih;  h: [batch, hidden].  Returns h_t [batch, hidden].
    """
    pre = hook("pre", torch.addmm(xi + b_hh, h, w_hh.t()))  # [batch, hidden]
    return hook("h", torch.tanh(pre))  # [batch, hidden]


def lstm_step(
    xi: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor, hook: Hook = _identity
) -> tuple[Tensor, Tensor]:
    """LSTM, torch gate order i, f, g, o:

        i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = σ(W_io x + b_io + W_ho h + b_ho)
        c_t = f ⊙ c_{t-1} + i ⊙ g                 h_t = o ⊙ tanh(c_t)

    xi: [batch, 4*hidden] = W_ih x_t + b_ih;  h, c: [batch, hidden].  Returns (h_t, c_t).
    """
    gates = torch.addmm(xi + b_hh, h, w_hh.t())  # [batch, 4*hidden]
    gi, gf, gg, go = gates.chunk(4, dim=1)  # each [batch, hidden]
    i = hook("i", torch.sigmoid(gi))
    f = hook("f", torch.sigmoid(gf))
    g = hook("g", torch.tanh(gg))
    o = hook("o", torch.sigmoid(go))
    c = hook("c", f * c + i * g)  # [batch, hidden]
    h = hook("h", o * torch.tanh(c))  # [batch, hidden]
    return h, c


def gru_step(xi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor, hook: Hook = _identity) -> Tensor:
    """GRU, torch gate order r, z, n (the reset gate is applied after the recurrent matmul):

        r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
        h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}

    xi: [batch, 3*hidden] = W_ih x_t + b_ih;  h: [batch, hidden].  Returns h_t.
    """
    hh = torch.addmm(b_hh, h, w_hh.t())  # [batch, 3*hidden]
    xr, xz, xn = xi.chunk(3, dim=1)  # each [batch, hidden]
    hr, hz, hn = hh.chunk(3, dim=1)
    r = hook("r", torch.sigmoid(xr + hr))
    z = hook("z", torch.sigmoid(xz + hz))
    n = hook("n", torch.tanh(xn + r * hn))
    return hook("h", (1 - z) * n + z * h)  # [batch, hidden]


# Activation names each cell exposes, in the order a step produces them.
CELL_ACTIVATIONS: dict[str, tuple[str, ...]] = {
    "rnn": ("pre", "h"),
    "lstm": ("i", "f", "g", "o", "c", "h"),
    "gru": ("r", "z", "n", "h"),
}
GATE_MULTIPLIER = {"rnn": 1, "lstm": 4, "gru": 3}
