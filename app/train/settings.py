"""The Train page's settings as one flat dict, their allowed ranges, and their round trip through the URL
query string (so a link reproduces a configuration). Parsing never raises: a bad value is dropped with a
notice saying what was wrong. Pure Python, no ``st.*``: the widgets in ``form.py`` use these ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnn_core.config import BOUNDS, CELLS, INITS, OPTIMIZERS
from rnn_core.tasks import available, task_class


@dataclass(frozen=True)
class Field:
    """One setting: where it lives ("model" or "train" config) and what values it takes."""

    config: str  # "model" or "train"
    kind: type  # int, float, bool or str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def span(self) -> tuple[float, float]:
        """(low, high) of a numeric field, ends included."""
        if self.low is None or self.high is None:
            raise TypeError(f"a {self.kind.__name__} field with choices has no numeric range")
        return self.low, self.high

    def whole_span(self) -> tuple[int, int]:
        """``span()`` as whole numbers, for int fields' number inputs."""
        low, high = self.span()
        return int(low), int(high)


# URL names are the config field names, so a link reads like the config it makes; ranges are rnn_core's BOUNDS
# (lr's lower end 0 is typeable on purpose: the form explains why it can't train).
FIELDS: dict[str, Field] = {
    "cell": Field("model", str, choices=CELLS),
    "hidden_size": Field("model", int, *BOUNDS["hidden_size"]),
    "num_layers": Field("model", int, *BOUNDS["num_layers"]),
    "bidirectional": Field("model", bool),
    "dropout": Field("model", float, *BOUNDS["dropout"]),
    "init": Field("model", str, choices=INITS),
    "optimizer": Field("train", str, choices=OPTIMIZERS),
    "lr": Field("train", float, *BOUNDS["lr"]),
    "batch_size": Field("train", int, *BOUNDS["batch_size"]),
    "epochs": Field("train", int, *BOUNDS["epochs"]),
    "seed": Field("train", int, *BOUNDS["seed"]),
}
ORDER = ("task", "preset", *FIELDS)
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def default_task() -> str:
    tasks = available()
    return "letters" if "letters" in tasks else tasks[0]


def preset_settings(task: str, preset: str | None = None) -> dict[str, Any]:
    """The settings a task's preset gives (its default preset when ``preset`` is None)."""
    cls = task_class(task)
    preset = preset or cls.default_preset
    mcfg, tcfg = cls(**cls.presets[preset].task).configs(preset)
    values = {**mcfg.to_dict(), **tcfg.to_dict()}
    return {"task": task, "preset": preset, **{k: FIELDS[k].kind(values[k]) for k in FIELDS}}


def parse_value(name: str, raw: str) -> Any:
    """A query-string value → the setting's value; ValueError with a reason when it doesn't fit."""
    f = FIELDS[name]
    text = str(raw).strip()
    if f.kind is bool:
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise ValueError("use true or false")
    if f.kind is str:
        if text not in f.choices:
            raise ValueError(f"use one of {', '.join(f.choices)}")
        return text
    try:
        value = f.kind(float(text)) if f.kind is int and float(text).is_integer() else f.kind(text)
    except (TypeError, ValueError):
        raise ValueError(f"use a {'whole number' if f.kind is int else 'number'}") from None
    if f.kind is float and value != value:  # NaN
        raise ValueError("use a number")
    low, high = f.span()
    if not low <= value <= high:
        raise ValueError(f"use a value from {low:g} to {high:g}")
    return value


def from_query(params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Settings from query parameters: the task's preset, then every valid override on top.

    Returns ``(settings, notices)``; each ignored parameter gets one notice. Unknown names are ignored
    silently (other pages' parameters may share the URL).
    """
    notices: list[str] = []
    tasks = available()
    task = str(params.get("task", "")).strip() or default_task()
    if task not in tasks:
        notices.append(f"task={task!r} is not a task here (use one of {', '.join(tasks)}); showing {default_task()}.")
        task = default_task()
    presets = task_class(task).presets
    preset = str(params.get("preset", "")).strip() or None
    if preset is not None and preset not in presets:
        notices.append(f"preset={preset!r} is not a preset of {task} (use one of {', '.join(presets)}); ignored.")
        preset = None
    settings = preset_settings(task, preset)
    for name in FIELDS:
        if name not in params:
            continue
        try:
            settings[name] = parse_value(name, params[name])
        except ValueError as e:
            notices.append(f"{name}={params[name]!r} was ignored: {e}.")
    return settings, notices


def to_query(settings: dict[str, Any]) -> dict[str, str]:
    """Settings → query parameters (all of them, so the link still means the same if presets change)."""
    out = {}
    for name in ORDER:
        value = settings[name]
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = repr(value) if isinstance(value, float) else str(value)  # repr: floats round-trip exactly
    return out


def changed_from_preset(settings: dict[str, Any]) -> list[str]:
    """Names of settings that differ from their preset's value."""
    base = preset_settings(settings["task"], settings["preset"])
    return [k for k in FIELDS if settings[k] != base[k]]


def split_configs(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings as (model overrides, train overrides) for ``Task.configs``."""
    model = {k: v for k, v in settings.items() if k in FIELDS and FIELDS[k].config == "model"}
    train = {k: v for k, v in settings.items() if k in FIELDS and FIELDS[k].config == "train"}
    return model, train
