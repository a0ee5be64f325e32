"""Inside's figures shared across browser sessions: building an unrolled figure of a long review takes seconds
(plotly validates every animation frame), so each one is built once per run, input and view, and every later
session — and every rerun — gets the same figure at once."""

from __future__ import annotations

from collections.abc import Callable, Hashable

import plotly.graph_objects as go
import streamlit as st


@st.cache_resource(max_entries=24, show_spinner="Drawing the network unrolled over this input…")
def _built(key: str, _make: Callable[[], go.Figure]) -> go.Figure:
    # ``_make`` is left out of the cache key (leading underscore): ``key`` names everything the figure depends on.
    return _make()


def figure(key: tuple[Hashable, ...], make: Callable[[], go.Figure]) -> go.Figure:
    """``make()``, or the figure an earlier call with the same ``key`` built. ``key`` must hold everything the
    figure depends on (the run and its weights file's stamp, the input, every view setting). Never mutate the
    returned figure: other sessions draw it too."""
    return _built(repr(key), make)
