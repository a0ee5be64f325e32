"""The small interface every task offers, and the tensor container its splits come in.

A task knows its kind (sequence classification, per-step tagging, per-step regression), its presets
(the source notes' exact settings among them), how to load train / val / test splits, how to turn a
person's input into model input (``encode``) and a model output back into words (``decode``), and its
metric. Training code only ever talks to this interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor

from ..config import ModelConfig, TrainConfig

KINDS = ("classify", "tag", "regress")
KIND_NAMES = {"classify": "sequence classification", "tag": "per-step tagging", "regress": "per-step regression"}
HIGHER_IS_BETTER = {"accuracy": True, "mse": False}  # every metric a task may name, and which way is better
IGNORE_INDEX = -100  # tagging targets at padded steps (torch cross_entropy's default ignore_index)


@dataclass
class SeqData:
    """One split, already as tensors, sequences right-padded.

    x: token ids [n, seq] (int64) or features [n, seq, features] (float32)
    y: labels [n] (classify), tags [n, seq] with IGNORE_INDEX past the end (tag), values [n, seq, out] (regress)
    lengths: [n] real length of each sequence
    meta: optional per-example extras a page may show (e.g. the raw text)
    """

    x: Tensor
    y: Tensor
    lengths: Tensor
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def subset(self, idx: Tensor | list[int] | slice) -> "SeqData":
        """The examples at ``idx``, trimmed to their longest length; meta lists are indexed too."""
        if isinstance(idx, slice):
            idx = torch.arange(len(self))[idx]
        idx = torch.as_tensor(idx, dtype=torch.long)
        lengths = self.lengths[idx]
        t = int(lengths.max()) if len(idx) else 0
        y = self.y[idx]
        if y.dim() >= 2:
            y = y[:, :t]
        meta = {k: [v[i] for i in idx.tolist()] if isinstance(v, list) else v for k, v in self.meta.items()}
        return SeqData(self.x[idx][:, :t], y, lengths, meta)


@dataclass
class Splits:
    train: SeqData
    val: SeqData
    test: SeqData | None = None
    vocab: dict[str, Any] = field(
        default_factory=dict
    )  # saved with the run (vocab.json) so typed input encodes as in training


@dataclass(frozen=True)
class Preset:
    """A named setting: model and training overrides on top of the task's defaults."""

    description: str
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    task: dict[str, Any] = field(default_factory=dict)  # task options (e.g. maxlen, num_words, variant)


