"""How ``fit`` and ``evaluate`` cut a split into batches: shuffled, optionally bucketed by length so a batch
is padded only to its own longest member, each batch trimmed to that length."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from .tasks.base import SeqData


def batch_indices(
    lengths: Tensor,
    batch_size: int,
    shuffle: bool,
    bucket: bool,
    generator: torch.Generator | None,
    pool_batches: int = 50,
) -> list[Tensor]:
    """Split example indices into batches. With ``bucket``, examples of similar length go together
    (shuffle, sort within pools of ``pool_batches`` batches, shuffle the batches) so a batch is padded only
    to its own longest member — the order stays random from epoch to epoch while padding nearly vanishes.
    Smaller pools mix lengths more (batches closer to random ones) at the cost of more padding."""
    n = len(lengths)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    if bucket:
        pool = batch_size * pool_batches
        chunks = []
        for start in range(0, n, pool):
            part = order[start : start + pool]
            part = part[torch.argsort(lengths[part], descending=True, stable=True)]
            chunks.append(part)
        order = torch.cat(chunks) if chunks else order
    batches = list(order.split(batch_size))
    if bucket and shuffle and len(batches) > 1:
        perm = torch.randperm(len(batches), generator=generator).tolist()
        batches = [batches[i] for i in perm]
    return batches


def make_batch(data: SeqData, idx: Tensor, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """x, y, lengths for ``idx``, trimmed to the longest sequence in the batch."""
    lengths = data.lengths[idx]  # [batch]
    t = int(lengths.max())
    x = data.x[idx, :t]  # [batch, t] or [batch, t, features]
    y = data.y[idx]
    if y.dim() >= 2:
        y = y[:, :t]  # [batch, t] (tags) or [batch, t, out] (values)
    return x.to(device, non_blocking=True), y.to(device, non_blocking=True), lengths


def bucketing(bucket: bool, lengths: Tensor) -> bool:
    """Whether to bucket a split: only when asked and its lengths differ (equal lengths leave nothing to save)."""
    return bucket and bool((lengths != lengths.max()).any())


def iterate_batches(
    data: SeqData, batch_size: int, device: torch.device, seed: int = 0, bucket: bool = True, pool_batches: int = 50
) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
    """One shuffled epoch of (x, y, lengths) batches, exactly as ``fit``'s first epoch draws them for the same
    settings (used by the benchmark)."""
    gen = torch.Generator().manual_seed(seed)
    for idx in batch_indices(data.lengths, batch_size, True, bucketing(bucket, data.lengths), gen, pool_batches):
        yield make_batch(data, idx, device)


def step_mask(lengths: Tensor, t: int, device: torch.device, warmup: int = 0) -> Tensor:
    """[batch, t] bool: steps inside each sequence (and at or after ``warmup``); the one home of this rule for
    scoring, the replay and the fused path alike."""
    steps = torch.arange(t, device=device)[None, :]  # [1, t]
    return (steps < lengths.to(device)[:, None]) & (steps >= warmup)
