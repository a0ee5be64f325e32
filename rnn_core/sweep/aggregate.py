"""A sweep's results as tables: one row per run (``results_frame``), and per grid point the mean, standard
deviation (over seeds, n − 1 in the denominator), min and max of every final metric (``summary_frame``,
and ``summarize`` for the CLI's JSON). Only runs that finished count; failed ones are counted apart."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from .store import SweepFolder

STATS = ("mean", "std", "min", "max")
COUNTED = ("finished",)  # stopped / diverged / failed runs would skew the spread, so they are only counted


def _records(source: SweepFolder | Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(source.runs if isinstance(source, SweepFolder) else source)


def grid_keys(source: SweepFolder | Iterable[dict[str, Any]]) -> list[str]:
    """The grid's keys in order (from the spec when given a folder, else from the records' points)."""
    if isinstance(source, SweepFolder):
        return list((source.spec.get("grid") or {}).keys())
    keys: dict[str, None] = {}
    for rec in _records(source):
        keys.update(dict.fromkeys(rec.get("point") or {}))
    return list(keys)


def results_frame(source: SweepFolder | Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per run: ``index, name, <grid keys>, seed, state, message, seconds, path`` and one column per
    final metric (``val_accuracy``, ``test_accuracy``, ``val_mse``, ...)."""
    rows = []
    keys = grid_keys(source)
    for rec in _records(source):
        row: dict[str, Any] = {"index": rec.get("index"), "name": rec.get("name")}
        row.update({k: (rec.get("point") or {}).get(k) for k in keys})
        row.update(seed=rec.get("seed"), state=rec.get("state"), message=rec.get("message"),
                   seconds=rec.get("seconds"), path=rec.get("path"))
        row.update({k: v for k, v in (rec.get("final_metrics") or {}).items() if isinstance(v, (int, float))})
        rows.append(row)
    return pd.DataFrame(rows)


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The metric columns of a results frame (``train_*``, ``val_*``, ``test_*``)."""
    return [c for c in frame.columns if str(c).startswith(("train_", "val_", "test_"))]


def summary_frame(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per grid point (the ``keys`` columns): ``n`` finished runs, ``failed`` others, and for each metric
    ``<metric>_mean``, ``_std``, ``_min``, ``_max`` over the finished runs' seeds."""
    if frame.empty:
        return pd.DataFrame(columns=[*keys, "n", "failed"])
    metrics = metric_columns(frame)
    rows = []
    groups = frame.groupby(keys, sort=False, dropna=False) if keys else [((), frame)]
    for point, part in groups:
        point = point if isinstance(point, tuple) else (point,)
        done = part[part["state"].isin(COUNTED)]
        row: dict[str, Any] = dict(zip(keys, point))
        row.update(n=len(done), failed=int(len(part) - len(done)), runs=[p for p in done["path"] if p])
        for m in metrics:
            values = pd.to_numeric(done[m], errors="coerce").dropna()
            row[f"{m}_mean"] = float(values.mean()) if len(values) else math.nan
            row[f"{m}_std"] = float(values.std(ddof=1)) if len(values) > 1 else math.nan
            row[f"{m}_min"] = float(values.min()) if len(values) else math.nan
            row[f"{m}_max"] = float(values.max()) if len(values) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _num(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else float(value)


def summarize(folder: SweepFolder) -> list[dict[str, Any]]:
    """The CLI's per-point JSON: ``[{"point": {...}, "n", "failed", "metrics": {m: {mean, std, min, max}},
    "runs": [folders], "errors": [messages of runs that did not finish]}]`` (std is null for one seed)."""
    frame = results_frame(folder)
    keys = grid_keys(folder)
    table = summary_frame(frame, keys)
    metrics = metric_columns(frame)
    out = []
    for _, row in table.iterrows():
        point = {k: row[k] for k in keys}
        mask = pd.Series(True, index=frame.index)
        for k in keys:
            mask &= frame[k] == point[k]
        errors = [f"{n}: {m}" for n, s, m in zip(frame[mask]["name"], frame[mask]["state"], frame[mask]["message"])
                  if s not in COUNTED]
        out.append({
            "point": {k: (v.item() if hasattr(v, "item") else v) for k, v in point.items()},
            "n": int(row["n"]),
            "failed": int(row["failed"]),
            "metrics": {m: {s: _num(row[f"{m}_{s}"]) for s in STATS} for m in metrics},
            "runs": list(row["runs"]),
            "errors": errors,
        })
    return out
