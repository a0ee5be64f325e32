"""Inference on one person's input: the prediction, and what the model would say at every step.

For a sequence classifier, ``per_step[t]`` is the prediction the model would make if the input ended
at step t. For a unidirectional model that is exactly the head applied to h_t (``hook_logits``). A
bidirectional model reads the whole input backwards too, so there each prefix is run as its own
sequence (one padded batch of all prefixes) — exact, and slower.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

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


@torch.no_grad()
def step_logits(model: RecurrentModel, x: Tensor, cache: dict[str, Tensor] | None = None) -> Tensor:
    """What the head says at every step of one input x [1, seq, ...] → [seq, output].

    For a sequence classifier that is the prediction if the input ended at step t: the head on h_t
    (``hook_logits``, taken from ``cache`` when given) — except for a bidirectional model with a
    last-step head, whose backward half has read the whole input at every step; there each prefix is
    run as its own sequence (``prefix_logits``). This is the one home of that rule.
    """
    if model.cfg.bidirectional and model.cfg.head == "last":
        return prefix_logits(model, x)  # [seq, output]
    if cache is None or "hook_logits" not in cache:
        _, cache = model.run_with_cache(x, names_filter="hook_logits")
    return cache["hook_logits"][0]  # [seq, output]


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
    logits, cache = model.run_with_cache(x, names_filter="hook_logits")
    per = step_logits(model, x, cache)  # [seq, output]
    if task.kind == "regress":
        values = per[:, 0].tolist()
        return {"prediction": values, "per_step": values, "steps": steps}
    labels = task.labels
    if task.kind == "tag":
        tags = [
            {"token": s, "tag": labels[int(v.argmax())], "probabilities": _probs(v, labels)} for s, v in zip(steps, per)
        ]
        return {"prediction": [t["tag"] for t in tags], "per_step": tags, "steps": steps}
    probabilities = _probs(logits[0], labels)
    return {
        "prediction": max(probabilities, key=probabilities.get),
        "probabilities": probabilities,
        "per_step": [_probs(v, labels) for v in per],
        "steps": steps,
    }
