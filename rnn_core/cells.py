"""The equations of each recurrent cell, written out exactly as torch's fused kernels compute them.

Every function works on any leading shape: one step ``[batch, units]`` in the step-by-step replay
(``rnn_core.replay``), or every step at once ``[batch, seq, units]`` in the read-only fast path
(``rnn_core.fast_cache``), which takes h from the fused kernel and recomputes the gates from x_t and h_{t-1}.
The input projection ``x W_ih^T + b_ih`` (``xi``) and the recurrent one ``h W_hh^T + b_hh`` (``hh``, see
``recurrent``) are computed by the callers. Each function takes a ``hook`` callable
``hook(name, tensor) -> tensor`` so every intermediate can be read or replaced, and the replacement flows on.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch.nn import functional

Hook = Callable[[str, Tensor], Tensor]


def _identity(_name: str, t: Tensor) -> Tensor:
    return t


def recurrent(h: Tensor, w_hh: Tensor, b_hh: Tensor) -> Tensor:
    """hh = W_hh h + b_hh: [..., hidden] → [..., gates*hidden]."""
    return functional.linear(h, w_hh, b_hh)


# ----------------------------------------------------------------------------------------------- RNN
def rnn_cell(xi: Tensor, hh: Tensor, hook: Hook = _identity) -> Tensor:
    """Elman RNN (Keras SimpleRNN):  pre_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh,  h_t = tanh(pre_t).

    xi, hh: [..., hidden].  Returns h_t [..., hidden] (``pre`` goes to the hook).
    """
    pre = hook("pre", xi + hh)
    return hook("h", torch.tanh(pre))


# ---------------------------------------------------------------------------------------------- LSTM
def lstm_gates(xi: Tensor, hh: Tensor, hook: Hook = _identity) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """LSTM gates, torch order i, f, g, o, from xi, hh [..., 4*hidden]:

        i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = σ(W_io x + b_io + W_ho h + b_ho)
    """
    gi, gf, gg, go = (xi + hh).chunk(4, dim=-1)  # each [..., hidden]
    i = hook("i", torch.sigmoid(gi))
    f = hook("f", torch.sigmoid(gf))
    g = hook("g", torch.tanh(gg))
    o = hook("o", torch.sigmoid(go))
    return i, f, g, o


def lstm_state(i: Tensor, f: Tensor, g: Tensor, o: Tensor, c: Tensor, hook: Hook = _identity) -> tuple[Tensor, Tensor]:
    """One LSTM state update:  c_t = f ⊙ c_{t-1} + i ⊙ g,  h_t = o ⊙ tanh(c_t).  Returns (h_t, c_t)."""
    c = hook("c", f * c + i * g)  # [..., hidden]
    h = hook("h", o * torch.tanh(c))  # [..., hidden]
    return h, c


def lstm_cell_states(i: Tensor, f: Tensor, g: Tensor) -> Tensor:
    """c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t for every t from c_{-1} = 0: gates [batch, seq, hidden] → c [batch, seq, hidden].

    The recurrence is linear in c, so it is solved as a parallel prefix scan (Hillis–Steele) instead of a
    step loop: after the round with stride k, ``b_t`` holds c_t as if c_{t-k} were 0 and ``a_t`` the product of
    the k forget gates f_{t-k+1} ⋯ f_t, and two windows combine as b_t ← b_t + a_t ⊙ b_{t-k}, a_t ← a_t ⊙ a_{t-k}.
    ⌈log₂ seq⌉ rounds of element-wise products of gates in (0, 1): no division, so nothing underflows or
    overflows, and the sums differ from ``lstm_state``'s step order only by rounding (≈1e-7).
    """
    b = i * g  # [batch, seq, hidden]: c_t when c_{t-1} = 0
    a = f  # [batch, seq, hidden]: what multiplies the state carried in
    k = 1
    while k < b.shape[1]:
        b = torch.cat([b[:, :k], torch.addcmul(b[:, k:], a[:, k:], b[:, :-k])], dim=1)  # [batch, seq, hidden]
        a = torch.cat([a[:, :k], a[:, k:] * a[:, :-k]], dim=1)  # [batch, seq, hidden]
        k *= 2
    return b


def lstm_step(
    xi: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor, hook: Hook = _identity
) -> tuple[Tensor, Tensor]:
    """One LSTM step: ``lstm_gates`` then ``lstm_state``.  xi: [batch, 4*hidden] = W_ih x_t + b_ih;
    h, c: [batch, hidden].  Returns (h_t, c_t)."""
    i, f, g, o = lstm_gates(xi, recurrent(h, w_hh, b_hh), hook)
    return lstm_state(i, f, g, o, c, hook)


# ----------------------------------------------------------------------------------------------- GRU
def gru_gates(xi: Tensor, hh: Tensor, hook: Hook = _identity) -> tuple[Tensor, Tensor, Tensor]:
    """GRU gates, torch order r, z, n (the reset gate is applied after the recurrent matmul), from
    xi, hh [..., 3*hidden]:

        r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
    """
    xr, xz, xn = xi.chunk(3, dim=-1)  # each [..., hidden]
    hr, hz, hn = hh.chunk(3, dim=-1)
    r = hook("r", torch.sigmoid(xr + hr))
    z = hook("z", torch.sigmoid(xz + hz))
    n = hook("n", torch.tanh(xn + r * hn))
    return r, z, n


def gru_state(z: Tensor, n: Tensor, h: Tensor, hook: Hook = _identity) -> Tensor:
    """h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}."""
    return hook("h", (1 - z) * n + z * h)


def gru_step(xi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor, hook: Hook = _identity) -> Tensor:
    """One GRU step.  xi: [batch, 3*hidden] = W_ih x_t + b_ih;  h: [batch, hidden].  Returns h_t."""
    _r, z, n = gru_gates(xi, recurrent(h, w_hh, b_hh), hook)
    return gru_state(z, n, h, hook)


def rnn_step(xi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor, hook: Hook = _identity) -> Tensor:
    """One Elman step.  xi: [batch, hidden] = W_ih x_t + b_ih;  h: [batch, hidden].  Returns h_t."""
    return rnn_cell(xi, recurrent(h, w_hh, b_hh), hook)


# Activation names each cell exposes, in the order a step produces them.
CELL_ACTIVATIONS: dict[str, tuple[str, ...]] = {
    "rnn": ("pre", "h"),
    "lstm": ("i", "f", "g", "o", "c", "h"),
    "gru": ("r", "z", "n", "h"),
}
GATE_MULTIPLIER = {"rnn": 1, "lstm": 4, "gru": 3}
