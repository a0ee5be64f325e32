"""Inference on one input: the prediction, and what the model would say at every step.

The prefix rule lives here and only here: for a sequence classifier (head="last"), step t's prediction is
what the model would say if the input ended at step t. For a unidirectional model that is exactly the head
applied to h_t (``hook_logits``). A bidirectional model's backward half has read the whole input at every step,
so there each prefix is run as its own sequence (one padded batch of all prefixes) — exact, and slower.
A per-step model (head="every": tagging, regression) already answers each step with ``hook_logits``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .hooks import LOGITS, NamesFilter, make_filter
from .model import RecurrentModel
from .tasks.base import Task


def _probs(logits: Tensor, labels: list[str]) -> dict[str, float]:
    p = torch.softmax(logits.float(), dim=-1)  # [classes]
    return {lab: float(v) for lab, v in zip(labels, p.tolist())}


@torch.no_grad()
def prefix_logits(model: RecurrentModel, x: Tensor) -> Tensor:
    """Head output for every prefix of a single sequence x [1, seq, ...] → [seq, output]."""
    seq = x.shape[1]
    batch = x.expand(seq, *x.shape[1:]).clone()  # [seq, seq, ...]: row t is the whole input
    lengths = torch.arange(1, seq + 1)  # [seq]: row t ends after step t
    if model.cfg.token_input:
        mask = torch.arange(seq)[None, :] >= lengths[:, None]  # [seq, seq]
        batch[mask] = model.cfg.padding_idx
    return model(batch, lengths)  # [seq, output]


def needs_prefix_replays(model: RecurrentModel) -> bool:
    """Whether per-step predictions need a replay per prefix (a bidirectional sequence classifier)."""
    return model.cfg.bidirectional and model.cfg.head == "last"


def per_step_logits(model: RecurrentModel, x: Tensor, cache: dict[str, Tensor]) -> Tensor:
    """What the model says at each step of x [1, seq, ...] → [seq, output], by the prefix rule above; ``cache``
    is x's ``run_with_cache`` cache with ``hook_logits`` in it."""
    if needs_prefix_replays(model):
        return prefix_logits(model, x)  # [seq, classes]: the backward half must not see past step t
    return cache[LOGITS][0]  # [seq, output]


def trace(model: RecurrentModel, x: Tensor, names_filter: NamesFilter = None) -> tuple[Tensor, dict[str, Tensor]]:
    """Replay one input x [1, seq, ...]: ``(per_step, cache)`` — the per-step logits [seq, output] by the prefix
    rule, and ``run_with_cache``'s cache of the names passing ``names_filter`` (None = all; hook_logits is always
    kept). The one way the app replays an input it shows."""
    keep = make_filter(names_filter)
    _, cache = model.run_with_cache(x, names_filter=lambda n: n == LOGITS or keep(n))
    return per_step_logits(model, x, cache), cache


@torch.no_grad()
def predict(model: RecurrentModel, task: Task, user_input: Any) -> dict[str, Any]:
    """Encode ``user_input`` with the task, run the model, and describe the result.

    Returns ``{"prediction", "per_step", "steps"}`` and, for classifiers, ``"probabilities"``
    (label → probability). ``per_step`` has one entry per input step: the regression value, the
    label probabilities, or for tagging each token's tag and probabilities. ``steps`` are the step
    labels (letters, words, indices).
    """
    model.eval()
    x, steps = task.encode(user_input)
    logits, cache = model.run_with_cache(x, names_filter=LOGITS)
    per = cache[LOGITS][0]  # [seq, output]
    if task.kind == "regress":
        values = per[:, 0].tolist()
        return {"prediction": values, "per_step": values, "steps": steps}
    labels = task.labels
    if task.kind == "tag":
        tags = [
            {"token": s, "tag": labels[int(v.argmax())], "probabilities": _probs(v, labels)} for s, v in zip(steps, per)
        ]
        return {"prediction": [t["tag"] for t in tags], "per_step": tags, "steps": steps}
    per = per_step_logits(model, x, cache)  # [seq, classes]
    probabilities = _probs(logits[0], labels)
    return {
        "prediction": max(probabilities, key=lambda label: probabilities[label]),
        "probabilities": probabilities,
        "per_step": [_probs(v, labels) for v in per],
        "steps": steps,
    }
