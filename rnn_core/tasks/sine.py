"""The sine → cosine task: read sin(ωt + φ) one step at a time and output cos(ωt + φ) at every step.

Generated data (random frequency and phase per window, or the notes' consecutive windows of sin(k·π/9)),
per-step regression scored by MSE after a short warm-up, plus ``make_wave`` for the playground's test curves.
"""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from ..config import ModelConfig
from .base import Preset, SeqData, Splits, Task

FREQ_STEPS = 60  # frequencies are counted in cycles per 60 steps
FREQ_RANGE = (1.0, 4.0)  # cycles per 60 steps drawn for the generated data
NOTES_STEP = math.pi / 9  # the notes' time step: sin(k·π/9), 18 steps per cycle (3⅓ cycles per 60)
DATA_SOURCES = ("random", "notes")
WAVE_KINDS = ("sine", "square", "sawtooth", "noisy_sine")
MAX_STEPS = 5000  # longer input is refused rather than replayed step by step
MAX_VALUES = 10_000_000  # (train + val + test windows) × window: about 80 MB of float32 input and target
WARMUP = 10


def _cycles(n: int, freq: float | np.ndarray, phase: float | np.ndarray) -> np.ndarray:
    """Cycles completed by step t = 0..n-1: freq·t/60 + phase/2π, freq in cycles per 60 steps.

    Returns [n] for scalar freq / phase, [batch, n] for [batch] arrays. Counted in cycles, not radians,
    so whole and half cycles land exactly (the square and sawtooth edges)."""
    t = np.arange(n, dtype=np.float64)
    freq = np.asarray(freq, dtype=np.float64)[..., None]
    phase = np.asarray(phase, dtype=np.float64)[..., None]
    return freq * t / FREQ_STEPS + phase / (2 * np.pi)


