"""The Train page's settings as one flat dict, their allowed ranges, and their round trip through the URL
query string (so a link reproduces a configuration). Parsing never raises: a bad value is dropped with a
notice saying what was wrong. Pure Python, no ``st.*``: the widgets in ``form.py`` use these ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnn_core.config import BOUNDS, CELLS, INITS, OPTIMIZERS
from rnn_core.tasks import available, task_class
from rnn_core.tasks.digits import SOURCES as DIGIT_SOURCES
from rnn_core.tasks.letters import VARIANTS as LETTER_VARIANTS
from rnn_core.tasks.sine import DATA_SOURCES as SINE_DATA

from ..quote import quote


@dataclass(frozen=True)
class Field:
    """One setting: where it lives ("model" or "train" config) and what values it takes."""

    config: str  # "model", "train" or "task" (a task option, e.g. IMDB's maxlen)
    kind: type  # int, float, bool or str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    advanced: bool = False  # drawn in the form's "Advanced" group, for the tasks it matters to (``shown``)

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
    # Advanced: the rest of what presets set (IMDB's input dropout, embedding, vocabulary and length, clipping …)
    "embed_dim": Field("model", int, *BOUNDS["embed_dim"], advanced=True),
    "input_dropout": Field("model", float, *BOUNDS["input_dropout"], advanced=True),
    "word_dropout": Field("model", float, 0.0, 0.9, advanced=True),
    "char_embed_dim": Field("model", int, 1, 512, advanced=True),
    "char_hidden": Field("model", int, 1, 1024, advanced=True),
    "double_softmax": Field("model", bool, advanced=True),
    "memory_bias": Field("model", float, -10.0, 10.0, advanced=True),
    "clip_grad": Field("train", float, 0.0, 100.0, advanced=True),
    "weight_decay": Field("train", float, *BOUNDS["weight_decay"], advanced=True),
    "val_fraction": Field("train", float, 0.0, 0.9, advanced=True),
    "keep_best": Field("train", bool, advanced=True),
    "limit": Field("train", int, 0, 10_000_000, advanced=True),
    "stop_at": Field("train", float, 0.0, 1e6, advanced=True),
    "num_words": Field("task", int, 100, 1_000_000, advanced=True),
    "maxlen": Field("task", int, 1, 100_000, advanced=True),
    "truncating": Field("task", str, choices=("pre", "post"), advanced=True),
    "variant": Field("task", str, choices=LETTER_VARIANTS, advanced=True),
    "data": Field("task", str, choices=SINE_DATA, advanced=True),
    "source": Field("task", str, choices=DIGIT_SOURCES, advanced=True),
    "noise": Field("task", float, 0.0, 3.0, advanced=True),
}
ORDER = ("task", "preset", *FIELDS)
ALWAYS_SHOWN = frozenset({"clip_grad", "weight_decay", "val_fraction", "keep_best", "limit"})  # every task trains
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def default_task() -> str:
    tasks = available()
    return "letters" if "letters" in tasks else tasks[0]


def applies(task: str, name: str) -> bool:
    """Whether setting ``name`` exists for ``task`` (a task option only for the task that has it)."""
    return FIELDS[name].config != "task" or name in task_class(task)().options


def shown(task: str, name: str) -> bool:
    """Whether the form shows setting ``name`` for ``task``: the main ones always, an advanced one when some preset
    of the task sets it (or it is a task option, or a training setting every task has)."""
    f = FIELDS[name]
    if not f.advanced:
        return True
    if f.config == "task":
        return applies(task, name)
    return name in ALWAYS_SHOWN or any(name in getattr(p, f.config) for p in task_class(task).presets.values())


def preset_settings(task: str, preset: str | None = None) -> dict[str, Any]:
    """The settings a task's preset gives (its default preset when ``preset`` is None)."""
    cls = task_class(task)
    preset = preset or cls.default_preset
    made = cls(**cls.presets[preset].task)
    mcfg, tcfg = made.configs(preset)
    values = {**mcfg.to_dict(), **tcfg.to_dict(), **made.options}
    return {"task": task, "preset": preset, **{k: FIELDS[k].kind(values[k]) for k in FIELDS if applies(task, k)}}


def from_job(task: str, preset: str | None, configs: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The settings a job was started with: its preset's, with every setting its model and training configs
    (``configs``, the two configs' fields in one dict) and task ``options`` hold, so the form can show the job
    the Train page's box shows."""
    values = preset_settings(task, preset if preset in task_class(task).presets else None)
    held = {**configs, **options}
    return {**values, **{k: FIELDS[k].kind(held[k]) for k in FIELDS if k in values and k in held}}


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
        notices.append(f"task “{quote(task)}” is not a task here (use one of {', '.join(tasks)}); "
                       f"showing {default_task()}.")
        task = default_task()
    presets = task_class(task).presets
    preset = str(params.get("preset", "")).strip() or None
    if preset is not None and preset not in presets:
        notices.append(f"preset “{quote(preset)}” is not a preset of {task} (use one of {', '.join(presets)}); "
                       "ignored.")
        preset = None
    settings = preset_settings(task, preset)
    for name in FIELDS:
        if name not in params or name not in settings:
            continue
        try:
            settings[name] = parse_value(name, params[name])
        except ValueError as e:
            notices.append(f"{name} “{quote(params[name])}” was ignored: {e}.")
    return settings, notices


def to_query(settings: dict[str, Any]) -> dict[str, str]:
    """Settings → query parameters (all of them, so the link still means the same if presets change)."""
    out = {}
    for name in ORDER:
        if name not in settings:  # a task option of another task
            continue
        value = settings[name]
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = repr(value) if isinstance(value, float) else str(value)  # repr: floats round-trip exactly
    return out


def changed_from_preset(settings: dict[str, Any]) -> list[str]:
    """Names of settings that differ from their preset's value."""
    base = preset_settings(settings["task"], settings["preset"])
    return [k for k in FIELDS if k in base and settings.get(k) != base[k]]


def split_configs(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings as (model overrides, train overrides) for ``Task.configs``."""
    model = {k: v for k, v in settings.items() if k in FIELDS and FIELDS[k].config == "model"}
    train = {k: v for k, v in settings.items() if k in FIELDS and FIELDS[k].config == "train"}
    return model, train


def task_options(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings that are options of the task (IMDB's num_words, maxlen, truncating), for ``get_task``."""
    return {k: v for k, v in settings.items() if k in FIELDS and FIELDS[k].config == "task"}
