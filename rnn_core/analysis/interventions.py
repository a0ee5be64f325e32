"""Interventions through ``run_with_hooks``' hook points: clamp a gate to a value, silence a unit of h, or reset the
state at a step — and the same input replayed with and without them, so the effect on every later state and on the
prediction can be read off as a difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..cells import CELL_ACTIVATIONS
from ..hooks import HookFn, HookPoint, hook_name
from ..model import RecurrentModel

KINDS = ("clamp", "zero_unit", "reset")


@dataclass(frozen=True)
class Intervention:
    """One change to the recurrence of layer ``layer`` / ``direction``.

    clamp      quantity ``gate`` (e.g. "f", "i", "z") := ``value`` at every step ≥ ``step`` (``unit`` None = all units)
    zero_unit  h[unit] := 0 at every step ≥ ``step`` (the zero flows on into the next steps)
    reset      h (and an LSTM's c) := 0 at step ``step``: the steps after start from a blank state
    """

    kind: str
    step: int = 0
    gate: str = "f"
    value: float = 1.0
    unit: int | None = None
    layer: int = 0
    direction: str = "fwd"

    def describe(self) -> str:
        where = "" if self.layer == 0 and self.direction == "fwd" else f" (layer {self.layer} {self.direction})"
        if self.kind == "clamp":
            units = "every unit" if self.unit is None else f"unit {self.unit}"
            return f"{self.gate} := {self.value:g} for {units} from step {self.step}{where}"
        if self.kind == "zero_unit":
            return f"h[{self.unit}] := 0 from step {self.step}{where}"
        return f"state reset to 0 at step {self.step}{where}"


def _check(model: RecurrentModel, iv: Intervention) -> None:
    cfg = model.cfg
    if iv.kind not in KINDS:
        raise ValueError(f"intervention kind must be one of {', '.join(KINDS)}, not {iv.kind!r}")
    if not 0 <= iv.layer < cfg.num_layers or iv.direction not in model.directions():
        raise ValueError(f"no layer {iv.layer} direction {iv.direction!r} in this {cfg.num_layers}-layer model")
    if iv.kind == "clamp" and iv.gate not in CELL_ACTIVATIONS[cfg.cell]:
        raise ValueError(f"a {cfg.cell.upper()} has no quantity {iv.gate!r}; it has "
                         f"{', '.join(CELL_ACTIVATIONS[cfg.cell])}")
    if (iv.kind == "zero_unit" or iv.unit is not None) and not (
        iv.unit is not None and 0 <= iv.unit < cfg.hidden_size
    ):
        raise ValueError(f"unit must be from 0 to {cfg.hidden_size - 1}, not {iv.unit!r}")
    if iv.step < 0:
        raise ValueError(f"step must be 0 or later, not {iv.step}")


def _setter(units: int | None, value: float, first: int, only: bool = False) -> HookFn:
    """A hook writing ``value`` into ``units`` (None = all) at steps ≥ ``first`` (== ``first`` when ``only``)."""

    def fn(t: Tensor, hp: HookPoint) -> Tensor | None:
        step = hp.step if hp.step is not None else -1
        if step < first or (only and step != first):
            return None
        out = t.clone()  # [batch, units]
        if units is None:
            out.fill_(value)
        else:
            out[:, units] = value
        return out

    return fn


def hooks_for(model: RecurrentModel, interventions: Sequence[Intervention]) -> list[tuple[str, HookFn]]:
    """The ``(hook name, fn)`` pairs that carry out ``interventions`` (ValueError for an impossible one)."""
    pairs: list[tuple[str, HookFn]] = []
    for iv in interventions:
        _check(model, iv)
        def name(q: str, iv: Intervention = iv) -> str:
            return hook_name(iv.layer, iv.direction, q)
        if iv.kind == "clamp":
            pairs.append((name(iv.gate), _setter(iv.unit, iv.value, iv.step)))
        elif iv.kind == "zero_unit":
            pairs.append((name("h"), _setter(iv.unit, 0.0, iv.step)))
        else:
            states = ("h", "c") if model.cfg.cell == "lstm" else ("h",)
            pairs += [(name(q), _setter(None, 0.0, iv.step, only=True)) for q in states]
    return pairs


@dataclass(frozen=True)
class Comparison:
    """The same input replayed as is (``base``) and with the interventions (``changed``): logits as ``forward``
    gives them, and a cache each (name → [batch, seq, units])."""

    base_logits: Tensor
    logits: Tensor
    base: dict[str, Tensor]
    changed: dict[str, Tensor]

    def diff(self, name: str) -> Tensor:
        """changed − base for one activation: [batch, seq, units]."""
        return self.changed[name] - self.base[name]


@torch.no_grad()
def compare(model: RecurrentModel, x: Tensor, interventions: Sequence[Intervention],
            lengths: Tensor | None = None) -> Comparison:
    """Replay ``x`` without and with ``interventions`` (both through the step replay, so the two differ by the
    interventions alone)."""
    pairs = hooks_for(model, interventions)
    with model.hooks([(lambda _n: True, lambda _t, _hp: None)]):  # a no-op hook: the base run also steps
        base_logits, base = model.run_with_cache(x, lengths)
        with model.hooks(pairs):
            logits, changed = model.run_with_cache(x, lengths)
    return Comparison(base_logits=base_logits, logits=logits, base=base, changed=changed)
