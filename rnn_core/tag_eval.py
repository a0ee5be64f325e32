"""Scoring a tagger word by word: predictions over a whole split (optionally with hooks, e.g. the backward
direction switched off), accuracy over all / seen / unseen words, and the confusion matrix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .model import HookFn
from .tasks.base import IGNORE_INDEX, SeqData


def zero_hook(t: Tensor, _hook: Any) -> Tensor:
    """A hook that replaces an activation by zeros."""
    return torch.zeros_like(t)


def backward_off(model: Any) -> list[tuple[str, HookFn]]:
    """Hooks that zero the backward direction's hidden state of every word-level layer: the tags are then
    read from the forward half alone (and layers above see no backward input). Empty for a one-way model."""
    if "bwd" not in model.directions():
        return []
    return [(f"layers.{layer}.bwd.hook_h", zero_hook) for layer in range(model.cfg.num_layers)]


@dataclass
class TagScores:
    """Per word of a split (real words only, sentence by sentence): predicted and gold tag ids, whether
    training saw the word, and which sentence it is in."""

    pred: np.ndarray  # [words] int
    gold: np.ndarray  # [words] int
    seen: np.ndarray  # [words] bool
    sentence: np.ndarray  # [words] int: index of the word's sentence in the split
    labels: list[str]

    def _acc(self, mask: np.ndarray) -> float:
        return float((self.pred[mask] == self.gold[mask]).mean()) if mask.any() else float("nan")

    @property
    def accuracy(self) -> float:
        return self._acc(np.ones_like(self.seen))

    @property
    def known_accuracy(self) -> float:
        return self._acc(self.seen)

    @property
    def unknown_accuracy(self) -> float:
        return self._acc(~self.seen)

    def confusion(self) -> np.ndarray:
        """[tags, tags] word counts: row = gold tag, column = predicted tag."""
        k = len(self.labels)
        return np.bincount(self.gold * k + self.pred, minlength=k * k).reshape(k, k)

    def summary(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "known_accuracy": self.known_accuracy,
                "unknown_accuracy": self.unknown_accuracy, "n": len(self.gold),
                "n_unknown": int((~self.seen).sum())}


@torch.no_grad()
def split_logits(model: Any, data: SeqData, fwd_hooks: Sequence[tuple[str, HookFn]] = (),
                 batch_size: int = 128) -> list[Tensor]:
    """Tag logits of every sentence of ``data`` ([its length, tags] each, in the split's order). Without hooks the
    fused path runs; with hooks the step replay (``run_with_hooks``), which is what lets an activation be edited."""
    model.eval()
    order = torch.argsort(data.lengths, descending=True)  # similar lengths together: little padding
    out: list[Tensor | None] = [None] * len(data)
    for idx in order.split(batch_size):
        lengths = data.lengths[idx]
        x = data.x[idx, : int(lengths.max())].long()  # [batch, seq, ...]
        logits = model.run_with_hooks(x, lengths, fwd_hooks=fwd_hooks) if fwd_hooks else model(x, lengths)
        for row, i in enumerate(idx.tolist()):
            out[i] = logits[row, : int(lengths[row])].cpu()
    return [t for t in out if t is not None]


def score_split(model: Any, data: SeqData, labels: list[str], fwd_hooks: Iterable[tuple[str, HookFn]] = (),
                batch_size: int = 128) -> TagScores:
    """Tag every sentence of ``data`` and compare with its gold tags. ``data.meta["seen"]`` (per word: did
    training show it) splits known from unknown words; without it every word counts as known."""
    logits = split_logits(model, data, list(fwd_hooks), batch_size)
    pred = np.concatenate([t.argmax(-1).numpy() for t in logits]) if logits else np.zeros(0, dtype=np.int64)
    gold = np.concatenate([data.y[i, : len(t)].numpy() for i, t in enumerate(logits)]) if logits else pred
    seen_meta = data.meta.get("seen")
    seen = (np.concatenate([np.asarray(s, dtype=bool) for s in seen_meta]) if seen_meta
            else np.ones(len(gold), dtype=bool))
    sentence = np.concatenate([np.full(len(t), i) for i, t in enumerate(logits)]) if logits else pred
    assert not (gold == IGNORE_INDEX).any(), "a real word carries the padding tag"
    return TagScores(pred.astype(np.int64), gold.astype(np.int64), seen, sentence.astype(np.int64), list(labels))


def report(run_name: str, data_dir: str | None = None) -> dict[str, Any]:
    """Test-set figures of a saved tagging run: accuracy (all / seen / unseen words) with the backward direction
    on and zeroed, and the most-frequent-tag baseline on the same words."""
    from .pos_baseline import baseline_scores
    from .runs import load_run
    from .tasks.pos import as_pos_task

    run = load_run(run_name)
    task = as_pos_task(run.task)
    data = task.load_split("test", data_dir)
    on = score_split(run.model, data, run.task.labels)
    out: dict[str, Any] = {"run": str(run.path), "test": on.summary()}
    hooks = backward_off(run.model)
    if hooks:
        off = score_split(run.model, data, run.task.labels, hooks)
        out["test_backward_zeroed"] = {**off.summary(), "changed": int((off.pred != on.pred).sum())}
    out["baseline"] = baseline_scores(task.read("train", data_dir), task.read("test", data_dir))
    return out


if __name__ == "__main__":  # python -m rnn_core.tag_eval RUN [DATA_DIR]
    import json
    import sys

    print(json.dumps(report(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)))
