"""IMDB movie-review sentiment (aclImdb, Maas et al. 2011): a review's words in, negative or positive out.

Words are numbered as ``keras.datasets.imdb.load_data(num_words=N)`` numbers them and sequences are cut as
``pad_sequences(maxlen=...)`` cuts them, so the source notes' Keras settings carry over unchanged.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from ..config import ModelConfig, TrainConfig
from ..data import RemoteFile, cache_dir
from ..data.aclimdb import Corpus, SplitArrays, load_corpus
from ..data.text import INDEX_FROM, OOV, PAD, START, Tokenizer, Vocab
from .base import Preset, SeqData, Splits, Task

IMDB_FILE = RemoteFile(
    name="aclImdb_v1.tar.gz",
    url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    checksum="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
    size=84_125_825,
    subdir="imdb",
    # The workplace copy (labeled reviews only) and unpacked folders are found instead of downloading.
    alternatives=("imdb/aclImdb_labeled.tar.gz", "imdb/aclImdb", "aclImdb", "aclImdb_v1.tar.gz"),
)
DEFAULT_OPTIONS: dict[str, Any] = {"num_words": 10_000, "maxlen": 500, "truncating": "pre", "download": True}
LABELS = ["neg", "pos"]


def _check_options(opts: dict[str, Any]) -> dict[str, Any]:
    unknown = set(opts) - set(DEFAULT_OPTIONS)
    if unknown:
        raise ValueError(f"unknown imdb option(s) {', '.join(sorted(unknown))}; known: {', '.join(DEFAULT_OPTIONS)}")
    out = {**DEFAULT_OPTIONS, **opts}
    nw, ml = out["num_words"], out["maxlen"]
    if not isinstance(nw, int) or not INDEX_FROM + 2 <= nw <= 1_000_000:
        raise ValueError(f"num_words must be a whole number from {INDEX_FROM + 2} to 1000000, not {nw!r}")
    if not isinstance(ml, int) or not 1 <= ml <= 100_000:
        raise ValueError(f"maxlen must be a whole number from 1 to 100000, not {ml!r}")
    if out["truncating"] not in ("pre", "post"):
        raise ValueError(f"truncating must be 'pre' (keep the last maxlen words) or 'post', not {out['truncating']!r}")
    out["download"] = bool(out["download"])
    return out


def word_ids(ranks: np.ndarray, num_words: int, n_ranked: int) -> np.ndarray:
    """Frequency ranks → Keras ids: rank r becomes r + index_from; unseen words (rank 0) and ids at or above
    ``num_words`` become the OOV id. ``n_ranked`` is the highest rank present."""
    lut = np.arange(n_ranked + 1, dtype=np.int64) + INDEX_FROM  # [ranks]: rank → id
    lut[(lut >= num_words) | (np.arange(n_ranked + 1) == 0)] = OOV
    return lut[ranks]  # [tokens]


def build_split(arrays: SplitArrays, idx: np.ndarray, num_words: int, maxlen: int, truncating: str,
                with_text: bool, n_ranked: int) -> SeqData:
    """The reviews at ``idx`` as a right-padded SeqData: each is [start, words...] cut to ``maxlen`` as Keras's
    pad_sequences cuts it ("pre": the last maxlen positions, losing the start id; "post": the first ones)."""
    ids = word_ids(arrays.ranks, num_words, n_ranked)
    starts, ends = arrays.offsets[idx], arrays.offsets[idx + 1]
    full = ends - starts + 1  # [n] with the start id
    lengths = np.minimum(full, maxlen)  # [n]
    x = np.zeros((len(idx), int(lengths.max(initial=1))), dtype=np.int64)  # [n, seq]; 0 is PAD
    for row, (a, b, n) in enumerate(zip(starts.tolist(), ends.tolist(), lengths.tolist())):
        if b - a + 1 > maxlen and truncating == "pre":
            x[row, :n] = ids[b - n : b]
        else:
            x[row, 0] = START
            x[row, 1:n] = ids[a : a + n - 1]
    meta: dict[str, Any] = {}
    if with_text:
        meta = {
            "text": [arrays.text_of(int(i)) for i in idx],
            "rating": arrays.ratings[idx].tolist(),
            "review_id": arrays.review_ids[idx].tolist(),
            "cut": (full - lengths).tolist(),  # positions dropped by maxlen
        }
    return SeqData(torch.from_numpy(x), torch.from_numpy(arrays.labels[idx].copy()),
                   torch.from_numpy(lengths.astype(np.int64)), meta)


def balanced_sample(labels: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """All indices in a seeded order, or ``limit`` of them with the classes as even as ``limit`` allows."""
    rng = np.random.default_rng(seed)
    if not limit or limit >= len(labels):
        return rng.permutation(len(labels))
    per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in (0, 1)]
    take = [limit // 2, limit - limit // 2]
    chosen = np.concatenate([p[:k] for p, k in zip(per_class, take)])
    return rng.permutation(chosen)


class ImdbTask(Task):
    """Sentiment of IMDB reviews: 25,000 training and 25,000 test reviews, half positive, half negative.

    Options: ``num_words`` (ids at or above become OOV; also the embedding's rows), ``maxlen`` (longer reviews
    are cut), ``truncating`` ("pre": keep the last ``maxlen`` words, Keras's default; "post": the first),
    ``download`` (fetch the official archive when no copy is found). Set ``progress`` to a
    ``callable(done_bytes, total_bytes)`` to follow a download.
    """

    name = "imdb"
    kind = "classify"
    title = "Movie review sentiment (IMDB)"
    description = (
        "Read a movie review word by word and say whether it is negative or positive. The data is the Large "
        "Movie Review Dataset: 25,000 training and 25,000 test reviews from IMDB, balanced. Words are lowercased "
        "and stripped of punctuation; only the num_words most frequent training words get their own id, the rest "
        "read as out-of-vocabulary. Reviews longer than maxlen words are cut (by default their beginning goes, "
        "as in Keras). Validation is the test set unless the preset carves a share off the training reviews: the "
        "source note passed the test set as validation_data, so its 'validation accuracy' is test accuracy."
    )
    metric = "accuracy"
    presets: ClassVar[dict[str, Preset]] = {
        "seed": Preset(
            "The source note's setting: Embedding(5000, 32) + LSTM(100), reviews cut to their last 500 words, Adam "
            "lr 0.001, batch 64, 3 epochs, the test set as validation. 85-87% test accuracy depending on the seed; "
            "under a minute per epoch on 2 CPU cores.",
            model={"cell": "lstm", "embed_dim": 32, "hidden_size": 100, "num_layers": 1, "init": "keras"},
            train={"optimizer": "adam", "lr": 1e-3, "batch_size": 64, "epochs": 3, "clip_grad": 0.0},
            task={"num_words": 5000, "maxlen": 500, "truncating": "pre"},
        ),
        "seed-simplernn": Preset(
            "The SimpleRNN note's setting: Embedding(10000, 32) + SimpleRNN(32), maxlen 500, RMSprop lr 0.001, "
            "batch 128, 10 epochs, validation_split 0.2 of the training reviews.",
            model={"cell": "rnn", "embed_dim": 32, "hidden_size": 32, "num_layers": 1, "init": "keras"},
            train={"optimizer": "rmsprop", "lr": 1e-3, "batch_size": 128, "epochs": 10, "clip_grad": 0.0,
                   "val_fraction": 0.2},
            task={"num_words": 10000, "maxlen": 500, "truncating": "pre"},
        ),
        "quick": Preset(
            "A fast look (under a minute on 2 CPU cores): every training review cut to its last 80 words, "
            "Embedding(10000, 32) + GRU(32), Adam lr 0.005, batch 128, one pass, 10% of the training reviews as "
            "validation. About 83-84% test accuracy: one pass over all reviews beats several over a subset.",
            model={"cell": "gru", "embed_dim": 32, "hidden_size": 32, "num_layers": 1, "init": "keras"},
            train={"optimizer": "adam", "lr": 5e-3, "batch_size": 128, "epochs": 1, "clip_grad": 1.0,
                   "val_fraction": 0.1},
            task={"num_words": 10000, "maxlen": 80, "truncating": "pre"},
        ),
        "default": Preset(
            "Our full setting: Embedding(10000, 32) with 40% input dropout + GRU(64), maxlen 500, Adam lr 0.002, "
            "batch 64, gradient clipping 1.0, 4 epochs, 10% of the training reviews as validation; the weights of "
            "the best validation epoch are kept (the test set stays unseen). About 88.5% test accuracy in ~3 minutes.",
            model={"cell": "gru", "embed_dim": 32, "hidden_size": 64, "num_layers": 1, "init": "keras",
                   "input_dropout": 0.4},
            train={"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 4, "clip_grad": 1.0,
                   "val_fraction": 0.1, "keep_best": True},
            task={"num_words": 10000, "maxlen": 500, "truncating": "pre"},
        ),
    }
    default_preset = "quick"

    def __init__(self, **options: Any):
        self._explicit = set(options)  # options a preset must not override
        super().__init__(**_check_options(options))
        self.progress = None
        self.load_info: dict[str, Any] = {}
        self._vocab_cache: tuple[int, Vocab] | None = None

    # ---- configuration --------------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        return list(LABELS)

    @property
    def num_words(self) -> int:
        return int(self.options["num_words"])

    @property
    def maxlen(self) -> int:
        return int(self.options["maxlen"])

    @property
    def tokenizer(self) -> Tokenizer:
        return Tokenizer()

    def base_model_config(self) -> ModelConfig:
        return ModelConfig(cell="lstm", vocab_size=self.num_words, embed_dim=32, hidden_size=100,
                           output_size=len(LABELS), head="last", padding_idx=PAD)

    def configs(self, preset: str | None = None, **overrides: Any) -> tuple[ModelConfig, TrainConfig]:
        """As Task.configs; choosing a preset also adopts its data options (num_words, maxlen, truncating)
        unless they were given when the task was made, and the embedding always has ``num_words`` rows."""
        name = preset or self.default_preset
        if name not in self.presets:
            raise ValueError(f"unknown imdb preset {name!r}; choose one of: {', '.join(self.presets)}")
        adopted = {k: v for k, v in self.presets[name].task.items() if k not in self._explicit}
        self.options = _check_options({**self.options, **adopted})
        mcfg, tcfg = super().configs(name, **overrides)
        return mcfg.replace(vocab_size=self.num_words).validate(), tcfg

    # ---- data -----------------------------------------------------------------------------------
    def load(self, data_dir: str | None = None, limit: int = 0, seed: int = 0) -> Splits:
        """Train (all 25,000 reviews, or a class-balanced seeded sample of ``limit``, in seeded order) and test
        (the 25,000 test reviews, with their text, rating and id in ``meta``). Val is the test split itself —
        the same object, as Keras's validation_data; fit carves val off train when val_fraction > 0.
        The vocabulary comes from the training reviews only."""
        start = time.perf_counter()
        source = IMDB_FILE.ensure(data_dir, download_ok=self.options["download"], progress=self.progress)
        corpus: Corpus = load_corpus(source, self.tokenizer, cache_dir(data_dir))
        counts = corpus.counts[: self.num_words].tolist()
        vocab = Vocab(corpus.words, self.num_words, tokenizer=self.tokenizer, counts=counts)
        opts = (self.num_words, self.maxlen, self.options["truncating"])
        n_ranked = len(corpus.words)
        train_idx = balanced_sample(corpus.train.labels, int(limit or 0), seed)
        train = build_split(corpus.train, train_idx, *opts, with_text=False, n_ranked=n_ranked)
        test = build_split(corpus.test, np.arange(len(corpus.test)), *opts, with_text=True, n_ranked=n_ranked)
        self.vocab = vocab.to_dict()
        self.load_info = {
            "source": str(source),
            "from_cache": corpus.from_cache,
            "parse_seconds": corpus.parse_seconds,
            "seconds": time.perf_counter() - start,
            "test_cut_share": float(np.mean(np.asarray(test.meta["cut"]) > 0)),
        }
        return Splits(train=train, val=test, test=test, vocab=dict(self.vocab))

    def restore(self, state: dict[str, Any]) -> None:
        """Take a saved run's options and vocabulary; they then win over any preset's data options."""
        super().restore(state)
        self.options = _check_options({k: v for k, v in self.options.items() if k in DEFAULT_OPTIONS})
        self._explicit |= set(state.get("options", {}))
        if self.vocab and self.vocab_obj().num_words != self.num_words:  # ids would overrun the embedding
            raise ValueError(f"the saved vocabulary keeps {self.vocab_obj().num_words} ids but the saved options say "
                             f"num_words={self.num_words}")

    # ---- a person's input ---------------------------------------------------------------------------
    def vocab_obj(self) -> Vocab:
        """The Vocab of the loaded data or restored run (ValueError when there is none yet)."""
        if not self.vocab:
            raise ValueError("the IMDB vocabulary is not known yet: load the data or a trained run first")
        if self._vocab_cache is None or self._vocab_cache[0] != id(self.vocab):
            self._vocab_cache = (id(self.vocab), Vocab.from_dict(self.vocab))
        return self._vocab_cache[1]

    def encode_text(self, text: str):
        """``Vocab.encode_text`` with this task's maxlen and truncation: ids, tokens, OOV flags and how many
        positions were cut (the page must say so when that is not 0)."""
        return self.vocab_obj().encode_text(text, self.maxlen, self.options["truncating"])

    def encode(self, user_input: Any) -> tuple[Tensor, list[str]]:
        """A review → (ids [1, seq] starting with the start id, the words as step labels)."""
        enc = self.encode_text(user_input)
        return torch.tensor([enc.ids], dtype=torch.long), list(enc.tokens)  # [1, seq]

    def step_labels(self, data: SeqData, i: int) -> list[str]:
        """The words of example ``i``: its original words when the text is at hand, else the vocabulary's
        (out-of-vocabulary words then read "<oov>")."""
        n = int(data.lengths[i])
        texts = data.meta.get("text")
        if texts is not None and self.vocab:
            tokens = self.encode_text(texts[i]).tokens
            if len(tokens) == n:
                return tokens
        return self.vocab_obj().decode(data.x[i, :n].tolist(), skip_padding=False)
