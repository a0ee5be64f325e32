"""Frozen configuration dataclasses: what a model is (ModelConfig) and how it is trained (TrainConfig).

Both round-trip through plain dicts (``asdict`` / ``from_dict``) so a run's config.json is readable and
nothing is ever unpickled. ``validate()`` turns impossible settings into one clear ValueError.
"""

from __future__ import annotations

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
    "dropout": (0.0, 0.95),
    "input_dropout": (0.0, 0.95),
    "word_dropout": (0.0, 0.999),  # not on the Train form; the tagger tests drop nearly every word
    "epochs": (1, 10_000),
    "batch_size": (1, 65_536),
    "lr": (0.0, 10.0),
    "weight_decay": (0.0, 1.0),
    "seed": (0, 2**31 - 1),
}


def _whole_in_bounds(name: str, value: Any) -> None:
    """ValueError unless ``value`` is a whole number inside BOUNDS[name]."""
    lo, hi = BOUNDS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{name} must be a whole number from {lo:g} to {hi:g}, not {value!r}")


def _check_memory_bias(value: Any) -> None:
    """ValueError unless ``value`` is None or a number from -10 to 10."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not -10 <= value <= 10):
        raise ValueError(f"memory_bias must be empty or a number from -10 to 10, not {value!r}")


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
    # The memory gate's starting bias — an LSTM's forget gate f, a GRU's update gate z (a plain RNN has none): None
    # keeps the init's own (keras: f 1, z 0). Larger starts the cell remembering: σ(2) ≈ 0.88 of the state kept per
    # step, σ(3) ≈ 0.95 — the usual remedy when what matters lies many steps back (Gers et al. 2000).
    memory_bias: float | None = None
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
        """Raise ValueError with a message a person can act on; return self when fine."""
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, not {self.cell!r}")
        if self.head not in HEADS:
            raise ValueError(f"head must be 'last' or 'every', not {self.head!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be 'keras' or 'torch', not {self.init!r}")
        for name in ("hidden_size", "num_layers", "output_size"):
            _whole_in_bounds(name, getattr(self, name))
        for name in (
            "input_size",
            "vocab_size",
            "embed_dim",
            "hidden_size",
            "num_layers",
            "output_size",
            "padding_idx",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number, not {value!r}")
        for name in ("bidirectional", "double_softmax"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, not {getattr(self, name)!r}")
        if self.vocab_size > 10_000_000:
            raise ValueError(f"vocab_size must be at most 10000000, not {self.vocab_size}")
        if self.token_input:
            _whole_in_bounds("embed_dim", self.embed_dim)
            if not 0 <= self.padding_idx < self.vocab_size:
                raise ValueError("padding_idx must be a token id inside the vocabulary")
        else:
            _whole_in_bounds("input_size", self.input_size)
        for name in ("char_vocab_size", "char_embed_dim", "char_hidden"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
                raise ValueError(f"{name} must be a whole number from 0 to 1000000, not {value!r}")
        if self.tagger:
            if not self.token_input or self.head != "every":
                raise ValueError("a char + word tagger needs word ids (vocab_size > 0) and head 'every'")
            if not 1 <= self.char_embed_dim <= 4096 or not 1 <= self.char_hidden <= 4096:
                raise ValueError("char_embed_dim and char_hidden must be from 1 to 4096")
        _check_memory_bias(self.memory_bias)
        for name in ("dropout", "input_dropout", "word_dropout"):
            value, (lo, hi) = getattr(self, name), BOUNDS[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= float(value) <= hi:
                raise ValueError(f"{name} must be a number from {lo:g} to {hi:g}, not {value!r}")
        return self

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
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}")
        for name in ("epochs", "batch_size", "seed"):
            _whole_in_bounds(name, getattr(self, name))
        lo, hi = BOUNDS["lr"]
        if not (isinstance(self.lr, (int, float)) and lo < self.lr <= hi):
            raise ValueError(f"lr must be a number in ({lo:g}, {hi:g}], not {self.lr!r}")
        if self.clip_grad < 0:
            raise ValueError("clip_grad must be 0 (off) or positive")
        if isinstance(self.bucket_pool, bool) or not isinstance(self.bucket_pool, int) or self.bucket_pool < 1:
            raise ValueError(f"bucket_pool must be a whole number of at least 1, not {self.bucket_pool!r}")
        if not BOUNDS["weight_decay"][0] <= self.weight_decay <= BOUNDS["weight_decay"][1]:
            raise ValueError(f"weight_decay must be from 0 to 1, not {self.weight_decay!r}")
        if isinstance(self.stop_at, bool) or not isinstance(self.stop_at, (int, float)) or self.stop_at < 0:
            raise ValueError(f"stop_at must be 0 (off) or a positive metric value, not {self.stop_at!r}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError("val_fraction must be in [0, 1)")
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
