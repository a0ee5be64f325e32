"""The step-by-step replay: a RecurrentModel's own parameters run one time step at a time through ``cells.py``,
firing every hook point, so hooks can read or replace any gate and gradients reach every activation.

``run_with_hooks`` and ``run_with_cache`` with hooks attached or ``incl_grad=True`` come here; a plain
``run_with_cache`` takes the read-only fast path in ``fast_cache.py``, which this replay is held equal to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from .batching import step_mask
from .cells import CELL_ACTIVATIONS, gru_step, lstm_step, rnn_step
from .hooks import LOGITS, HookPoint, NamePredicate, grad_name, hook_name, input_name

if TYPE_CHECKING:
    from .model import RecurrentModel

Lengths = Tensor | Sequence[int] | None
# name → the tensors the computation used: one per step (per-step points) or one for the whole sequence.
Store = dict[str, list[Tensor] | Tensor]


@dataclass(frozen=True)
class DirectionWeights:
    """One direction of one layer of torch's fused module: ``weight_ih_l{k}[_reverse]`` and friends."""

    w_ih: Tensor  # [gates*hidden, in]
    w_hh: Tensor  # [gates*hidden, hidden]
    b_ih: Tensor  # [gates*hidden]
    b_hh: Tensor  # [gates*hidden]

    @classmethod
    def of(cls, rnn: nn.RNNBase, layer: int, reverse: bool) -> DirectionWeights:
        sfx = f"_l{layer}" + ("_reverse" if reverse else "")
        return cls(*(getattr(rnn, f"{kind}{sfx}") for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))

    def as_list(self) -> list[Tensor]:
        """The order torch's fused ops take them in."""
        return [self.w_ih, self.w_hh, self.b_ih, self.b_hh]


def finish_cache(values: Mapping[str, Tensor], grads: Mapping[str, Tensor], mask: Tensor | None) -> dict[str, Tensor]:
    """The cache handed to callers: each value (then its grad) [batch, seq, units], steps past each sequence's end
    zeroed, detached, on the CPU, and never an inference tensor (those refuse in-place edits and autograd)."""
    cache: dict[str, Tensor] = {}
    for n, v in values.items():  # DESIGN.md's order: each value, then its grad
        cache[n] = _masked(v, mask)
        if n in grads:
            cache[grad_name(n)] = _masked(grads[n], mask)
    return cache


def _masked(v: Tensor, mask: Tensor | None) -> Tensor:
    out = (v if mask is None else v * mask[..., None]).detach().cpu()
    return out.clone() if out.is_inference() else out


def run_direction(
    *,
    cell: str,
    xi_all: Tensor,
    weights: DirectionWeights,
    points: Mapping[str, HookPoint],
    record: frozenset[str],
    reverse: bool,
    mask: Tensor | None,
) -> tuple[Tensor, dict[str, list[Tensor]]]:
    """Loop one direction of one layer over time.

    ``xi_all`` [batch, seq, gates*hidden] is W_ih x + b_ih for every step; ``points`` maps each of the cell's
    quantities to its hook point; the quantities in ``record`` are returned per step in time order (unmasked, the
    very tensors the recurrence used, so gradients reach them). ``reverse`` reads from the last step back; ``mask``
    [batch, seq] marks real steps. Returns the h sequence [batch, seq, hidden] (zero at padded steps).
    """
    bsz, seq = xi_all.shape[0], xi_all.shape[1]
    active = {q for q, hp in points.items() if hp.hooks} | set(record)
    h = xi_all.new_zeros(bsz, weights.w_hh.shape[1])  # [batch, hidden]
    c = h if cell == "lstm" else None
    hs: list[Tensor] = [h] * seq
    kept: dict[str, list[Tensor]] = {q: [h] * seq for q in points if q in record}  # in the cell's order
    for t in range(seq - 1, -1, -1) if reverse else range(seq):

        def hook(q: str, value: Tensor, _t: int = t) -> Tensor:
            if q not in active:
                return value
            value = points[q](value, _t)
            if q in kept:
                kept[q][_t] = value
            return value

        h_new, c_new = _step(cell, xi_all[:, t], h, c, weights, hook)
        if mask is None:
            h, c = h_new, c_new
            hs[t] = h
        else:
            # Outside a sequence the state stays as it was: for the backward direction that keeps the zero initial
            # state until the sequence's last real step, as packed sequences do.
            m = mask[:, t : t + 1].bool()  # [batch, 1]
            h = torch.where(m, h_new, h)
            c = None if c is None or c_new is None else torch.where(m, c_new, c)
            hs[t] = h_new * m
    return torch.stack(hs, dim=1), kept  # [batch, seq, hidden]


def _step(
    cell: str, xi: Tensor, h: Tensor, c: Tensor | None, w: DirectionWeights, hook: Callable[[str, Tensor], Tensor]
) -> tuple[Tensor, Tensor | None]:
    if cell == "lstm":
        assert c is not None
        return lstm_step(xi, h, c, w.w_hh, w.b_hh, hook)
    if cell == "gru":
        return gru_step(xi, h, w.w_hh, w.b_hh, hook), None
    return rnn_step(xi, h, w.w_hh, w.b_hh, hook), None


