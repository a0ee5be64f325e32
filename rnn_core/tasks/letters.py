"""The "abcde" next-letter task: one-hot letters in, the letter that follows out.

A memorisation toy from the source notes (Keras SimpleRNN(3) + Dense(5), Adam 0.01, 100 epochs → every
letter right): the whole data set is a handful of patterns, so train and validation are the same patterns.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor

from ..config import ModelConfig
from .base import Preset, SeqData, Splits, Task

ALPHABET = "abcde"
VARIANTS = ("1in", "4in")
WINDOW_4IN = 4  # letters read before predicting in the "4in" variant
MAX_LETTERS = 1000  # typed input longer than this is refused rather than replayed step by step


def check_input(text: str) -> tuple[list[str], list[str]]:
    """Split typed text into letters of the alphabet and letters outside it (case-insensitive, whitespace ignored).

    Returns ``(ok_letters, bad_letters)``, each in the order typed; ``bad_letters`` lists each offender once,
    so a page can flag them without raising.
    """
    ok, bad = [], []
    for ch in str(text).lower():
        if ch.isspace():
            continue
        if ch in ALPHABET:
            ok.append(ch)
        elif ch not in bad:
            bad.append(ch)
    return ok, bad


def patterns(variant: str = "1in") -> list[tuple[str, str]]:
    """Every (input letters, next letter) pair of a variant.

    "1in": a→b, b→c, c→d, d→e (the notes' data). "4in": the 4-letter windows of the cycle abcdeabcde…,
    abcd→e, bcde→a, cdea→b, deab→c, eabc→d.
    """
    if variant == "1in":
        return [(ALPHABET[i], ALPHABET[i + 1]) for i in range(len(ALPHABET) - 1)]
    if variant == "4in":
        cycle = ALPHABET * 2
        return [(cycle[i : i + WINDOW_4IN], cycle[i + WINDOW_4IN]) for i in range(len(ALPHABET))]
    raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, not {variant!r}")


def one_hot(letters: str) -> Tensor:
    """Letters of the alphabet → one-hot features [len(letters), 5]."""
    idx = torch.tensor([ALPHABET.index(ch) for ch in letters], dtype=torch.long)  # [seq]
    return torch.nn.functional.one_hot(idx, len(ALPHABET)).float()  # [seq, 5]


class LettersTask(Task):
    """Predict the next letter of "abcde" from one letter ("1in") or from four ("4in").

    Options: ``variant`` — "1in" (default) or "4in".
    """

    name = "letters"
    kind = "classify"
    title = "Next letter (abcde)"
    description = (
        "Read one-hot letters of 'abcde' and predict the letter that comes next: a→b, b→c, c→d, d→e "
        "(variant '1in'), or four letters of the cycle abcdeabcde… → the fifth (variant '4in'). "
        "A memorisation toy: the data set is just these 4 or 5 patterns, so validation reuses them and "
        "there is no test split — the question is only whether a tiny network can store them."
    )
    metric = "accuracy"
    presets: ClassVar[dict[str, Preset]] = {
        "seed": Preset(
            "The notes' exact setting: SimpleRNN(3) + Dense(5), Adam lr 0.01, 100 epochs, the 4 patterns in one batch "
            "(Keras's default batch of 32 holds them all).",
            model={"cell": "rnn", "hidden_size": 3, "num_layers": 1, "init": "keras"},
            train={"optimizer": "adam", "lr": 0.01, "epochs": 100, "batch_size": 4},
            task={"variant": "1in"},
        ),
        "seed-4in": Preset(
            "The notes' setting on the 4-letters-in variant: SimpleRNN(3), Adam lr 0.01, 100 epochs, "
            "all 5 patterns per batch.",
            model={"cell": "rnn", "hidden_size": 3, "num_layers": 1, "init": "keras"},
            train={"optimizer": "adam", "lr": 0.01, "epochs": 100, "batch_size": 5},
            task={"variant": "4in"},
        ),
        "default": Preset(
            "GRU(8) on the 4-letters-in variant, Adam lr 0.03, 30 epochs, full batch: every letter right in far "
            "fewer epochs than the notes' setting, and four steps to watch unroll.",
            model={"cell": "gru", "hidden_size": 8, "num_layers": 1, "init": "keras"},
            train={"optimizer": "adam", "lr": 0.03, "epochs": 30, "batch_size": 5},
            task={"variant": "4in"},
        ),
    }
    default_preset = "seed"

    option_names = ("variant",)

    def __init__(self, **options: Any):
        variant = options.get("variant", "1in")
        if variant not in VARIANTS:
            raise ValueError(f"letters variant must be one of {', '.join(VARIANTS)}, not {variant!r}")
        super().__init__(**{**options, "variant": variant})
        self.vocab = {"alphabet": ALPHABET}

    def restore(self, state: dict[str, Any]) -> None:
        """A saved letters run must have read the same alphabet (the one-hot columns are its letters)."""
        super().restore(state)
        if self.vocab.get("alphabet", ALPHABET) != ALPHABET:
            raise ValueError(f"the saved alphabet is {self.vocab.get('alphabet')!r}, not {ALPHABET!r}")
        self.vocab = {"alphabet": ALPHABET}

    @property
    def variant(self) -> str:
        return self.options["variant"]

    @property
    def labels(self) -> list[str]:
        return list(ALPHABET)

    def base_model_config(self) -> ModelConfig:
        return ModelConfig(input_size=len(ALPHABET), output_size=len(ALPHABET), head="last")

    # ---- data -----------------------------------------------------------------------------------
    def load(self, data_dir: str | None = None, limit: int = 0, seed: int = 0) -> Splits:
        """All patterns of the variant as train and again as val (no test split). ``limit`` > 0 keeps the
        first ``limit`` training patterns; ``data_dir`` and ``seed`` are unused (the data is fixed)."""
        pairs = patterns(self.variant)
        full = SeqData(
            x=torch.stack([one_hot(inp) for inp, _ in pairs]),  # [n, seq, 5]
            y=torch.tensor([ALPHABET.index(out) for _, out in pairs], dtype=torch.long),  # [n]
            lengths=torch.full((len(pairs),), len(pairs[0][0]), dtype=torch.long),  # [n]
            meta={"text": [inp for inp, _ in pairs], "target": [out for _, out in pairs]},
        )
        train = full.subset(slice(0, limit)) if limit and limit > 0 else full
        return Splits(train=train, val=full, test=None, vocab=dict(self.vocab))

    def encode(self, user_input: Any) -> tuple[Tensor, list[str]]:
        """Typed letters → (one-hot input [1, seq, 5], the letters as step labels).

        Case-insensitive; whitespace is ignored. Raises ValueError for empty input or letters outside a–e.
        """
        if not isinstance(user_input, str):
            raise ValueError(f"type letters as text (e.g. 'abc'), not {type(user_input).__name__}")
        ok, bad = check_input(user_input)
        if bad:
            names = ", ".join(repr(ch) for ch in bad)
            verb = "is not one" if len(bad) == 1 else "are not"
            raise ValueError(f"{names} {verb} of {', '.join(ALPHABET)}; type only those letters")
        if not ok:
            raise ValueError(f"type at least one letter from {', '.join(ALPHABET)} (e.g. 'a' or 'abcd')")
        if len(ok) > MAX_LETTERS:
            raise ValueError(f"type at most {MAX_LETTERS} letters, not {len(ok)}")
        letters = "".join(ok)
        return one_hot(letters).unsqueeze(0), list(letters)  # [1, seq, 5]

    def step_labels(self, data: SeqData, i: int) -> list[str]:
        """The letters of example ``i``, one per step."""
        n = int(data.lengths[i])
        return [ALPHABET[int(k)] for k in data.x[i, :n].argmax(dim=-1)]
