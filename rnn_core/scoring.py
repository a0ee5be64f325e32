"""Loss and metric of one batch for each task kind, and ``evaluate``: both over a whole split.

    classify  cross-entropy of the head on the last step vs the label        metric: accuracy
    tag       cross-entropy at every real step vs its tag (padding ignored)   metric: accuracy
    regress   mean squared error at every real step                           metric: mse after task.warmup steps
"""

from __future__ import annotations

import threading
import time

import torch
from torch import Tensor, nn

from .batching import batch_indices, make_batch, step_mask
from .tasks.base import IGNORE_INDEX, SeqData, Task


def double_softmax(model: nn.Module) -> bool:
    """Whether the model's config asks for the notes' double softmax (see loss_and_stats)."""
    return bool(getattr(getattr(model, "cfg", None), "double_softmax", False))


def loss_and_stats(
    kind: str, out: Tensor, y: Tensor, lengths: Tensor, warmup: int = 0, double_softmax: bool = False
) -> tuple[Tensor, float, float, int]:
    """(loss, metric sum, metric count, tokens) for one batch. The metric sum is correct predictions
    (classify, tag) or the squared error after warm-up (regress); dividing by its count gives the metric.

    ``double_softmax`` (ModelConfig.double_softmax, classification): the loss is CE(softmax(out), y) =
    −log softmax(softmax(out))_y — probabilities in 0..1 treated as logits, so the loss can never fall below
    −log(e / (e + 9)) ≈ 1.46 for 10 classes and its gradients shrink; the accuracy still reads argmax(out)."""
    tokens = int(lengths.sum())
    if kind == "classify":
        scores = torch.softmax(out, dim=-1) if double_softmax else out  # [batch, classes]
        loss = nn.functional.cross_entropy(scores, y)  # y [batch]
        with torch.no_grad():
            correct = float((out.argmax(-1) == y).sum())
        return loss, correct, float(y.shape[0]), tokens
    if kind == "tag":
        loss = nn.functional.cross_entropy(out.flatten(0, 1), y.flatten(), ignore_index=IGNORE_INDEX)
        with torch.no_grad():
            valid = y != IGNORE_INDEX  # [batch, t]
            correct = float(((out.argmax(-1) == y) & valid).sum())
        return loss, correct, float(valid.sum()), tokens
    # regress: out, y [batch, t, out]
    mask = step_mask(lengths, out.shape[1], out.device)  # [batch, t]
    sq = (out - y).pow(2).mean(-1)  # [batch, t]
    loss = (sq * mask).sum() / mask.sum().clamp(min=1)
    with torch.no_grad():
        m_mask = step_mask(lengths, out.shape[1], out.device, warmup)
        return loss, float((sq * m_mask).sum()), float(m_mask.sum()), tokens


@torch.no_grad()
def evaluate(
    model: nn.Module,
    task: Task,
    data: SeqData,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    stop_event: threading.Event | None = None,
) -> dict[str, float] | None:
    """Loss and metric over a whole split (eval mode, length-sorted batches). Keys: loss,
    accuracy or mse, n, seconds, tokens_per_s. Returns None when ``stop_event`` is set part-way
    (a large validation split must not hold up a Stop)."""
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    was = model.training
    model.eval()
    start = time.perf_counter()
    loss_sum = m_sum = m_count = 0.0
    tokens = 0
    try:
        for idx in batch_indices(data.lengths, batch_size, shuffle=False, bucket=True, generator=None):
            if stop_event is not None and stop_event.is_set():
                return None
            x, y, lengths = make_batch(data, idx, dev)
            out = model(x, lengths)
            loss, s, c, tok = loss_and_stats(task.kind, out, y, lengths, task.warmup, double_softmax(model))
            loss_sum += float(loss.detach()) * len(idx)
            m_sum, m_count, tokens = m_sum + s, m_count + c, tokens + tok
    finally:
        model.train(was)
    seconds = time.perf_counter() - start
    n = len(data)
    return {
        "loss": loss_sum / max(n, 1),
        task.metric: m_sum / max(m_count, 1),
        "n": n,
        "seconds": seconds,
        "tokens_per_s": tokens / max(seconds, 1e-9),
    }
