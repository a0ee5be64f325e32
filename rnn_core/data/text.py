"""Word tokenizer and frequency vocabulary with the meaning Keras gives them for IMDB:
lowercase, drop punctuation, split on whitespace; ids 0 = padding, 1 = start, 2 = out-of-vocabulary,
words from ``index_from + 1`` by frequency, and only ids below ``num_words`` kept.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# Keras's Tokenizer / text_to_word_sequence default filters (the apostrophe is kept: "don't" is one word).
KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
PAD, START, OOV, UNUSED = 0, 1, 2, 3  # keras.datasets.imdb: padding, start_char, oov_char, (3 never used)
MAX_TEXT_CHARS = 1_000_000  # longer text is refused: tokenizing it would stall a page or the CLI
INDEX_FROM = 3  # keras.datasets.imdb index_from: the most frequent word gets id 1 + 3 = 4
SPECIAL_TOKENS = {PAD: "<pad>", START: "<start>", OOV: "<oov>", UNUSED: "<unused>"}
_BR = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)  # IMDB reviews mark line breaks with <br />


@dataclass(frozen=True)
class Tokenizer:
    """Keras's ``text_to_word_sequence``: lowercase, map every filter character to a space, split.

    Differences, on purpose: HTML line breaks (``<br />``) are removed first, so "br" never becomes a word,
    and splitting is on any whitespace (Keras splits on " " only, after turning tabs and newlines into spaces).
    """

    lower: bool = True
    filters: str = KERAS_FILTERS
    strip_html_breaks: bool = True
    _table: dict[int, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_table", str.maketrans({c: " " for c in self.filters}))

    def __call__(self, text: str) -> list[str]:
        if self.strip_html_breaks:
            text = _BR.sub(" ", text)
        if self.lower:
            text = text.lower()
        return text.translate(self._table).split()

    def to_dict(self) -> dict[str, Any]:
        return {"lower": self.lower, "filters": self.filters, "strip_html_breaks": self.strip_html_breaks}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Tokenizer":
        return cls(bool(data.get("lower", True)), str(data.get("filters", KERAS_FILTERS)),
                   bool(data.get("strip_html_breaks", True)))


def rank_words(token_lists: Iterable[Sequence[str]]) -> tuple[list[str], list[int]]:
    """All distinct words, most frequent first, and their counts. Ties go to the alphabetically first word,
    so the ranking does not depend on the order the texts were read in (Keras keeps first-seen order)."""
    counts: Counter[str] = Counter()
    for tokens in token_lists:
        counts.update(tokens)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [w for w, _ in ranked], [c for _, c in ranked]


class EncodedText(NamedTuple):
    """A text as model input. ``ids`` starts with the start id; ``tokens[i]`` is the word behind ``ids[i]``
    ("<start>" for the start id, the original word for an out-of-vocabulary one); ``oov[i]`` marks words the
    vocabulary does not know; ``cut`` counts the positions removed to fit ``maxlen`` (0 when nothing was cut)."""

    ids: list[int]
    tokens: list[str]
    oov: list[bool]
    cut: int


@dataclass
class Vocab:
    """Word ↔ id mapping, as ``keras.datasets.imdb.load_data(num_words=N)`` numbers words.

    ``words[r]`` is the word of frequency rank ``r + 1`` and gets id ``r + 1 + index_from``; only ids below
    ``num_words`` are kept (so ``num_words - index_from - 1`` words), everything else maps to the OOV id 2.
    ``num_words`` is also the embedding's row count.
    """

    words: list[str]
    num_words: int
    index_from: int = INDEX_FROM
    tokenizer: Tokenizer = field(default_factory=Tokenizer)
    counts: list[int] = field(default_factory=list)

    def __post_init__(self):
        if not isinstance(self.num_words, int) or self.num_words < self.index_from + 2:
            raise ValueError(f"num_words must be a whole number of at least {self.index_from + 2} "
                             f"(ids below {self.index_from + 1} are reserved), not {self.num_words!r}")
        keep = self.num_words - self.index_from - 1
        self.words = list(self.words[:keep])
        self.counts = list(self.counts[:keep])
        self._ids = {w: i + 1 + self.index_from for i, w in enumerate(self.words)}

    @property
    def size(self) -> int:
        """Embedding rows needed: every id is below this."""
        return self.num_words

    def id_of(self, word: str) -> int:
        """The id of ``word`` (the OOV id when the vocabulary doesn't know it)."""
        return self._ids.get(word, OOV)

    def token_of(self, idx: int) -> str:
        """The word behind an id; reserved ids read "<pad>", "<start>", "<oov>", "<unused>"."""
        if idx in SPECIAL_TOKENS:
            return SPECIAL_TOKENS[idx]
        r = idx - self.index_from - 1
        return self.words[r] if 0 <= r < len(self.words) else SPECIAL_TOKENS[OOV]

    def encode_tokens(self, tokens: Sequence[str]) -> list[int]:
        """Ids for tokens, without the start id."""
        get = self._ids.get
        return [get(t, OOV) for t in tokens]

    def encode_text(self, text: str, maxlen: int | None = None, truncating: str = "pre") -> EncodedText:
        """Tokenize ``text``, prepend the start id and, when longer than ``maxlen``, cut as training did
        (``truncating="pre"`` keeps the last ``maxlen`` positions, which drops the start id too).
        Empty or punctuation-only text gives just the start id; emoji and non-English words stay tokens
        (out of vocabulary unless training saw them)."""
        if not isinstance(text, str):
            raise ValueError(f"a review must be text, not {type(text).__name__}")
        if len(text) > MAX_TEXT_CHARS:
            raise ValueError(f"this text has {len(text):,} characters; give at most {MAX_TEXT_CHARS:,} (a long review "
                             "is about 10,000)")
        words = self.tokenizer(text)
        ids = [START, *self.encode_tokens(words)]
        tokens = [SPECIAL_TOKENS[START], *words]
        oov = [False, *(i == OOV for i in ids[1:])]
        cut = 0
        if maxlen is not None and len(ids) > maxlen:
            cut = len(ids) - maxlen
            keep = _keep_slice(len(ids), maxlen, truncating)
            ids, tokens, oov = ids[keep], tokens[keep], oov[keep]
        return EncodedText(ids, tokens, oov, cut)

    def decode(self, ids: Iterable[int], skip_padding: bool = True) -> list[str]:
        return [self.token_of(int(i)) for i in ids if not (skip_padding and int(i) == PAD)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form stored with a run (vocab.json)."""
        return {
            "format": "keras-imdb-vocab",
            "version": 1,
            "num_words": self.num_words,
            "index_from": self.index_from,
            "special": {str(k): v for k, v in SPECIAL_TOKENS.items()},
            "tokenizer": self.tokenizer.to_dict(),
            "words": list(self.words),
            "counts": list(self.counts),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Vocab":
        if not isinstance(data, dict) or data.get("format") != "keras-imdb-vocab":
            raise ValueError("this is not a saved word vocabulary (expected format 'keras-imdb-vocab'); "
                             "train the IMDB task or load a run that was trained on it")
        words = data.get("words")
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValueError("the saved vocabulary's 'words' must be a list of strings")
        return cls(words, int(data["num_words"]), int(data.get("index_from", INDEX_FROM)),
                   Tokenizer.from_dict(data.get("tokenizer", {})), [int(c) for c in data.get("counts", [])])


def _check_side(name: str, value: str) -> None:
    if value not in ("pre", "post"):
        raise ValueError(f"{name} must be 'pre' or 'post', not {value!r}")


def _keep_slice(n: int, maxlen: int, truncating: str) -> slice:
    """Positions kept when a sequence of ``n`` is cut to ``maxlen``: the last ones ("pre") or the first ("post")."""
    _check_side("truncating", truncating)
    if n <= maxlen:
        return slice(0, n)
    return slice(n - maxlen, n) if truncating == "pre" else slice(0, maxlen)
