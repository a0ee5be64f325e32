"""Connectivity: how strongly each input step influences the output at a chosen step, measured as the norm of the
gradient of that output with respect to each step's input vector (the one-hot / feature vector, or the word's
embedding), through the step replay. A network with long memory keeps early steps visibly connected.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .. import replay
from ..hooks import LOGITS, input_name
from ..model import RecurrentModel


@dataclass(frozen=True)
class Connectivity:
    """Influence of every input step on the output at ``step`` for each example of a batch."""

    step: int  # the output step
    target: int | None  # the class whose score was differentiated (None: each example's predicted class)
    grads: Tensor  # [batch, seq, input features]: d score / d input_t
    lengths: Tensor  # [batch]

    def norms(self) -> Tensor:
        """‖d score_step / d input_t‖₂ per example and input step: [batch, seq] (0 after ``step`` for a
        forward-only network, which cannot look ahead)."""
        return self.grads.norm(dim=-1)

    def shares(self) -> Tensor:
        """Each example's norms divided by their sum over steps: [batch, seq], rows summing to 1 (0/0 → 0)."""
        n = self.norms()
        return n / n.sum(dim=1, keepdim=True).clamp_min(1e-30)


def connectivity(
    model: RecurrentModel,
    x: Tensor,
    step: int | None = None,
    lengths: Tensor | None = None,
    target: int | None = None,
) -> Connectivity:
    """d score / d input_t for every input step t, where score is the head's output at ``step`` (default the last
    step): the logit of class ``target``, or (None) of the class predicted there — the value itself for
    regression (its largest output). x [batch, seq, ...]; works for any cell, stack and direction."""
    seq = x.shape[1]
    step = seq - 1 if step is None else step
    if not -seq <= step < seq:
        raise ValueError(f"step must be from 0 to {seq - 1}, not {step}")
    step %= seq
    name = input_name(model.cfg.token_input)
    store: replay.Store = {}
    with replay.eval_mode(model), torch.enable_grad():
        replay.replay(model, x, lengths, keep=lambda n: n in (name, LOGITS), store=store)
        inp, per_step = store[name], store[LOGITS]  # [batch, seq, in], [batch, seq, out]
        assert isinstance(inp, Tensor) and isinstance(per_step, Tensor)
        out = per_step[:, step]  # [batch, out]
        if target is None:
            score = out.max(dim=-1).values.sum()
        else:
            if not 0 <= target < out.shape[-1]:
                raise ValueError(f"target must be a class from 0 to {out.shape[-1] - 1}, not {target}")
            score = out[:, target].sum()
        (grads,) = torch.autograd.grad(score, inp)  # [batch, seq, in]
    lens = model.lengths_of(x, lengths)
    full = torch.full((x.shape[0],), seq, dtype=torch.long) if lens is None else lens
    return Connectivity(step=step, target=target, grads=grads.detach().cpu(), lengths=full)
