"""What the Tagging page computes: a sentence's tags (confidence, runner-up, and the tags again with the
backward direction zeroed through a hook), the test set scored once per run, and random test sentences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st
import torch

from app.run_access import load_model
from rnn_core.tag_eval import backward_off, score_split
from rnn_core.tagger import word_char_cache
from rnn_core.tasks.pos import MAX_WORDS, as_pos_task


@dataclass
class Tagged:
    """One sentence tagged. Lists run over its words; ``off`` holds the tags with the backward direction
    zeroed (None for a one-way model); ``cache`` is the replay of every activation (both networks)."""

    words: list[str]
    tags: list[str]
    confidence: list[float]
    runner_up: list[str]
    runner_up_p: list[float]
    seen: list[bool]
    cut: int
    off: list[str] | None
    cache: dict[str, torch.Tensor]
    n_chars: list[int]

    @property
    def changed(self) -> list[int]:
        """Positions whose tag changes when the backward direction is off."""
        return [] if self.off is None else [i for i, (a, b) in enumerate(zip(self.tags, self.off)) if a != b]


@torch.no_grad()
def tag_words(run: Any, words: list[str] | None = None, text: str | None = None) -> Tagged:
    """Tag ``words`` (kept exactly, e.g. a test sentence's) or ``text`` (tokenized EWT-style and cut at
    MAX_WORDS). The replay (``run_with_cache``) gives the tags and every activation; a second replay with
    the backward direction zeroed gives ``off``."""
    task, model = run.task, run.model
    if words is not None:
        x, words = task.encode(words[:MAX_WORDS])
        cut, seen = max(0, len(words) - MAX_WORDS), [task.vocab_obj().seen(w) for w in words]
    else:
        enc = task.encode_text(text or "")
        x, words, cut, seen = enc.x, enc.words, enc.cut, enc.known
    if not words:
        return Tagged([], [], [], [], [], [], cut, None, {}, [])
    logits, cache = model.run_with_cache(x)
    decoded = task.decode(logits[0])
    hooks = backward_off(model)
    off = None
    if hooks:
        off = [d["tag"] for d in task.decode(model.run_with_hooks(x, fwd_hooks=hooks)[0])]
    n_chars = (x[0, :, 1:] != 0).sum(dim=1).tolist()
    return Tagged(words, [d["tag"] for d in decoded], [d["confidence"] for d in decoded],
                  [d["runner_up"] for d in decoded], [d["runner_up_p"] for d in decoded], seen, cut, off, cache,
                  n_chars)


@st.cache_resource(max_entries=16, show_spinner=False)
def tag_cached(path: str, stamp: str, text: str, words: tuple[str, ...] | None = None) -> Tagged:
    run = load_model(path, stamp)
    return tag_words(run, list(words) if words is not None else None, text)


def char_views(t: Tagged, i: int) -> dict[str, torch.Tensor]:
    """The character network's cache for word ``i`` of a tagged sentence (names without ``chars.``)."""
    return word_char_cache(t.cache, i, int(t.n_chars[i]))


@st.cache_data(max_entries=4, show_spinner="Tagging the 2,077 test sentences (once per model)…")
def test_report(path: str, stamp: str) -> dict[str, Any]:
    """Test-set scores of a run, with the backward direction on and off: accuracy over all / seen / unseen
    words, the confusion matrix, and how many words change their tag when the backward half is zeroed."""
    run = load_model(path, stamp)
    data = as_pos_task(run.task).load_split("test")
    labels = run.task.labels
    on = score_split(run.model, data, labels)
    report: dict[str, Any] = {"labels": labels, "on": on.summary(), "confusion": on.confusion()}
    hooks = backward_off(run.model)
    if hooks:
        off = score_split(run.model, data, labels, hooks)
        report["off"] = off.summary()
        report["changed"] = int((off.pred != on.pred).sum())
    return report


@st.cache_data(max_entries=2, show_spinner=False)
def test_sentences(path: str, stamp: str) -> list[dict[str, Any]]:
    """The test sentences (words and gold tags) a "random sentence" is drawn from."""
    run = load_model(path, stamp)
    sentences = as_pos_task(run.task).read("test")
    return [{"words": list(s.words), "tags": list(s.tags), "sent_id": s.sent_id} for s in sentences]


def random_sentence(sentences: list[dict[str, Any]], rng: np.random.Generator, max_words: int = 30) -> dict:
    """A random test sentence of 4 to ``max_words`` words (short enough to read at a glance)."""
    pool = [s for s in sentences if 4 <= len(s["words"]) <= max_words] or sentences
    return pool[int(rng.integers(len(pool)))]
