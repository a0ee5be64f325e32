"""The read-only fast path of ``run_with_cache``: no step loop in Python for the gates.

Every gate depends only on x_t and h_{t-1}, and torch's fused kernel gives every h. So each layer and direction
runs once through that kernel (the very op ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` call, one layer at a time so
every layer's h is seen), and then all gates come from ``cells.py`` in a few batched operations over the whole
sequence; the LSTM cell state c_t = f ⊙ c_{t-1} + i ⊙ g is a linear recurrence, solved by a parallel scan.
Hooks never fire here and there is no graph: with hooks attached or ``incl_grad=True``, ``run_with_cache`` uses
``replay.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from .batching import step_mask
from .cells import CELL_ACTIVATIONS, gru_gates, lstm_cell_states, lstm_gates, recurrent, rnn_cell
from .hooks import LOGITS, NamePredicate, hook_name, input_name
from .replay import DirectionWeights, Lengths, eval_mode, finish_cache

if TYPE_CHECKING:
    from .model import RecurrentModel


def fused_direction(cell: str, inp: Tensor, w: DirectionWeights) -> Tensor:
    """One direction of one layer from a zero state, read left to right: inp [batch, seq, in] → h [batch, seq, hidden].
    Steps past a sequence's end only ever feed later steps, so right padding leaves the real steps exact."""
    h0 = inp.new_zeros(1, inp.shape[0], w.w_hh.shape[1])  # [layers*dirs=1, batch, hidden]
    # Arguments after the weights: has_biases, num_layers, dropout, train, bidirectional, batch_first.
    if cell == "lstm":
        return torch.lstm(inp, (h0, h0), w.as_list(), True, 1, 0.0, False, False, True)[0]
    if cell == "gru":
        return torch.gru(inp, h0, w.as_list(), True, 1, 0.0, False, False, True)[0]
    return torch.rnn_tanh(inp, h0, w.as_list(), True, 1, 0.0, False, False, True)[0]


def gates_from_states(cell: str, inp: Tensor, h: Tensor, w: DirectionWeights, want: set[str]) -> dict[str, Tensor]:
    """The cell's quantities in ``want`` for every step, given its input and h sequence (both in reading order,
    [batch, seq, ·]): the same ``cells.py`` equations as one replay step, applied to all steps at once."""
    h_prev = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)  # [batch, seq, hidden]: h_{t-1}, h_{-1}=0
    xi = nn.functional.linear(inp, w.w_ih, w.b_ih)  # [batch, seq, gates*hidden]
    hh = recurrent(h_prev, w.w_hh, w.b_hh)  # [batch, seq, gates*hidden]
    out: dict[str, Tensor] = {}
    if cell == "lstm":
        i, f, g, o = lstm_gates(xi, hh)  # each [batch, seq, hidden]
        out = {"i": i, "f": f, "g": g, "o": o}
        if "c" in want:
            out["c"] = lstm_cell_states(i, f, g)
    elif cell == "gru":
        r, z, n = gru_gates(xi, hh)
        out = {"r": r, "z": z, "n": n}
    else:
        rnn_cell(xi, hh, lambda q, t: out.setdefault(q, t))  # records pre (and tanh(pre), replaced by h below)
    return out


def reversal_index(lengths: Tensor | None, batch: int, seq: int, device: torch.device) -> Tensor:
    """[batch, seq] index that reverses each sequence within its own length (padding stays at the end); it is
    its own inverse, so the same gather turns a backward reading back into time order."""
    t = torch.arange(seq, device=device).expand(batch, seq)  # [batch, seq]
    if lengths is None:
        return seq - 1 - t
    lens = lengths.to(device)[:, None]  # [batch, 1]
    return torch.where(t < lens, lens - 1 - t, t)


def _gather_steps(v: Tensor, index: Tensor) -> Tensor:
    return v.gather(1, index[..., None].expand_as(v))  # [batch, seq, units]


def cache_fast(
    model: RecurrentModel, x: Tensor, lengths: Lengths = None, *, keep: NamePredicate
) -> tuple[Tensor, dict[str, Tensor]]:
    """``run_with_cache`` without hooks or gradients (see its docstring): the same logits and cache as the step
    replay, to rounding (the parity tests hold them within 1e-5)."""
    with eval_mode(model), torch.inference_mode():
        logits, values, mask = _read(model, x, lengths, keep)
    return logits.clone(), finish_cache(values, {}, mask)


def _read(
    model: RecurrentModel, x: Tensor, lengths: Lengths, keep: NamePredicate
) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
    cfg = model.cfg
    x = x.to(model.head.weight.device)
    lens = model.lengths_of(x, lengths)
    bsz, seq = x.shape[0], x.shape[1]
    mask = None if lens is None else step_mask(lens, seq, x.device)  # [batch, seq]
    rev = reversal_index(lens, bsz, seq, x.device) if cfg.bidirectional else None  # [batch, seq]
    values: dict[str, Tensor] = {}
    layer_in = model._inputs(x)  # [batch, seq, in]
    if keep(input_name(cfg.token_input)):
        values[input_name(cfg.token_input)] = layer_in
    for layer in range(cfg.num_layers):
        outs = []
        for d, direction in enumerate(model.directions()):
            w = DirectionWeights.of(model.rnn, layer, reverse=d == 1)
            inp = layer_in if rev is None or d == 0 else _gather_steps(layer_in, rev)  # reading order
            h = fused_direction(cfg.cell, inp, w)  # [batch, seq, hidden], reading order
            names = {q: hook_name(layer, direction, q) for q in CELL_ACTIVATIONS[cfg.cell]}
            want = {q for q, n in names.items() if keep(n)}
            gates = gates_from_states(cfg.cell, inp, h, w, want) if want - {"h"} else {}
            found = {**gates, "h": h}  # h: the fused kernel's, which the next layer reads
            for q in (q for q in CELL_ACTIVATIONS[cfg.cell] if q in want):
                values[names[q]] = found[q] if rev is None or d == 0 else _gather_steps(found[q], rev)
            outs.append(h if rev is None or d == 0 else _gather_steps(h, rev))
        layer_in = torch.cat(outs, dim=-1) if len(outs) > 1 else outs[0]  # [batch, seq, dirs*hidden]
        if mask is not None:
            layer_in = layer_in * mask[..., None]  # padded steps read as zero state, as in the replay and fused paths
    per_step = model.head(layer_in)  # [batch, seq, output]
    if keep(LOGITS):
        values[LOGITS] = per_step
    logits = per_step if cfg.head == "every" else model.head(model._last(layer_in, lens))
    return logits, values, mask
