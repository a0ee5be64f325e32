"""Task registry: ``get_task(name, **options)`` and ``list_tasks()``.

Modules are imported lazily so that listing tasks never reads a dataset.
"""

from __future__ import annotations

import importlib
from typing import Any

from .base import IGNORE_INDEX, KINDS, Preset, SeqData, Splits, Task

# name -> "module:Class"
_REGISTRY = {
    "letters": "letters:LettersTask",
    "sine": "sine:SineTask",
    "imdb": "imdb:ImdbTask",
    "digits": "digits:DigitsTask",
    "pos": "pos:PosTask",
    "recall": "recall:RecallTask",
}


def task_class(name: str) -> type[Task]:
    if name not in _REGISTRY:
        raise ValueError(f"unknown task {name!r}; choose one of: {', '.join(_REGISTRY)}")
    module, cls = _REGISTRY[name].split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)


def metric_of(name: str | None) -> str:
    """The metric task ``name`` is scored by, known without loading its data ("accuracy", the default, for a
    task this version doesn't know, e.g. a run saved by a newer one)."""
    try:
        return task_class(name or "").metric
    except (ValueError, ImportError):
        return Task.metric


def get_task(name: str, **options: Any) -> Task:
    """A fresh task object; ``options`` are task options (e.g. ``variant="4in"`` for letters)."""
    return task_class(name)(**options)


def available() -> list[str]:
    """Names of registered tasks whose module imports (a task still being written is left out)."""
    names = []
    for n in _REGISTRY:
        try:
            task_class(n)
        except ImportError:
            continue
        names.append(n)
    return names


def list_tasks() -> list[dict[str, Any]]:
    """``[{"name", "kind", "title", "metric", "presets": [...]}]`` for every task."""
    out = []
    for n in available():
        cls = task_class(n)
        out.append(
            {"name": n, "kind": cls.kind, "title": cls.title, "metric": cls.metric, "presets": list(cls.presets)}
        )
    return out


__all__ = [
    "IGNORE_INDEX",
    "KINDS",
    "Preset",
    "SeqData",
    "Splits",
    "Task",
    "available",
    "get_task",
    "list_tasks",
    "metric_of",
    "task_class",
]
