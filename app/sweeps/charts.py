"""Pure plotly figures of a sweep's results (no ``st.*``, unit-tested directly): a metric against one swept
field as the mean over seeds with a band of ± one standard deviation, one line per setting of the other
varied fields; and parallel coordinates over every run when more than one field varies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..style import FONT
from ..train.curves import PALETTE

READ_FIELD = ("How to read this: each dot is the mean over seeds at that value, the shaded band ± one standard "
              "deviation (a single seed has no band); hover for mean, sd, min, max and how many runs. A band "
              "wider than the gap between two dots means the seeds disagree more than the settings do.")
READ_PARALLEL = ("How to read this: one line per finished run, crossing each swept field's axis at its value and "
                 "ending at its metric; colour is the metric too. Drag along an axis to keep only some runs.")
MAX_LINES = 8  # more combinations of the other fields than this: they are averaged into one line


def _order(values: pd.Series) -> list:
    """The field's distinct values in a sensible order: numbers ascending, text as first seen."""
    uniq = list(dict.fromkeys(values.tolist()))
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in uniq):
        return sorted(uniq)
    return uniq


def _numeric(values: list) -> bool:
    return all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def fig_metric_vs_field(results: pd.DataFrame, field: str, metric: str, others: list[str]) -> go.Figure:
    """``metric`` (a results_frame column) against ``field``: mean over the finished runs of each value, a
    ± sd band, one line per combination of ``others`` (the other varied fields) when there are few."""
    done = results[(results["state"] == "finished") & results[metric].notna()] if metric in results else results[:0]
    combos = done.groupby(others, sort=False, dropna=False).ngroups if others else 1
    split = others if others and combos <= MAX_LINES else []
    fig = go.Figure()
    groups = done.groupby(split, sort=False, dropna=False) if split else [((), done)]
    xs = _order(done[field]) if not done.empty else []
    numeric = _numeric(xs)
    for i, (key, part) in enumerate(groups):
        key = key if isinstance(key, tuple) else (key,)
        name = ", ".join(f"{k}={v}" for k, v in zip(split, key)) or metric
        stats = part.groupby(field, sort=False)[metric].agg(["mean", "std", "min", "max", "count"])
        stats = stats.reindex([x for x in xs if x in stats.index])
        x = stats.index.tolist() if numeric else [str(v) for v in stats.index]
        mean, sd = stats["mean"].to_numpy(), stats["std"].fillna(0).to_numpy()
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(x=x, y=mean + sd, mode="lines", line={"width": 0}, showlegend=False,
                                 hoverinfo="skip", legendgroup=name))
        fig.add_trace(go.Scatter(x=x, y=mean - sd, mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=_rgba(color, 0.18), showlegend=False, hoverinfo="skip", legendgroup=name))
        fig.add_trace(go.Scatter(
            x=x, y=mean, mode="lines+markers", name=name, legendgroup=name, line={"color": color},
            customdata=np.stack([stats["std"].to_numpy(), stats["min"], stats["max"], stats["count"]], axis=-1),
            hovertemplate=(f"{field}=%{{x}}<br>{metric} mean %{{y:.4g}}<br>sd %{{customdata[0]:.3g}}"
                           "<br>min %{customdata[1]:.4g} · max %{customdata[2]:.4g}<br>%{customdata[3]} runs"
                           "<extra>%{fullData.name}</extra>"),
        ))
    fig.update_layout(font={"family": FONT}, height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title=field, yaxis_title=metric, hovermode="closest",
                      showlegend=bool(split), title={"text": f"{metric} vs {field}", "font": {"size": 14}})
    if numeric and len(xs) > 2 and min(xs) > 0 and max(xs) / min(xs) >= 20:
        fig.update_xaxes(type="log")  # learning rates and sizes spread over decades
    elif not numeric:
        fig.update_xaxes(type="category")
    return fig


def fig_parallel(results: pd.DataFrame, fields: list[str], metric: str) -> go.Figure:
    """Parallel coordinates over the finished runs: one axis per varied field, the metric last."""
    done = results[(results["state"] == "finished") & results[metric].notna()] if metric in results else results[:0]
    dims = []
    for f in fields:
        values = _order(done[f]) if not done.empty else []
        if _numeric(values):
            dims.append({"label": f, "values": done[f].astype(float).tolist()})
        else:
            codes = {v: i for i, v in enumerate(values)}
            dims.append({"label": f, "values": [codes[v] for v in done[f]], "tickvals": list(codes.values()),
                         "ticktext": [str(v) for v in codes]})
    dims.append({"label": metric, "values": done[metric].astype(float).tolist()})
    fig = go.Figure(go.Parcoords(
        dimensions=dims,
        line={"color": done[metric].astype(float).tolist(), "colorscale": "Viridis", "showscale": True,
              "colorbar": {"title": {"text": metric}}},
    ))
    fig.update_layout(font={"family": FONT}, height=360, margin={"l": 60, "r": 60, "t": 40, "b": 20})
    return fig
