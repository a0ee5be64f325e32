"""The long-memory task: read a symbol, then N distractor symbols, and name the first symbol at the end.

Built to need memory over N steps and nothing else (the answer is in step 0 only, every later step is noise), so
accuracy against N shows how far back a cell can carry information: a plain RNN's gradient fades over the
distractors, a gated cell's forget / update gate can hold it. Generated data, fixed per N, one-hot input.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor

from ..config import ModelConfig
from .base import Preset, SeqData, Splits, Task

TARGETS = "ABCD"  # what the first step can be: the answer
# What every later step is drawn from: the targets themselves among them, so a later "A" must not overwrite a
# remembered "B". A cell therefore has to decide by its state whether to write (an LSTM's input gate can; a plain
# RNN's input weights cannot simply ignore those symbols).
DISTRACTORS = "ABCDefgh"
SYMBOLS = "ABCDefgh"  # one-hot order of the input features
DISTRACTOR_BOUNDS = (1, 200)  # N: longer spans would make a replay of one example slow and a sweep long
SIZES = {"train": 3000, "val": 500, "test": 500}
NOISE_BOUNDS = (0.0, 3.0)  # sd of the Gaussian noise on distractor steps
DEFAULT_NOISE = 1.0  # without noise a plain RNN (orthogonal start) carries the symbol across 40 steps too
DATA_SEED = 20_241_130  # the data depends on N only, never on the training seed: every cell sees the same sequences
MAX_INPUT = DISTRACTOR_BOUNDS[1] + 1


def check_distractors(value: Any) -> int:
    """N as an int inside DISTRACTOR_BOUNDS, or ValueError saying what to type."""
    lo, hi = DISTRACTOR_BOUNDS
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"distractors (N) must be a whole number from {lo} to {hi}, not {value!r}")
    return value


def check_noise(value: Any) -> float:
    """The noise level as a float inside NOISE_BOUNDS, or ValueError saying what to type."""
    lo, hi = NOISE_BOUNDS
    try:
        v = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        v = None
    if v is None or not lo <= v <= hi:
        raise ValueError(f"noise must be a number from {lo:g} to {hi:g}, not {value!r}")
    return v


def make_split(n: int, distractors: int, generator: torch.Generator, noise: float = 0.0) -> SeqData:
    """``n`` sequences: a target symbol, then ``distractors`` random distractor symbols, each distractor step with
    Gaussian noise of sd ``noise`` on every feature; label = the target."""
    first = torch.randint(len(TARGETS), (n,), generator=generator)  # [n]
    rest = torch.randint(len(DISTRACTORS), (n, distractors), generator=generator)  # [n, N]
    ids = torch.cat([first[:, None], rest], dim=1)  # [n, N+1]
    x = torch.nn.functional.one_hot(ids, len(SYMBOLS)).float()  # [n, N+1, symbols]
    if noise > 0:
        x[:, 1:] += noise * torch.randn(x[:, 1:].shape, generator=generator)  # step 0, the answer, stays clean
    lengths = torch.full((n,), distractors + 1, dtype=torch.long)  # [n]
    text = ["".join(SYMBOLS[i] for i in row) for row in ids.tolist()]
    return SeqData(x=x, y=first, lengths=lengths, meta={"text": text})


class RecallTask(Task):
    """Recall the first of N+1 symbols. Options: ``distractors`` — N, from 1 to 200 (default 10); ``noise`` — sd of
    the Gaussian noise on distractor steps, from 0 to 3 (default 1.0)."""

    name = "recall"
    kind = "classify"
    title = "Recall the first symbol after N distractors"
    description = (
        f"Each sequence starts with one of {', '.join(TARGETS)} and continues with N random distractors from "
        f"{', '.join(DISTRACTORS)} (the four targets among them); at the end the network must say which symbol "
        "came first. Nothing after step 0 "
        "helps, so the task measures memory alone: chance is 25 %, and a cell that cannot carry information over N "
        f"steps stays there. {SIZES['train']:,} training, {SIZES['val']} validation and {SIZES['test']} test "
        "sequences, generated once per N (the same for every cell and seed). Option ``noise`` adds Gaussian noise "
        "of that sd to every feature of every distractor step: a gated cell can shut its input once it holds the "
        "answer, a plain RNN must take the noise in at every step."
    )
    metric = "accuracy"
    presets: ClassVar[dict[str, Preset]] = {
        "seed": Preset(
            "LSTM(32), Adam lr 0.005, batch 64, up to 30 epochs (stopping once validation accuracy reaches 99 %); "
            "N = 10 distractors with noise sd 1.0; the memory gate (LSTM f, GRU z) starts at bias 2, so σ ≈ 0.88 of "
            "the state is kept per step — a plain RNN has no such gate. Every cell of the Memory page's sweep "
            "trains from this preset.",
            model={"cell": "lstm", "hidden_size": 32, "num_layers": 1, "init": "keras", "memory_bias": 2.0},
            train={"optimizer": "adam", "lr": 0.005, "epochs": 30, "batch_size": 64, "stop_at": 0.99},
            task={"distractors": 10, "noise": 1.0},
        ),
    }
    default_preset = "seed"

    def __init__(self, **options: Any):
        n = check_distractors(options.get("distractors", 10))
        super().__init__(**{**options, "distractors": n, "noise": check_noise(options.get("noise", DEFAULT_NOISE))})
        self.vocab = {"symbols": SYMBOLS}

    @property
    def distractors(self) -> int:
        return int(self.options["distractors"])

    @property
    def labels(self) -> list[str]:
        return list(TARGETS)

    def base_model_config(self) -> ModelConfig:
        return ModelConfig(input_size=len(SYMBOLS), output_size=len(TARGETS), head="last")

    def option_choices(self) -> dict[str, tuple[tuple[str, ...], str]]:
        return {"distractors": (("10", "5", "20", "40"), "N: distractor steps between the symbol and the "
                                "question — the span the network must remember across.")}

    # ---- data -----------------------------------------------------------------------------------
    def load(self, data_dir: str | None = None, limit: int = 0, seed: int = 0) -> Splits:
        """Train / val / test generated from a fixed seed and N (``seed`` and ``data_dir`` are unused, so every
        training seed and cell sees the same sequences); ``limit`` > 0 keeps the first ``limit`` training ones."""
        g = torch.Generator().manual_seed(DATA_SEED + self.distractors)
        noise = float(self.options["noise"])
        splits = {name: make_split(n, self.distractors, g, noise) for name, n in SIZES.items()}
        train = splits["train"].subset(slice(0, limit)) if limit and limit > 0 else splits["train"]
        return Splits(train=train, val=splits["val"], test=splits["test"], vocab=dict(self.vocab))

    def encode(self, user_input: Any) -> tuple[Tensor, list[str]]:
        """Typed symbols, e.g. ``"B efgh"`` (whitespace ignored) → (one-hot [1, seq, 12], the symbols).

        The first symbol must be one of A–D and the rest distractors e–h (or A–D); ValueError says what is wrong."""
        if not isinstance(user_input, str):
            raise ValueError(f"type symbols as text (e.g. 'B efgh'), not {type(user_input).__name__}")
        chars = [ch for ch in user_input if not ch.isspace()]
        if not chars:
            raise ValueError(f"type a first symbol from {TARGETS} then distractors from {DISTRACTORS}, e.g. 'B efgh'")
        if len(chars) > MAX_INPUT:
            raise ValueError(f"type at most {MAX_INPUT} symbols, not {len(chars)}")
        if chars[0] not in TARGETS:
            raise ValueError(f"the first symbol must be one of {', '.join(TARGETS)} , not {chars[0]!r}")
        bad = sorted({ch for ch in chars[1:] if ch not in DISTRACTORS})
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))}: after the first symbol type only distractors "
                             f"{', '.join(DISTRACTORS)}")
        ids = torch.tensor([SYMBOLS.index(ch) for ch in chars])  # [seq]
        return torch.nn.functional.one_hot(ids, len(SYMBOLS)).float()[None], chars  # [1, seq, symbols]

    def step_labels(self, data: SeqData, i: int) -> list[str]:
        """The symbols of example ``i``, one per step."""
        n = int(data.lengths[i])
        return [SYMBOLS[int(k)] for k in data.x[i, :n].argmax(dim=-1)]