def make_wave(
    kind: str = "sine",
    n: int = 60,
    freq: float = 3.0,
    phase: float = 0.0,
    amplitude: float = 1.0,
    noise: float | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray | None]:
    """A test curve for the playground: ``(values [n], true cosine [n] or None)``.

    With θ_t = 2π·freq·t/60 + phase (freq in cycles per 60 steps, as the training data counts them):
    sine A·sin θ; square +A for the first half of each cycle, −A for the second; sawtooth rising from
    −A to A once per cycle (0 at θ = 0, like sine); noisy_sine A·sin θ plus Gaussian noise (std
    ``noise``, default 0.1). ``noise`` adds such noise to any kind (seeded by ``seed``). The true cosine
    A·cos θ — what the task's mapping gives — comes back for sine and noisy_sine (without the noise);
    square and sawtooth have none (None).
    """
    if kind not in WAVE_KINDS:
        raise ValueError(f"wave kind must be one of {', '.join(WAVE_KINDS)}, not {kind!r}")
    if not isinstance(n, (int, np.integer)) or not 2 <= n <= MAX_STEPS:
        raise ValueError(f"n (steps) must be a whole number from 2 to {MAX_STEPS}, not {n!r}")
    for name, value in (("freq", freq), ("phase", phase), ("amplitude", amplitude)):
        if not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, not {value!r}")
    if freq <= 0:
        raise ValueError(f"freq must be positive (cycles per {FREQ_STEPS} steps), not {freq!r}")
    noise = (0.1 if kind == "noisy_sine" else 0.0) if noise is None else noise
    if not isinstance(noise, (int, float, np.floating)) or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a number ≥ 0 (the noise's standard deviation), not {noise!r}")

    cycles = _cycles(n, freq, phase)  # [n]
    theta = 2 * np.pi * cycles  # [n]
    cycle = np.mod(cycles, 1.0)  # [n] position within the cycle, 0..1
    if kind == "square":
        # From the cycle position rather than sign(sin θ): sin(π) is 1e-16, not 0, and would move the edge.
        values = amplitude * np.where(cycle < 0.5, 1.0, -1.0)
    elif kind == "sawtooth":
        values = amplitude * (2 * np.mod(cycle + 0.5, 1.0) - 1)
    else:
        values = amplitude * np.sin(theta)
    if noise > 0:
        values = values + np.random.default_rng(seed).normal(0.0, noise, size=n)
    cosine = amplitude * np.cos(theta) if kind in ("sine", "noisy_sine") else None
    return values, cosine


def random_windows(n: int, window: int, generator: torch.Generator) -> SeqData:
    """``n`` windows of sin(θ_t) → cos(θ_t), each with its own frequency (uniform in 1–4 cycles per 60
    steps) and phase (uniform in [0, 2π)). x, y: [n, window, 1]."""
    lo, hi = FREQ_RANGE
    freq = lo + (hi - lo) * torch.rand(n, generator=generator, dtype=torch.float64)  # [n]
    phase = 2 * math.pi * torch.rand(n, generator=generator, dtype=torch.float64)  # [n]
    theta = 2 * math.pi * torch.from_numpy(_cycles(window, freq.numpy(), phase.numpy()))  # [n, window]
    return SeqData(
        x=torch.sin(theta).float().unsqueeze(-1),  # [n, window, 1]
        y=torch.cos(theta).float().unsqueeze(-1),  # [n, window, 1]
        lengths=torch.full((n,), window, dtype=torch.long),
        meta={"freq": freq.tolist(), "phase": phase.tolist()},
    )


def notes_windows(start: int, n: int, window: int) -> SeqData:
    """The notes' setup: consecutive windows of the series sin(k·π/9) → cos(k·π/9), the i-th window
    starting at k = start + i. x, y: [n, window, 1]."""
    starts = torch.arange(start, start + n, dtype=torch.float64)  # [n]
    k = starts[:, None] + torch.arange(window, dtype=torch.float64)  # [n, window]
    theta = k * NOTES_STEP
    return SeqData(
        x=torch.sin(theta).float().unsqueeze(-1),  # [n, window, 1]
        y=torch.cos(theta).float().unsqueeze(-1),  # [n, window, 1]
        lengths=torch.full((n,), window, dtype=torch.long),
        meta={"start": list(range(start, start + n))},
    )


class SineTask(Task):
    """Per-step regression sin → cos.

    Options: ``window`` (steps per sequence, default 60), ``sizes`` (train, val, test counts, default
    (2000, 500, 500)), ``data`` ("random": random frequency and phase per window; "notes": consecutive
    windows of sin(k·π/9) as in the source notes).
    """

    name = "sine"
    kind = "regress"
    title = "Sine → cosine"
    description = (
        "Read a sine wave one step at a time and output the matching cosine — the same wave a quarter "
        "period ahead — at every step. Each window has its own frequency (1 to 4 cycles per 60 steps) and "
        "phase, so the network has to work out from what it has seen whether the curve is rising or falling "
        "and how fast it turns."
    )
    metric = "mse"
    output_names = ("cos",)
    # mse over the steps after the first WARMUP: at the first step no model can tell a rising curve from a
    # falling one (sin = 0 fits cos = +1 and -1), nor the frequency; those steps would measure the question.
    warmup = WARMUP
    presets: ClassVar[dict[str, Preset]] = {
        "seed": Preset(
            "The notes' model: SimpleRNN(32), one layer, keras init; Adam lr 3e-3, batch 32, 10 epochs.",
            model={"cell": "rnn", "hidden_size": 32, "num_layers": 1, "init": "keras"},
            train={"optimizer": "adam", "lr": 3e-3, "epochs": 10, "batch_size": 32},
        ),
        "seed-notes": Preset(
            "SimpleRNN(32) as in 'seed', trained on the notes' own data: consecutive 60-step windows of "
            "sin(k·π/9) (one frequency; windows repeat every 18 starts, so val is not held out).",
            model={"cell": "rnn", "hidden_size": 32, "num_layers": 1, "init": "keras"},
            train={"optimizer": "adam", "lr": 3e-3, "epochs": 5, "batch_size": 32},
            task={"data": "notes"},
        ),
        "default": Preset(
            "LSTM(32), Adam lr 1e-2, batch 32, 6 epochs: about 3× lower error than 'seed' in less time.",
            model={"cell": "lstm", "hidden_size": 32, "num_layers": 1, "init": "keras"},
            train={"optimizer": "adam", "lr": 1e-2, "epochs": 6, "batch_size": 32},
        ),
    }
    default_preset = "seed"

    option_names = ("window", "sizes", "data")

    def __init__(self, **options: Any):
        self._check_option_names(options)
        window = options.get("window", 60)
        sizes = options.get("sizes", (2000, 500, 500))
        data = options.get("data", "random")
        if isinstance(window, bool) or not isinstance(window, int) or not WARMUP + 2 <= window <= MAX_STEPS:
            raise ValueError(f"window must be a whole number from {WARMUP + 2} to {MAX_STEPS} steps, not {window!r}")
        sizes = tuple(sizes) if isinstance(sizes, (list, tuple)) else ()
        if (len(sizes) != 3 or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in sizes)
                or sizes[0] < 1 or sizes[1] < 1):
            raise ValueError(f"sizes must be (train, val, test) counts with train and val ≥ 1, not {sizes!r}")
        if sum(sizes) * window > MAX_VALUES:
            raise ValueError(f"sizes × window asks for {sum(sizes) * window:,} values; at most {MAX_VALUES:,} are "
                             "allowed: use fewer or shorter windows")
        if data not in DATA_SOURCES:
            raise ValueError(f"data must be one of {', '.join(DATA_SOURCES)}, not {data!r}")
        super().__init__(**{**options, "window": window, "sizes": list(sizes), "data": data})

    def base_model_config(self) -> ModelConfig:
        return ModelConfig(input_size=1, output_size=1, head="every")

    # ---- data -----------------------------------------------------------------------------------
    def load(self, data_dir: str | None = None, limit: int = 0, seed: int = 0) -> Splits:
        """Generated train / val / test splits, the same for the same ``seed`` and options. ``limit`` > 0
        keeps the first ``limit`` training windows; ``data_dir`` is unused."""
        window = self.options["window"]
        n_train, n_val, n_test = self.options["sizes"]
        if self.options["data"] == "notes":
            train = notes_windows(0, n_train, window)
            val = notes_windows(n_train, n_val, window)
            test = notes_windows(n_train + n_val, n_test, window) if n_test else None
        else:
            # Each split gets its own stream (seed·3 + k is distinct for every seed and split), so growing
            # one split leaves the others as they were.
            gens = [torch.Generator().manual_seed(seed * 3 + k) for k in range(3)]
            train = random_windows(n_train, window, gens[0])
            val = random_windows(n_val, window, gens[1])
            test = random_windows(n_test, window, gens[2]) if n_test else None
        if limit and limit > 0:
            train = train.subset(slice(0, limit))
        return Splits(train=train, val=val, test=test)

    def encode(self, user_input: Any) -> tuple[Tensor, list[str]]:
        """A curve → (input [1, seq, 1], each value as a step label).

        Accepts a sequence of numbers (list, array, tensor) or text of numbers separated by commas or
        spaces; at least 2 values, all finite. Values are used as given (a page rescales drawings).
        """
        if isinstance(user_input, str):
            parts = [p for p in re.split(r"[,\s;]+", user_input.strip()) if p]
            bad = []
            for p in parts:
                try:
                    float(p)
                except ValueError:
                    bad.append(p)
            if bad:
                names = ", ".join(repr(b) for b in bad[:5])
                raise ValueError(f"{names} not a number; give numbers separated by commas, e.g. '0, 0.5, 0.87, 1'")
            user_input = [float(p) for p in parts]
        try:
            values = torch.as_tensor(user_input, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError, OverflowError):
            raise ValueError("give the curve as a list of numbers, e.g. [0, 0.5, 0.87, 1]") from None
        if values.dim() == 0:
            values = values.reshape(1)  # a lone number: reported below as too short
        elif values.dim() > 1 and sum(s > 1 for s in values.shape) <= 1:
            values = values.reshape(-1)  # [1, seq, 1] or [seq, 1] → [seq]
        if values.dim() != 1:
            raise ValueError(f"give one curve (a flat list of numbers), not an array of shape {list(values.shape)}")
        if len(values) < 2:
            raise ValueError(f"give at least 2 values so there is a curve to follow, not {len(values)}")
        if len(values) > MAX_STEPS:
            raise ValueError(f"give at most {MAX_STEPS} values, not {len(values)}")
        if not bool(torch.isfinite(values).all()):
            where = torch.nonzero(~torch.isfinite(values)).flatten()[:5].tolist()
            raise ValueError(f"every value must be a finite number; steps {where} are NaN or infinite")
        return values.float().reshape(1, -1, 1), [f"{v:.2f}" for v in values.tolist()]  # [1, seq, 1]

    def decode(self, output: Tensor) -> list[float]:
        """Model output [1, seq, 1], [seq, 1] or [seq] → the predicted cosine, one float per step."""
        out = torch.as_tensor(output).detach().float().cpu()
        if out.dim() == 3 and out.shape[0] == 1 and out.shape[2] == 1:
            out = out[0, :, 0]
        elif out.dim() == 2 and out.shape[1] == 1:
            out = out[:, 0]
        if out.dim() != 1:
            raise ValueError(f"expected output of shape [1, seq, 1] or [seq], got {list(out.shape)}")
        return [float(v) for v in out]

    def step_labels(self, data: SeqData, i: int) -> list[str]:
        """The input value at each step of example ``i``, two decimals."""
        n = int(data.lengths[i])
        return [f"{v:.2f}" for v in data.x[i, :n, 0].tolist()]
