"""The app's navigation in one place: page groups, and which pages exist (a page still being written is left
out, so the app always starts). ``streamlit_app.py`` builds ``st.navigation`` from ``sections()``."""

from __future__ import annotations

import contextlib
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

ROOT = Path(__file__).resolve().parents[1]

# section -> [(script, title, icon)]
LAYOUT: dict[str, list[tuple[str, str, str]]] = {
    "": [("pages/home.py", "Home", ":material/home:")],
    "Train": [("pages/train.py", "Train", ":material/model_training:")],
    "Inside": [
        ("pages/inside.py", "Inside", ":material/visibility:"),
        ("pages/dynamics.py", "Dynamics", ":material/scatter_plot:"),
        ("pages/memory.py", "Memory", ":material/memory:"),
    ],
    "Playgrounds": [
        ("pages/sine_playground.py", "Sine playground", ":material/show_chart:"),
        ("pages/letters_playground.py", "Letters playground", ":material/abc:"),
        ("pages/sentiment.py", "Sentiment", ":material/reviews:"),
        ("pages/digits.py", "Digits", ":material/draw:"),
        ("pages/tagging.py", "Tagging", ":material/label:"),
    ],
    "Runs": [
        ("pages/runs.py", "Runs", ":material/folder_open:"),
        ("pages/sweeps.py", "Sweeps", ":material/grid_on:"),
    ],
}
DEFAULT = "pages/home.py"  # needs no download and no trained run


def exists(script: str) -> bool:
    """Whether a page script is present (and so in the navigation)."""
    return (ROOT / script).is_file()


def sections() -> dict[str, list[st.Page]]:
    """``{section: [st.Page]}`` of the pages that exist; empty sections are dropped."""
    out: dict[str, list[st.Page]] = {}
    for section, pages in LAYOUT.items():
        found = [st.Page(script, title=title, icon=icon, default=script == DEFAULT)
                 for script, title, icon in pages if exists(script)]
        if found:
            out[section] = found
    return out


def link(script: str, label: str, icon: str | None = None, **query: str) -> None:
    """``st.page_link`` to a page when it is in the navigation (nothing otherwise, e.g. when a page script is
    run on its own with ``streamlit run pages/x.py``)."""
    if not exists(script):
        return
    with contextlib.suppress(StreamlitAPIException):  # the page is not in this run's navigation
        st.page_link(script, label=label, icon=icon, query_params=query or None)
