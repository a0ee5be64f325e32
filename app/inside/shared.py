"""Inside's figures shared across browser sessions: building an unrolled figure of a long review takes seconds
(plotly validates every animation frame), so each one is built once per run, input and view, and every later
session — and every rerun — gets the same figure at once, already in the form that is sent to the browser."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import plotly.graph_objects as go
import streamlit as st


class FrozenFigure(go.Figure):
    """A figure whose dict form was computed once. ``st.plotly_chart`` calls ``to_dict()`` on every script run, a
    deep copy of every trace and animation frame plus the base64 encoding of each array: for an unrolled review
    that is most of a second per rerun and per session, for a dict that cannot change since the figure is never
    mutated once shared."""

    _frozen: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        # Fresh top level and trace dicts: plotly.io.to_json pops each trace's "uid" from what it is given.
        return {**self._frozen, "data": [dict(t) for t in self._frozen.get("data", [])]}


def freeze(fig: go.Figure) -> FrozenFigure:
    """``fig`` itself (no copy: copying would validate every frame again), with its dict form computed now."""
    frozen = fig.to_dict()
    fig.__class__ = FrozenFigure
    fig._frozen = frozen
    return fig


@st.cache_resource(max_entries=24, show_spinner="Drawing the network unrolled over this input…")
def _built(key: str, _make: Callable[[], go.Figure]) -> FrozenFigure:
    # ``_make`` is left out of the cache key (leading underscore): ``key`` names everything the figure depends on.
    return freeze(_make())


def figure(key: tuple[Hashable, ...], make: Callable[[], go.Figure]) -> FrozenFigure:
    """``make()``, or the figure an earlier call with the same ``key`` built. ``key`` must hold everything the
    figure depends on (the run and its weights file's stamp, the input, every view setting). Never mutate the
    returned figure: other sessions draw it too, and what is sent to the browser was fixed when it was built."""
    return _built(repr(key), make)
