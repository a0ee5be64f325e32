"""The most-frequent-tag baseline for part-of-speech tagging: each word gets the tag it carried most often in
training (ties: the tag more frequent overall), a word seen only in another capitalisation gets that form's
tag, and a word training never saw gets the most frequent tag overall. "Seen" ignores case, as for the tagger,
so both split the test words into the same known and unknown sets.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from .ud import Sentence


def most_frequent_tags(train: Sequence[Sentence], lower: bool = False) -> tuple[dict[str, str], str]:
    """(word → its most frequent training tag, the most frequent tag overall); words lowercased when ``lower``."""
    overall: Counter[str] = Counter(t for s in train for t in s.tags)
    per_word: dict[str, Counter[str]] = defaultdict(Counter)
    for s in train:
        for w, t in zip(s.words, s.tags):
            per_word[w.lower() if lower else w][t] += 1
    rank = {t: i for i, (t, _) in enumerate(overall.most_common())}
    best = {w: min(c, key=lambda t: (-c[t], rank[t])) for w, c in per_word.items()}
    return best, overall.most_common(1)[0][0]


def baseline_scores(train: Sequence[Sentence], test: Sequence[Sentence]) -> dict[str, Any]:
    """Accuracy of the baseline on ``test`` over all words, words seen in training and unseen words:
    ``{"accuracy", "known_accuracy", "unknown_accuracy", "n", "n_unknown", "fallback_tag"}``."""
    best, fallback = most_frequent_tags(train)
    best_lower, _ = most_frequent_tags(train, lower=True)
    right = {True: 0, False: 0}
    total = {True: 0, False: 0}
    for s in test:
        for w, t in zip(s.words, s.tags):
            known = w.lower() in best_lower
            total[known] += 1
            right[known] += best.get(w, best_lower.get(w.lower(), fallback)) == t
    n = total[True] + total[False]
    return {
        "accuracy": (right[True] + right[False]) / max(n, 1),
        "known_accuracy": right[True] / max(total[True], 1),
        "unknown_accuracy": right[False] / max(total[False], 1),
        "n": n,
        "n_unknown": total[False],
        "fallback_tag": fallback,
    }
