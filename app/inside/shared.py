"""Inside's figures shared across browser sessions: building an unrolled figure of a long review takes seconds
(plotly validates every animation frame), so each one is built once per run, input and view, and every later
session — and every rerun — gets the same figure at once, already in the form that is sent to the browser."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from app.light_chart import figure_spec


@dataclass(frozen=True)
class SharedFigure:
    """A figure in the form sent to the browser (``spec``: plotly's JSON as a dict) and a name for it (``id``, a
    digest of everything it depends on) that tells the browser whether it already shows it."""

    spec: dict[str, Any]
    id: str


@st.cache_resource(max_entries=24, show_spinner="Drawing the network unrolled over this input…")
def _built(key: str, _make: Callable[[], go.Figure]) -> SharedFigure:
    # ``_make`` is left out of the cache key (leading underscore): ``key`` names everything the figure depends on.
    return SharedFigure(figure_spec(_make()), hashlib.sha256(key.encode()).hexdigest()[:16])


def figure(key: tuple[Hashable, ...], make: Callable[[], go.Figure]) -> SharedFigure:
    """``make()`` ready to send, or the one an earlier call with the same ``key`` built. ``key`` must hold
    everything the figure depends on (the run and its weights file's stamp, the input, every view setting). Never
    mutate the returned spec: other sessions draw it too."""
    return _built(repr(key), make)
