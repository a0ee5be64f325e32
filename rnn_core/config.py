"""Frozen configuration dataclasses: what a model is (ModelConfig) and how it is trained (TrainConfig).

Both round-trip through plain dicts (``asdict`` / ``from_dict``) so a run's config.json is readable and
nothing is ever unpickled. ``validate()`` turns impossible settings into one clear ValueError.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

CELLS = ("rnn", "lstm", "gru")
HEADS = ("last", "every")
INITS = ("keras", "torch")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
# Allowed ranges of the numeric settings, ends included: ``validate()`` enforces them and the app's Train form
# offers exactly these (their one home). Exceptions, enforced below: lr must be above 0 (a rate of 0 learns
# nothing; the form lets a person type it and explains), dropout keeps something (at most 0.95).
BOUNDS: dict[str, tuple[float, float]] = {
    "hidden_size": (1, 4096),
    "num_layers": (1, 16),
    "embed_dim": (1, 4096),
    "input_size": (1, 100_000),
    "output_size": (1, 1_000_000),
    "vocab_size": (0, 1_000_000),  # token ids an embedding may have (IMDB's num_words allows the same)
    "dropout": (0.0, 0.95),
    "input_dropout": (0.0, 0.95),
    "word_dropout": (0.0, 0.999),  # not on the Train form; the tagger tests drop nearly every word
    "epochs": (1, 10_000),
    "batch_size": (1, 65_536),
    "lr": (0.0, 10.0),
    "weight_decay": (0.0, 1.0),
    "seed": (0, 2**31 - 1),
}
# One cap for every way a model comes to exist (Train page, CLI, a saved run): bigger would take hours per epoch on
# a CPU, and a config asking for more is refused before anything is allocated (rnn_core.summary.check_size).
MAX_PARAMS = 10_000_000
MAX_WIDTH = int(BOUNDS["hidden_size"][1])  # character-network widths share the word-level cap


def _whole(name: str, value: Any, lo: float, hi: float) -> None:
    """ValueError unless ``value`` is an int (not a bool) in [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{name} must be a whole number from {lo:g} to {hi:g}, not {value!r}")


def _whole_in_bounds(name: str, value: Any) -> None:
    """ValueError unless ``value`` is a whole number inside BOUNDS[name]."""
    _whole(name, value, *BOUNDS[name])


def _number(name: str, value: Any, lo: float, hi: float, hi_open: bool = False, lo_open: bool = False) -> None:
    """ValueError unless ``value`` is a finite int or float within the bounds (NaN and ±inf never pass)."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if ok:
        ok = (lo < value if lo_open else lo <= value) and (value < hi if hi_open else value <= hi)
    if not ok:
        span = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise ValueError(f"{name} must be a number in {span}, not {value!r}")


def _from_dict(cls, data: dict[str, Any]):
    """Build ``cls`` from a dict, ignoring unknown keys (configs written by newer versions still load)."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in dict(data).items() if k in names})


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a RecurrentModel.

    input → (embedding when ``vocab_size > 0``) → fused nn.RNN / nn.LSTM / nn.GRU → Linear head.
    """

    cell: str = "lstm"  # "rnn" (Elman tanh RNN, Keras SimpleRNN), "lstm" or "gru"
    input_size: int = 1  # features per time step for feature tasks; ignored when vocab_size > 0
    vocab_size: int = 0  # > 0: inputs are token ids [batch, seq] and go through an embedding
    embed_dim: int = 32  # embedding width (token tasks only)
    hidden_size: int = 32  # units per direction per layer
    num_layers: int = 1  # stacked recurrent layers
    bidirectional: bool = False  # add a backward direction to every layer (outputs concatenated)
    dropout: float = 0.0  # dropout between stacked layers (torch semantics: not after the last layer)
    input_dropout: float = 0.0  # dropout on the embedded / feature input while training (regularises word vectors)
    output_size: int = 1  # classes (classification, tagging) or values per step (regression)
    head: str = "last"  # "last": head on the final step (sequence tasks); "every": on each step
    init: str = "keras"  # "keras": glorot/orthogonal/forget bias 1; "torch": torch's uniform default
    # The memory gate's starting bias — an LSTM's forget gate f, a GRU's update gate z (a plain RNN has none): 0
    # keeps the init's own (keras: f 1, z 0). Larger starts the cell remembering: σ(2) ≈ 0.88 of the state kept per
    # step, σ(3) ≈ 0.95 — the usual remedy when what matters lies many steps back (Gers et al. 2000).
    memory_bias: float = 0.0
    padding_idx: int = 0  # token id used for padding (token tasks)
    # Classification trained as some notes' code does by mistake: softmax on the head's output, then a
    # cross-entropy that applies softmax again. Predictions are unchanged; the loss flattens and learning slows.
    double_softmax: bool = False
    # Word tagger (pos): with char_vocab_size > 0 each input step is a word, read twice: its id through an
    # embedding (vocab_size x embed_dim) and its characters through a character-level recurrent network of the
    # same cell and directions, whose final states join the word vector before the word-level network.
    char_vocab_size: int = 0  # > 0: build the char + word tagger (rnn_core/tagger.py); characters known to it
    char_embed_dim: int = 16  # character embedding width
    char_hidden: int = 32  # units per direction of the character-level network
    word_dropout: float = 0.0  # training only: share of known words replaced by the unknown-word id, so the
    # model learns to tag from characters and context alone — what it must do for words it never saw

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def token_input(self) -> bool:
        return self.vocab_size > 0

    @property
    def tagger(self) -> bool:
        """A char + word tagger (``char_vocab_size > 0``) rather than a single RecurrentModel."""
        return self.char_vocab_size > 0

    def validate(self) -> "ModelConfig":
        """Raise ValueError with a message a person can act on; return self when fine. Every size is bounded
        here, from the config alone, so nothing is allocated for an impossible one (see also ``MAX_PARAMS``)."""
        self._check_kinds()
        self._check_sizes()
        for name in ("char_vocab_size", "char_embed_dim", "char_hidden"):
            _whole(name, getattr(self, name), 0, BOUNDS["vocab_size"][1])
        if self.tagger:
            if not self.token_input or self.head != "every":
                raise ValueError("a char + word tagger needs word ids (vocab_size > 0) and head 'every'")
            if not 1 <= self.char_embed_dim <= MAX_WIDTH or not 1 <= self.char_hidden <= MAX_WIDTH:
                raise ValueError(f"char_embed_dim and char_hidden must be from 1 to {MAX_WIDTH}")
        for name in ("dropout", "input_dropout", "word_dropout"):
            _number(name, getattr(self, name), *BOUNDS[name])
        _number("memory_bias", self.memory_bias, -10.0, 10.0)
        return self

    def _check_kinds(self) -> None:
        """The named choices and the true/false fields."""
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, not {self.cell!r}")
        if self.head not in HEADS:
            raise ValueError(f"head must be 'last' or 'every', not {self.head!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be 'keras' or 'torch', not {self.init!r}")
        for name in ("bidirectional", "double_softmax"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, not {getattr(self, name)!r}")

    def _check_sizes(self) -> None:
        """Every width and count of the word-level network within BOUNDS."""
        for name in ("hidden_size", "num_layers", "output_size", "vocab_size"):
            _whole_in_bounds(name, getattr(self, name))
        # the unused one of embed_dim / input_size is still a bounded whole number (it reaches the summary)
        _whole("embed_dim", self.embed_dim, 0, BOUNDS["embed_dim"][1])
        _whole("input_size", self.input_size, 0, BOUNDS["input_size"][1])
        _whole("padding_idx", self.padding_idx, 0, BOUNDS["vocab_size"][1])
        if self.token_input:
            _whole_in_bounds("embed_dim", self.embed_dim)
            if not self.padding_idx < self.vocab_size:
                raise ValueError("padding_idx must be a token id inside the vocabulary")
        else:
            _whole_in_bounds("input_size", self.input_size)

    def replace(self, **changes) -> "ModelConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        return _from_dict(cls, data)


@dataclass(frozen=True)
class TrainConfig:
    """How ``fit`` trains: optimiser, schedule, batching and reproducibility."""

    epochs: int = 10  # passes over the training split
    batch_size: int = 32  # sequences per optimiser step
    lr: float = 1e-3  # learning rate
    optimizer: str = "adam"  # "adam", "rmsprop" (Keras defaults: rho 0.9, eps 1e-7) or "sgd" (momentum 0.9)
    clip_grad: float = 1.0  # max global gradient norm; 0 disables clipping
    weight_decay: float = 0.0  # L2 penalty passed to the optimiser
    seed: int = 0  # seeds init, shuffling and dropout: same seed and settings → identical curves
    bucket: bool = True  # token tasks: batch sequences of similar length so padding costs little
    bucket_pool: int = 50  # with bucket: sort lengths within pools of this many batches (smaller = more mixing)
    val_fraction: float = 0.0  # > 0: carve this share of train off as validation (Keras validation_split)
    limit: int = 0  # > 0: use at most this many training examples (quick runs, tests)
    keep_best: bool = False  # at the end, restore the weights of the epoch with the best validation metric
    # > 0: end training (as finished) once the validation metric reaches this value (accuracy ≥ it, MSE ≤ it):
    # a solved task needs no more epochs, which keeps a sweep over easy and hard settings short
    stop_at: float = 0.0
    device: str = "auto"  # "auto" (CUDA when present, else CPU), "cpu" or "cuda"
    num_threads: int = 0  # torch intra-op threads for this job; 0 leaves torch's setting alone

    def validate(self) -> "TrainConfig":
        """Raise ValueError naming the setting and its allowed range; NaN and ±inf never pass."""
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}")
        for name in ("epochs", "batch_size", "seed"):
            _whole_in_bounds(name, getattr(self, name))
        _number("lr", self.lr, *BOUNDS["lr"], lo_open=True)
        _number("clip_grad", self.clip_grad, 0.0, 1e6)  # 0 turns clipping off
        _whole("bucket_pool", self.bucket_pool, 1, 1_000_000)
        _number("weight_decay", self.weight_decay, *BOUNDS["weight_decay"])
        _number("val_fraction", self.val_fraction, 0.0, 1.0, hi_open=True)
        _whole("limit", self.limit, 0, 2**63 - 1)  # 0 means no limit
        _whole("num_threads", self.num_threads, 0, 1024)
        _number("stop_at", self.stop_at, 0.0, 1e9)  # 0 turns it off
        for name in ("bucket", "keep_best"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, not {getattr(self, name)!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError("device must be 'auto', 'cpu' or 'cuda'")
        return self

    def replace(self, **changes) -> "TrainConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        return _from_dict(cls, data)
