"""Gradient flow through time: how large d loss / d h_t is at every step t of a batch, through the step replay's
own autograd graph. A norm that shrinks by orders of magnitude towards early steps is the vanishing gradient
(early inputs cannot be learned from); one that grows is the exploding gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from .. import replay
from ..hooks import grad_name, hook_name, make_filter
from ..model import RecurrentModel
from ..scoring import loss_and_stats


def loss_target(kind: str, y: Tensor, lengths: Tensor | None = None) -> Callable[[Tensor], Tensor]:
    """The training loss of a batch as a ``grad_target`` for ``run_with_cache``, summed over examples rather than
    averaged (loss = batch × the mean loss ``fit`` minimises), so each example's gradients are those of its own
    loss and do not shrink as the batch grows."""

    def target(logits: Tensor) -> Tensor:
        lens = lengths if lengths is not None else torch.full((logits.shape[0],), logits.shape[1], dtype=torch.long)
        loss = loss_and_stats(kind, logits, y.to(logits.device), lens)[0]
        return loss * logits.shape[0]

    return target


@dataclass(frozen=True)
class GradientFlow:
    """d loss / d h_t of one layer and direction over a batch.

    ``grads`` [batch, seq, units] is the gradient itself (zero past each sequence's end); ``lengths`` [batch].
    """

    name: str  # the hook point, e.g. ``layers.0.fwd.hook_h``
    grads: Tensor  # [batch, seq, units]
    lengths: Tensor  # [batch]

    def norms(self) -> Tensor:
        """‖d loss / d h_t‖₂ per example and step: [batch, seq]."""
        return self.grads.norm(dim=-1)

    def mean_norm(self) -> Tensor:
        """The per-step norm averaged over the examples that reach step t: [seq] (NaN where none does)."""
        seq = self.grads.shape[1]
        inside = (torch.arange(seq)[None, :] < self.lengths[:, None]).float()  # [batch, seq]
        return (self.norms() * inside).sum(0) / inside.sum(0)  # [seq]; 0/0 = NaN past every sequence

    def unit_magnitude(self) -> Tensor:
        """|d loss / d h_t| per step and unit, averaged over the batch: [seq, units] (the heatmap)."""
        return self.grads.abs().mean(0)

    def span(self) -> float:
        """How many orders of magnitude the mean norm falls from the last step back to the first (positive =
        vanishing towards the start, negative = growing): log10(norm at the last step / norm at step 0)."""
        m = self.mean_norm()
        first, last = float(m[0]), float(m[-1])
        tiny = 1e-30  # a gradient that underflowed to exactly 0 counts as 30 orders down
        return float(torch.log10(torch.tensor(max(last, tiny) / max(first, tiny))))


def gradient_flow(
    model: RecurrentModel,
    kind: str,
    x: Tensor,
    y: Tensor,
    lengths: Tensor | None = None,
    layer: int | None = None,
    direction: str = "fwd",
) -> GradientFlow:
    """d loss / d h_t for every step of a batch, where loss is the task's training loss (``kind``: classify, tag or
    regress; summed over the examples, see ``loss_target``). ``layer`` defaults to the last one, whose h the head
    reads. x [batch, seq, ...], y the batch's targets. Runs the step replay with gradients (eval mode)."""
    layer = model.cfg.num_layers - 1 if layer is None else layer
    if not 0 <= layer < model.cfg.num_layers:
        raise ValueError(f"layer must be from 0 to {model.cfg.num_layers - 1}, not {layer}")
    name = hook_name(layer, direction, "h")
    lens = model.lengths_of(x, lengths)
    full = torch.full((x.shape[0],), x.shape[1], dtype=torch.long) if lens is None else lens  # [batch]
    # What run_with_cache(incl_grad=True) runs, called directly so that a caller counting replays (the probe's
    # tests) sees this as the analysis it is rather than as another cache.
    _, cache = replay.cache_by_steps(model, x, lengths, keep=make_filter(name), incl_grad=True,
                                     grad_target=loss_target(kind, y, lens))
    return GradientFlow(name=name, grads=cache[grad_name(name)], lengths=full)
