"""Hook points of the replay: their names (built here and nowhere else), the directions, the names filter,
and the ``with``-block context that attaches hooks and detaches exactly those hooks again (contexts nest).

A hook is ``fn(activation, hook_point) -> replacement | None``; the names are the contract in DESIGN.md:
``hook_embed`` / ``hook_input``, ``layers.{l}.{d}.hook_{q}`` per cell quantity, ``hook_logits``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

from torch import Tensor

HookFn = Callable[[Tensor, "HookPoint"], "Tensor | None"]
NamePredicate = Callable[[str], bool]
# What selects hook points: one name, several names, or a predicate over names (None = every name).
NamesFilter = str | Iterable[str] | NamePredicate | None

DIRECTIONS: tuple[str, str] = ("fwd", "bwd")  # torch's weight suffixes "" and "_reverse", in that order
EMBED = "hook_embed"  # token input: the embedding rows, [batch, seq, embed]
INPUT = "hook_input"  # feature input as the recurrence reads it, [batch, seq, features]
LOGITS = "hook_logits"  # the head applied at every step, [batch, seq, output]
GRAD_SUFFIX = "_grad"  # run_with_cache(incl_grad=True) stores d target / d activation under name + this


def directions(bidirectional: bool) -> tuple[str, ...]:
    """The directions a layer runs: ``("fwd",)`` or ``("fwd", "bwd")``."""
    return DIRECTIONS if bidirectional else DIRECTIONS[:1]


def input_name(token_input: bool) -> str:
    """The first hook point: ``hook_embed`` for token ids, ``hook_input`` for features."""
    return EMBED if token_input else INPUT


def hook_name(layer: int, direction: str, quantity: str, prefix: str = "") -> str:
    """``layers.{layer}.{direction}.hook_{quantity}``, e.g. ``layers.0.fwd.hook_h``; ``prefix`` names a second
    recurrence (``chars.`` → ``chars.layers.0.fwd.hook_h``)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")
    return f"{prefix}layers.{layer}.{direction}.hook_{quantity}"


def recurrent_names(
    quantities: Iterable[str], num_layers: int, bidirectional: bool, prefix: str = ""
) -> list[str]:
    """Every per-step name of a stack of layers: layer by layer, fwd before bwd, quantities in the given order."""
    qs = tuple(quantities)
    return [
        hook_name(layer, d, q, prefix) for layer in range(num_layers) for d in directions(bidirectional) for q in qs
    ]


def grad_name(name: str) -> str:
    return name + GRAD_SUFFIX


def make_filter(names_filter: NamesFilter) -> NamePredicate:
    """A predicate over names from None (all), a name, a collection of names, or a predicate."""
    if names_filter is None:
        return lambda _n: True
    if isinstance(names_filter, str):
        one = names_filter
        return lambda n: n == one
    if callable(names_filter):
        return names_filter
    wanted = set(names_filter)
    return lambda n: n in wanted


class HookPoint:
    """A named place in the replay. ``step`` is the time index while a per-step hook runs
    (None for whole-sequence points: hook_embed / hook_input / hook_logits).

    ``hooks`` and ``step`` belong to the thread that attaches and runs them: one loaded model serves every browser
    session (each script run is a thread of its own), and a hook one session attaches — a clamped gate — must never
    fire in another session's replay of the same model."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._local = threading.local()

    @property
    def hooks(self) -> list[HookFn]:
        """This thread's hooks, in the order they were attached."""
        try:
            return self._local.hooks
        except AttributeError:
            self._local.hooks = []
            return self._local.hooks

    @property
    def step(self) -> int | None:
        return getattr(self._local, "step", None)

    @step.setter
    def step(self, value: int | None) -> None:
        self._local.step = value

    def __repr__(self) -> str:
        return f"HookPoint({self.name!r})"

    def __deepcopy__(self, memo: dict) -> HookPoint:
        return HookPoint(self.name)  # a copy starts with no hooks (attached ones are a with-block's, not the model's)

    def __reduce__(self) -> tuple:
        return (HookPoint, (self.name,))

    def __call__(self, t: Tensor, step: int | None = None) -> Tensor:
        self.step = step
        for fn in self.hooks:
            out = fn(t, self)
            if out is not None:
                if out.shape != t.shape:
                    raise ValueError(
                        f"hook on {self.name} returned shape {tuple(out.shape)}, expected {tuple(t.shape)}"
                    )
                t = out
        return t


def _targets(points: Mapping[str, HookPoint], selector: str | NamePredicate) -> list[HookPoint]:
    if isinstance(selector, str):
        if selector not in points:
            raise KeyError(f"no hook point named {selector!r}; see model.activation_names()")
        return [points[selector]]
    found = [hp for name, hp in points.items() if selector(name)]
    if not found:
        raise KeyError(f"the predicate {selector!r} matches no hook point; see model.activation_names()")
    return found


@contextmanager
def attached(
    points: Mapping[str, HookPoint], fwd_hooks: Iterable[tuple[str | NamePredicate, HookFn]]
) -> Iterator[None]:
    """Attach each ``(name or predicate, fn)`` for the duration of a ``with`` block.

    On leaving — normally, by an exception, or because a later pair names no hook point — exactly the hooks
    this block attached are removed, so an enclosing block's hooks stay in place (contexts nest).
    """
    added: list[tuple[HookPoint, HookFn]] = []
    try:
        for selector, fn in fwd_hooks:
            for hp in _targets(points, selector):
                hp.hooks.append(fn)
                added.append((hp, fn))
        yield
    finally:
        for hp, fn in reversed(added):
            # The last occurrence is ours: hooks attached later by inner blocks are gone by now.
            for k in range(len(hp.hooks) - 1, -1, -1):
                if hp.hooks[k] is fn:
                    del hp.hooks[k]
                    break


def any_attached(points: Mapping[str, HookPoint]) -> bool:
    """Whether any hook is attached (then a cache must come from the step replay, where hooks fire)."""
    return any(hp.hooks for hp in points.values())