class Task:
    """Base class: subclasses set the class attributes and implement load / encode / decode."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "classify"  # one of KINDS
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    metric: ClassVar[str] = "accuracy"  # a key of HIGHER_IS_BETTER: "accuracy" (classify, tag) or "mse" (regress)
    presets: ClassVar[dict[str, Preset]] = {}
    default_preset: ClassVar[str] = "seed"
    warmup: ClassVar[int] = 0  # regression: steps left out of the metric at the start of each sequence
    output_names: ClassVar[tuple[str, ...]] = ("output",)  # regression: what each output value is called
    option_names: ClassVar[tuple[str, ...] | None] = None  # the options a task knows (None: it takes any)

    def __init__(self, **options: Any):
        self._check_option_names(options)
        self.options: dict[str, Any] = dict(options)
        self.vocab: dict[str, Any] = {}

    def _check_option_names(self, options: dict[str, Any]) -> None:
        known = self.option_names
        unknown = sorted(set(options) - set(known)) if known is not None else []
        if unknown:
            raise ValueError(f"unknown {self.name} option(s) {', '.join(map(repr, unknown))}; "
                             f"known: {', '.join(known or ()) or 'none'}")

    # ---- configuration ------------------------------------------------------------------------
    @classmethod
    def higher_is_better(cls) -> bool:
        """Whether a larger value of this task's metric is better (accuracy) or worse (mse)."""
        return HIGHER_IS_BETTER[cls.metric]

    @classmethod
    def is_better(cls, value: float, than: float) -> bool:
        """Whether metric ``value`` beats ``than`` in this task's direction."""
        return value > than if cls.higher_is_better() else value < than

    @property
    def labels(self) -> list[str]:
        """Class / tag names (empty for regression)."""
        return []

    def base_model_config(self) -> ModelConfig:
        """Input, output and head for this task (input_size / vocab_size, output_size, head)."""
        raise NotImplementedError

    def configs(self, preset: str | None = None, **overrides: Any) -> tuple[ModelConfig, TrainConfig]:
        """Model and train configs for a preset, with keyword overrides (model or train field names)."""
        p = self.presets[preset or self.default_preset]
        mcfg = self.base_model_config().replace(**p.model)
        tcfg = TrainConfig().replace(**p.train)
        mfields, tfields = set(mcfg.to_dict()), set(tcfg.to_dict())
        mcfg = mcfg.replace(**{k: v for k, v in overrides.items() if k in mfields})
        tcfg = tcfg.replace(**{k: v for k, v in overrides.items() if k in tfields and k not in mfields})
        return mcfg.validate(), tcfg.validate()

    def option_choices(self) -> dict[str, tuple[tuple[str, ...], str]]:
        """Task options a person may switch where they train: option → (allowed values, one line of help).
        The first value offered is the one to preselect. None by default."""
        return {}

    def data_label(self) -> str:
        """Which data this task's numbers are measured on, when its options change that (e.g. digits' MNIST test
        files only); "" when the description says it all. Pages show it beside accuracies; runs keep it."""
        return ""

    def fit_to_data(self, cfg: ModelConfig) -> ModelConfig:
        """``cfg`` with the sizes only the loaded data knows (a vocabulary built from the training split);
        call it after ``load`` and before ``build_model``. Most tasks know their sizes up front: unchanged."""
        return cfg

    # ---- data -----------------------------------------------------------------------------------
    def load(self, data_dir: str | None = None, limit: int = 0, seed: int = 0) -> Splits:
        raise NotImplementedError

    def encode(self, user_input: Any) -> tuple[Tensor, list[str]]:
        """A person's input → (model input with a batch dim of 1, one label per step for the time axis)."""
        raise NotImplementedError

    def decode(self, output: Tensor) -> Any:
        """Model output for one example → something a person reads (a label, a letter, a list of values).

        For sequence classification (``kind == "classify"``): logits [C] or [1, C] →
        ``{"prediction": label, "probabilities": {label: p}}`` over ``labels``; other kinds override this.
        """
        labels = self.labels
        if self.kind != "classify" or not labels:
            raise NotImplementedError
        logits = torch.as_tensor(output).detach().float().cpu()
        if logits.dim() == 2 and logits.shape[0] == 1:
            logits = logits[0]
        n = len(labels)
        if logits.shape != (n,):
            raise ValueError(f"expected logits of shape [{n}] or [1, {n}], got {list(logits.shape)}")
        probs = torch.softmax(logits, dim=-1)  # [C]
        return {"prediction": labels[int(probs.argmax())], "probabilities": dict(zip(labels, probs.tolist()))}

    def step_labels(self, data: SeqData, i: int) -> list[str]:
        """What to write under each time step of example ``i`` (letters, words, values)."""
        n = int(data.lengths[i])
        return [str(t) for t in range(n)]

    def state(self) -> dict[str, Any]:
        """What a run must store to encode input as in training (vocabulary, options)."""
        return {"options": self.options, "vocab": self.vocab}

    def restore(self, state: dict[str, Any]) -> None:
        """Take a saved run's task state (ValueError when it is not the shape ``state()`` writes)."""
        options, vocab = (state.get("options") or {}, state.get("vocab") or {}) if isinstance(state, dict) else (0, 0)
        if not isinstance(options, dict) or not isinstance(vocab, dict):
            raise ValueError("the task state must be a JSON object whose options and vocab are objects")
        self._check_option_names(options)
        self.options.update(options)
        self.vocab = vocab
