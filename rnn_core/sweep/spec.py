"""What a sweep is: a task and preset, a grid over config fields and task options, and a list of seeds;
expanded into one fully resolved ``RunSpec`` per (grid point, seed), checked before anything trains."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field, fields
from typing import Any

from ..config import ModelConfig, TrainConfig
from ..summary import check_params
from ..tasks import get_task, task_class

MAX_RUNS = 1000  # a grid bigger than this is almost certainly a typo
FAULTS = ("raise", "exit")  # test hooks: make a worker raise, or die without a word (os._exit)
_CONFIG_TYPES: dict[str, type] = {
    f.name: type(f.default) for cls in (ModelConfig, TrainConfig) for f in fields(cls)
}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, not {text!r}")


def coerce(key: str, value: Any) -> Any:
    """A grid value as its field's type (``"16"`` → 16 for hidden_size); task options are read as JSON when
    they parse (``"200"`` → 200, ``"[1,2]"`` → a list), else kept as text."""
    kind = _CONFIG_TYPES.get(key)
    if not isinstance(value, str):
        return value
    try:
        if kind is bool:
            return _parse_bool(value)
        if kind is int:
            return int(value)
        if kind is float:
            return float(value)
    except ValueError:
        raise ValueError(f"{key} takes {kind.__name__ if kind else 'a value'} values, not {value!r}") from None
    if kind is str:
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def parse_grid(items: list[str], aliases: dict[str, str] | None = None) -> dict[str, list[Any]]:
    """``["cell=rnn,lstm", "hidden=16,32"]`` → ``{"cell": ["rnn", "lstm"], "hidden_size": [16, 32]}``.

    Dashes in keys become underscores; ``aliases`` maps other spellings (the CLI's flag names) to field names.
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"a grid entry is KEY=V1,V2,..., not {item!r}")
        raw_key, raw_values = item.split("=", 1)
        key = raw_key.strip().replace("-", "_")
        key = (aliases or {}).get(key, key)
        values = [v.strip() for v in raw_values.split(",") if v.strip()]
        if not key or not values:
            raise ValueError(f"a grid entry needs a key and at least one value: {item!r}")
        if key in grid:
            raise ValueError(f"{key} appears twice in the grid; list all its values once: {key}=a,b,c")
        grid[key] = [coerce(key, v) for v in values]
    return grid


def parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` → [0, 1, 2]; ``"0-4"`` → [0, 1, 2, 3, 4]."""
    seeds: list[int] = []
    try:
        for part in (p.strip() for p in str(text).split(",")):
            if not part:
                continue
            if "-" in part[1:]:
                lo, hi = part.split("-", 1) if not part.startswith("-") else (part, part)
                span = range(int(lo), int(hi) + 1)
                if len(span) > MAX_RUNS:  # "0-9999999999" would build a list of ten billion seeds
                    raise OverflowError
                seeds += span
            else:
                seeds.append(int(part))
            if len(seeds) > MAX_RUNS:
                raise OverflowError
    except OverflowError:
        raise ValueError(f"at most {MAX_RUNS} seeds in one sweep") from None
    except ValueError:
        raise ValueError(f"seeds are whole numbers like 0,1,2 or 0-4, not {str(text)[:60]!r}") from None
    if not seeds:
        raise ValueError("give at least one seed (e.g. --seeds 0,1,2)")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"a seed appears twice in {text!r}")
    return seeds


def _slug(value: Any) -> str:
    return _UNSAFE.sub("_", str(value)).strip("_.") or "x"


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep, fully resolved: everything a worker needs, as plain data (no objects)."""

    index: int  # place in the sweep, 0-based
    name: str  # run folder name inside the sweep folder
    task: str
    preset: str
    point: dict[str, Any]  # this run's grid values (seed not included)
    seed: int
    task_options: dict[str, Any]  # every option the task is built with (preset's and the grid's)
    model: dict[str, Any]  # ModelConfig.to_dict()
    train: dict[str, Any]  # TrainConfig.to_dict()
    fault: str = ""  # test hook, one of FAULTS or ""

    @property
    def label(self) -> str:
        """``cell=lstm hidden_size=16 seed=0``: how the run is named in progress lines."""
        return " ".join([*(f"{k}={v}" for k, v in self.point.items()), f"seed={self.seed}"])


@dataclass(frozen=True)
class SweepSpec:
    """A task and preset, a grid (key → values; config field names or task options) and seeds.

    A key with one value is a fixed override for every run; ``varied`` lists the keys with more than one.
    ``faults`` ({run index: "raise" | "exit"}) is a test hook that makes that run's worker fail.
    """

    task: str
    preset: str | None = None
    grid: dict[str, list[Any]] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    faults: dict[int, str] = field(default_factory=dict)

    @property
    def preset_name(self) -> str:
        return self.preset or task_class(self.task).default_preset

    @property
    def varied(self) -> list[str]:
        return [k for k, v in self.grid.items() if len(v) > 1]

    def points(self) -> list[dict[str, Any]]:
        """Every combination of the grid's values, in the grid's order (one empty point for an empty grid)."""
        keys = list(self.grid)
        return [dict(zip(keys, combo)) for combo in itertools.product(*(self.grid[k] for k in keys))]

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "preset": self.preset_name, "grid": self.grid, "seeds": list(self.seeds)}

    def runs(self) -> list[RunSpec]:
        """One RunSpec per (point, seed), checked: unknown keys and impossible values raise ValueError
        before anything trains."""
        cls = task_class(self.task)
        preset = self.preset_name
        if preset not in cls.presets:
            raise ValueError(f"task {self.task!r} has no preset {preset!r}; presets: {', '.join(cls.presets)}")
        if "seed" in self.grid:
            raise ValueError("seed is not a grid key; list seeds with --seeds 0,1,2")
        known_options = set(cls.presets[preset].task) | set(get_task(self.task).options)
        unknown = [k for k in self.grid if k not in _CONFIG_TYPES and k not in known_options]
        if unknown:
            raise ValueError(
                f"unknown grid key(s) {', '.join(unknown)}: use model / train fields "
                f"({', '.join(sorted(_CONFIG_TYPES))}) or {self.task} options ({', '.join(sorted(known_options))})"
            )
        bad = [i for i, f in self.faults.items() if f not in FAULTS]
        if bad:
            raise ValueError(f"faults must be one of {FAULTS}")
        n = len(self.points()) * len(self.seeds)
        if n > MAX_RUNS:
            raise ValueError(f"this grid makes {n} runs; at most {MAX_RUNS} in one sweep")
        out: list[RunSpec] = []
        for point in self.points():
            options = {k: v for k, v in point.items() if k not in _CONFIG_TYPES}
            overrides = {k: v for k, v in point.items() if k in _CONFIG_TYPES}
            for seed in self.seeds:
                try:
                    task = get_task(self.task, **{**cls.presets[preset].task, **options})
                    mcfg, tcfg = task.configs(preset, **{**overrides, "seed": int(seed)})
                    check_params(mcfg)  # the Train page's and the CLI's cap
                except (TypeError, ValueError) as e:
                    where = " ".join(f"{k}={v}" for k, v in point.items())
                    raise ValueError(f"grid point {where or '(preset as is)'}: {e}") from None
                i = len(out)
                name = "-".join([f"r{i:03d}", *(f"{_slug(k)}-{_slug(v)}" for k, v in point.items()), f"seed{seed}"])
                out.append(RunSpec(
                    index=i, name=name[:80], task=self.task, preset=preset, point=dict(point), seed=int(seed),
                    task_options=dict(task.options), model=mcfg.to_dict(), train=tcfg.to_dict(),
                    fault=self.faults.get(i, ""),
                ))
        return out