def replay(model: RecurrentModel, x: Tensor, lengths: Lengths, *, keep: NamePredicate, store: Store | None) -> Tensor:
    """Run ``model`` (in whatever grad mode the caller set) step by step; fill ``store`` with the kept names.
    Returns logits as ``model.forward`` gives them."""
    cfg = model.cfg
    x = x.to(model.head.weight.device)
    lens = model.lengths_of(x, lengths)
    mask = None if lens is None else step_mask(lens, x.shape[1], x.device)  # [batch, seq]

    in_name = input_name(cfg.token_input)
    inp = model._inputs(x)  # [batch, seq, in]
    if torch.is_grad_enabled() and not inp.requires_grad:
        inp = inp.detach().requires_grad_()  # feature input: incl_grad needs d target / d input
    layer_in = model.hook_points[in_name](inp)  # [batch, seq, in]
    if store is not None and keep(in_name):
        store[in_name] = layer_in

    for layer in range(cfg.num_layers):
        outs = []
        for d, direction in enumerate(model.directions()):
            weights = DirectionWeights.of(model.rnn, layer, reverse=d == 1)
            names = {q: hook_name(layer, direction, q) for q in CELL_ACTIVATIONS[cfg.cell]}
            h_seq, kept = run_direction(
                cell=cfg.cell,
                xi_all=nn.functional.linear(layer_in, weights.w_ih, weights.b_ih),  # [batch, seq, gates*hidden]
                weights=weights,
                points={q: model.hook_points[n] for q, n in names.items()},
                record=frozenset(q for q, n in names.items() if store is not None and keep(n)),
                reverse=d == 1,
                mask=mask,
            )
            outs.append(h_seq)
            if store is not None:
                store.update({names[q]: vals for q, vals in kept.items()})
        layer_in = torch.cat(outs, dim=-1) if len(outs) > 1 else outs[0]  # [batch, seq, dirs*hidden]
        # Inter-layer dropout is off in eval mode, as in the fused path.

    per_step = model.hook_points[LOGITS](model.head(layer_in))  # [batch, seq, output]
    if store is not None and keep(LOGITS):
        store[LOGITS] = per_step
    if cfg.head == "every":
        return per_step  # padded steps hold head(0), as in the fused path
    return model.head(model._last(layer_in, lens))  # [batch, output]


def _gradients(store: Store, target: Tensor) -> dict[str, Tensor]:
    """d target / d each stored tensor, stacked like the values. A hook may have replaced an activation by a
    constant: it has no gradient (zero), and autograd refuses to differentiate with respect to it."""
    parts = {n: (v if isinstance(v, list) else [v]) for n, v in store.items()}
    wanted = [t for ts in parts.values() for t in ts if t.requires_grad]
    found = iter(torch.autograd.grad(target, wanted, allow_unused=True) if wanted else ())
    grads: dict[str, Tensor] = {}
    for n, ts in parts.items():
        gs = [next(found) if t.requires_grad else None for t in ts]
        full = [torch.zeros_like(t) if g is None else g for g, t in zip(gs, ts)]
        grads[n] = torch.stack(full, dim=1) if isinstance(store[n], list) else full[0]
    return grads


def cache_by_steps(
    model: RecurrentModel,
    x: Tensor,
    lengths: Lengths = None,
    *,
    keep: NamePredicate,
    incl_grad: bool = False,
    grad_target: Callable[[Tensor], Tensor] | None = None,
) -> tuple[Tensor, dict[str, Tensor]]:
    """``run_with_cache`` through the step replay (see its docstring): hooks fire, and with ``incl_grad`` the
    cache also holds each kept name's gradient. Without gradients it runs under inference mode (~15 % less
    per-op overhead, which dominates a step of a small batch)."""
    store: Store = {}
    with eval_mode(model), torch.inference_mode() if not incl_grad else torch.enable_grad():
        logits = replay(model, x, lengths, keep=keep, store=store)
        grads: dict[str, Tensor] = {}
        if incl_grad:
            grads = _gradients(store, grad_target(logits) if grad_target else logits.max(dim=-1).values.sum())
        values = {n: torch.stack(v, dim=1) if isinstance(v, list) else v for n, v in store.items()}
    # The store holds the very tensors the computation used (so gradients reach them); steps past each
    # sequence's end are zeroed only now, for values and gradients alike.
    lens = model.lengths_of(x, lengths)
    mask = None if lens is None else step_mask(lens, x.shape[1], logits.device)
    logits = logits.detach()
    return (logits.clone() if logits.is_inference() else logits), finish_cache(values, grads, mask)


def run_hooked(model: RecurrentModel, x: Tensor, lengths: Lengths = None) -> Tensor:
    """Logits of the step replay with whatever hooks are attached, without gradients."""
    with eval_mode(model), torch.no_grad():
        return replay(model, x, lengths, keep=lambda _n: False, store=None)


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Replay in eval mode (dropout off, as Keras replays), restoring the module's mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)
