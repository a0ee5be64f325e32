"""Part-of-speech tagging on UD English-EWT: a sentence's words in, one of the 17 UPOS tags per word out.

Each step's input is a word as its id (lowercased, frequent training words only; the rest read as unknown)
and its characters, which the tagger (rnn_core/tagger.py) reads with a character-level network — so "-ly"
can suggest an adverb even for a word training never showed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from ..config import ModelConfig
from ..data import cache_dir
from ..tagger import PAD, UNK
from ..ud import UPOS_TAGS, Sentence, ensure_ewt, load_sentences, tokenize
from .base import IGNORE_INDEX, Preset, SeqData, Splits, Task

MAX_CHARS = 20  # characters read per word: a longer word keeps its first HEAD_CHARS and its last ones
HEAD_CHARS = 6  # prefix kept of a long word (capitals, "http"); the rest of MAX_CHARS goes to its ending
MAX_WORDS = 60  # longer training sentences are split into pieces; typed text is cut here (with a notice)
DEFAULT_OPTIONS: dict[str, Any] = {"min_count": 2, "download": True}


def word_key(word: str) -> str:
    """What the word embedding is keyed by: the lowercased word (case stays visible to the characters)."""
    return word.lower()


def clip_chars(word: str) -> str:
    """The characters the model reads of ``word``: all of them, or for a long word (URLs) its start and end."""
    if len(word) <= MAX_CHARS:
        return word
    return word[:HEAD_CHARS] + word[-(MAX_CHARS - HEAD_CHARS):]


@dataclass
class PosVocab:
    """Word ids (lowercased training words seen ``min_count`` times) and character ids; 0 pads, 1 is unknown.
    ``rare`` keeps the other training words: they share the unknown id, but they were seen in training, which
    is what "known word" means in the accuracy figures (as for the most-frequent-tag baseline)."""

    words: list[str]
    chars: list[str]
    rare: list[str] = field(default_factory=list)

    def __post_init__(self):
        self._word_ids = {w: i + 2 for i, w in enumerate(self.words)}
        self._char_ids = {c: i + 2 for i, c in enumerate(self.chars)}
        self._seen = set(self.words) | set(self.rare)

    @classmethod
    def build(cls, sentences: Sequence[Sentence], min_count: int = 2) -> "PosVocab":
        counts = Counter(word_key(w) for s in sentences for w in s.words)
        chars = Counter(c for s in sentences for w in s.words for c in w)
        words = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
        rare = sorted(w for w, n in counts.items() if n < min_count)
        return cls(words, sorted(chars, key=lambda c: (-chars[c], c)), rare)

    def seen(self, word: str) -> bool:
        """Whether training showed this word (in any capitalisation)."""
        return word_key(word) in self._seen

    @property
    def word_size(self) -> int:
        return len(self.words) + 2

    @property
    def char_size(self) -> int:
        return len(self.chars) + 2

    def word_id(self, word: str) -> int:
        return self._word_ids.get(word_key(word), UNK)

    def known(self, word: str) -> bool:
        return word_key(word) in self._word_ids

    def char_ids(self, word: str) -> list[int]:
        return [self._char_ids.get(c, UNK) for c in clip_chars(word)]

    def encode_words(self, words: Sequence[str], width: int = 0) -> Tensor:
        """Words → ids [max(len(words), width), 1 + MAX_CHARS]: the word id, then its character ids (PAD-filled)."""
        rows = [[self.word_id(w), *_padded(self.char_ids(w))] for w in words]
        rows += [[PAD] * (1 + MAX_CHARS)] * (width - len(rows))
        return torch.tensor(rows, dtype=torch.long).reshape(-1, 1 + MAX_CHARS)  # [seq, 1 + chars]

    def to_dict(self) -> dict[str, Any]:
        return {"format": "unrolled-pos-vocab", "version": 1, "words": self.words, "chars": self.chars,
                "rare": self.rare}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PosVocab":
        if not isinstance(data, dict) or data.get("format") != "unrolled-pos-vocab":
            raise ValueError("this is not a saved tagging vocabulary (expected format 'unrolled-pos-vocab')")
        words, chars = data.get("words"), data.get("chars")
        if not isinstance(words, list) or not isinstance(chars, list):
            raise ValueError("the saved tagging vocabulary needs lists 'words' and 'chars'")
        rare = data.get("rare") or []
        return cls([str(w) for w in words], [str(c) for c in chars], [str(w) for w in rare])


def _padded(ids: list[int]) -> list[int]:
    return ids + [PAD] * (MAX_CHARS - len(ids))


def chunks(sentences: Sequence[Sentence], n: int) -> list[Sentence]:
    """Sentences with more than ``n`` words split into pieces of at most ``n`` (training only: keeps the
    padded training tensor small; 94 of EWT's 12,544 training sentences are longer than 60 words)."""
    out = []
    for s in sentences:
        for a in range(0, len(s.words), n):
            out.append(Sentence(s.words[a : a + n], s.tags[a : a + n], s.sent_id, s.text))
    return out


def build_split(sentences: Sequence[Sentence], vocab: PosVocab, with_words: bool = True) -> SeqData:
    """Sentences → SeqData: x [n, seq, 1 + MAX_CHARS] (int16 when ids fit: the training tensor is the
    largest thing a run holds), y [n, seq] tag ids with IGNORE_INDEX past each end, and the words in meta."""
    lengths = np.array([len(s.words) for s in sentences], dtype=np.int64)  # [n]
    width = int(lengths.max(initial=1))
    small = max(vocab.word_size, vocab.char_size) < 2**15
    type_of: dict[str, int] = {}  # each distinct word is encoded once, then gathered
    flat = np.array([type_of.setdefault(w, len(type_of)) for s in sentences for w in s.words], dtype=np.int64)
    table = np.array([[vocab.word_id(w), *_padded(vocab.char_ids(w))] for w in type_of], dtype=np.int64)
    inside = np.arange(width)[None, :] < lengths[:, None]  # [n, seq]: real words, row by row
    x = np.zeros((len(sentences), width, 1 + MAX_CHARS), dtype=np.int16 if small else np.int64)
    x[inside] = table.reshape(-1, 1 + MAX_CHARS)[flat]
    tag_id = {t: i for i, t in enumerate(UPOS_TAGS)}
    y = np.full((len(sentences), width), IGNORE_INDEX, dtype=np.int64)  # [n, seq]
    y[inside] = [tag_id[t] for s in sentences for t in s.tags]
    meta: dict[str, Any] = {}
    if with_words:
        meta = {"words": [list(s.words) for s in sentences], "sent_id": [s.sent_id for s in sentences],
                "seen": [[vocab.seen(w) for w in s.words] for s in sentences]}
    return SeqData(torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(lengths), meta)


@dataclass(frozen=True)
class EncodedSentence:
    """Typed text as model input: ``x`` [1, seq, 1 + MAX_CHARS], the words, which ones training showed,
    and how many words were cut off past MAX_WORDS (the page must say so when that is not 0)."""

    x: Tensor
    words: list[str]
    known: list[bool]
    cut: int


def as_pos_task(task: Task) -> PosTask:
    """``task`` as the tagging task, for code that needs its splits and sentences; ValueError otherwise."""
    if not isinstance(task, PosTask):
        raise ValueError(f"this needs a part-of-speech tagging run, not a {task.name!r} run")
    return task


class PosTask(Task):
    """UPOS tagging of English-EWT (12,544 training, 2,001 dev and 2,077 test sentences; 25,094 test words).

    Options: ``min_count`` (a training word needs this many occurrences for its own embedding row; rarer
    ones train the unknown-word row), ``download`` (fetch the official files when the data dir lacks them).
    """

    name = "pos"
    kind = "tag"
    title = "Part-of-speech tagging (UD English-EWT)"
    description = (
        "Tag every word of a sentence with its universal part of speech (noun, verb, adjective, ... 17 tags). "
        "The data is the English Web Treebank of Universal Dependencies: blogs, reviews, e-mails and answers "
        "with hand-checked tags. A character-level network reads each word's letters (so an unseen '-ly' word "
        "can still be an adverb); its summary joins the word's embedding, and a word-level network reads the "
        "sentence, so 'book' can be a noun or a verb by its neighbours. Validation is EWT's dev split."
    )
    metric = "accuracy"
    presets: ClassVar[dict[str, Preset]] = {
        "seed": Preset(
            "The source note's tagger, one direction: a character LSTM(32) over each word's letters joined to a "
            "64-wide word embedding, then a word-level LSTM(64) and a tag per word; Adam lr 0.002, batch 32, "
            "4 epochs.",
            model={"cell": "lstm", "embed_dim": 64, "char_embed_dim": 16, "char_hidden": 32, "hidden_size": 64,
                   "bidirectional": False, "word_dropout": 0.05},
            train={"optimizer": "adam", "lr": 2e-3, "batch_size": 32, "epochs": 4, "clip_grad": 5.0},
        ),
        "default": Preset(
            "A character BiLSTM(32) and a word BiLSTM(64) — each word is read in both directions, and so is the "
            "sentence, since a word's tag depends on what comes after it too. Word dropout 0.05, Adam lr 0.002, "
            "batch 32, 4 epochs, the best dev epoch kept.",
            model={"cell": "lstm", "embed_dim": 64, "char_embed_dim": 16, "char_hidden": 32, "hidden_size": 64,
                   "bidirectional": True, "word_dropout": 0.05, "input_dropout": 0.2},
            train={"optimizer": "adam", "lr": 2e-3, "batch_size": 32, "epochs": 4, "clip_grad": 5.0,
                   "keep_best": True},
        ),
        "quick": Preset(
            "A minute's check: the default network, smaller, on 1,500 training sentences for 2 epochs.",
            model={"cell": "lstm", "embed_dim": 32, "char_embed_dim": 8, "char_hidden": 16, "hidden_size": 32,
                   "bidirectional": True, "word_dropout": 0.05},
            train={"optimizer": "adam", "lr": 5e-3, "batch_size": 32, "epochs": 2, "limit": 1500},
        ),
    }
    default_preset = "default"

    def __init__(self, **options: Any):
        unknown = set(options) - set(DEFAULT_OPTIONS) - {"progress"}
        if unknown:
            raise ValueError(f"unknown pos option(s) {', '.join(sorted(unknown))}; known: {', '.join(DEFAULT_OPTIONS)}")
        self.progress = options.pop("progress", None)
        super().__init__(**{**DEFAULT_OPTIONS, **options})
        self._vocab: PosVocab | None = None
        self.load_info: dict[str, Any] = {}

    @property
    def labels(self) -> list[str]:
        return list(UPOS_TAGS)

    def base_model_config(self) -> ModelConfig:
        v = self._vocab
        return ModelConfig(
            vocab_size=v.word_size if v else 2, char_vocab_size=v.char_size if v else 2,
            output_size=len(UPOS_TAGS), head="every", padding_idx=PAD,
        )

    # ---- data -----------------------------------------------------------------------------------
    def read(self, split: str, data_dir: str | None = None) -> list[Sentence]:
        """The sentences of one EWT split (``train``, ``dev``, ``test``), downloading the file if need be."""
        path = ensure_ewt(split, data_dir, download_ok=bool(self.options["download"]), progress=self.progress)
        return load_sentences(path, cache_dir(data_dir))

    def load(self, data_dir: str | None = None, limit: int = 0, seed: int = 0) -> Splits:
        """Train (long sentences split at MAX_WORDS; a seeded sample of ``limit`` sentences when > 0), val = dev,
        test = test, whole sentences. The vocabulary comes from the training sentences used."""
        start = time.perf_counter()
        train_s = self.read("train", data_dir)
        if limit and limit < len(train_s):
            pick = torch.randperm(len(train_s), generator=torch.Generator().manual_seed(seed))[:limit]
            train_s = [train_s[i] for i in sorted(pick.tolist())]
        self._vocab = PosVocab.build(train_s, int(self.options["min_count"]))
        self.vocab = self._vocab.to_dict()
        train = build_split(chunks(train_s, MAX_WORDS), self._vocab, with_words=False)
        val = build_split(self.read("dev", data_dir), self._vocab)
        test = build_split(self.read("test", data_dir), self._vocab)
        self.load_info = {"seconds": time.perf_counter() - start, "train_sentences": len(train_s)}
        return Splits(train=train, val=val, test=test, vocab=dict(self.vocab))

    def load_split(self, split: str, data_dir: str | None = None) -> SeqData:
        """One whole split (``dev`` or ``test``) encoded with the loaded or restored vocabulary — what a page
        needs to score a saved run without building the training tensor."""
        return build_split(self.read(split, data_dir), self.vocab_obj())

    def fit_to_data(self, cfg: ModelConfig) -> ModelConfig:
        """The loaded vocabulary decides the word and character embedding sizes, whatever a preset says."""
        v = self.vocab_obj()
        return cfg.replace(vocab_size=v.word_size, char_vocab_size=v.char_size).validate()

    def restore(self, state: dict[str, Any]) -> None:
        super().restore(state)
        self._vocab = PosVocab.from_dict(self.vocab)

    # ---- a person's input ---------------------------------------------------------------------------
    def vocab_obj(self) -> PosVocab:
        if self._vocab is None:
            raise ValueError("the tagging vocabulary is not known yet: load the data or a trained run first")
        return self._vocab

    def encode_text(self, text: str) -> EncodedSentence:
        """Tokenize typed text EWT-style and encode it; more than MAX_WORDS words are cut (``cut`` says how many)."""
        if not isinstance(text, str):
            raise ValueError(f"a sentence must be text, not {type(text).__name__}")
        words = tokenize(text)
        cut = max(0, len(words) - MAX_WORDS)
        words = words[:MAX_WORDS]
        v = self.vocab_obj()
        return EncodedSentence(v.encode_words(words)[None], words, [v.seen(w) for w in words], cut)

    def encode(self, user_input: Any) -> tuple[Tensor, list[str]]:
        """A sentence (text, or a list of words) → (x [1, seq, 1 + MAX_CHARS], the words)."""
        if isinstance(user_input, (list, tuple)):
            words = [str(w) for w in user_input][:MAX_WORDS]
            return self.vocab_obj().encode_words(words)[None], words
        enc = self.encode_text(user_input)
        return enc.x, enc.words

    def decode(self, output: Tensor) -> list[dict[str, Any]]:
        """Logits [seq, tags] (or [1, seq, tags]) → per word ``{"tag", "confidence", "runner_up", "runner_up_p"}``."""
        logits = torch.as_tensor(output).detach().float().cpu()
        if logits.dim() == 3:
            logits = logits[0]
        probs = torch.softmax(logits, dim=-1)  # [seq, tags]
        top = probs.topk(2, dim=-1)
        return [
            {"tag": UPOS_TAGS[int(i[0])], "confidence": float(p[0]), "runner_up": UPOS_TAGS[int(i[1])],
             "runner_up_p": float(p[1])}
            for p, i in zip(top.values, top.indices)
        ]

    def step_labels(self, data: SeqData, i: int) -> list[str]:
        n = int(data.lengths[i])
        words = data.meta.get("words")
        if words is not None:
            return list(words[i][:n])
        v = self.vocab_obj()
        return [v.words[int(w) - 2] if int(w) > UNK else "<unk>" for w in data.x[i, :n, 0].tolist()]
