"""The app's navigation in one place: page groups, and which pages exist (a page still being written is left
out, so the app always starts). ``streamlit_app.py`` builds ``st.navigation`` from ``sections()``."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from . import heap

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
# task -> (the playground that opens its runs, its title)
PLAYGROUND: dict[str, tuple[str, str]] = {
    "letters": ("pages/letters_playground.py", "Letters playground"),
    "sine": ("pages/sine_playground.py", "Sine playground"),
    "imdb": ("pages/sentiment.py", "Sentiment"),
    "digits": ("pages/digits.py", "Digits"),
    "pos": ("pages/tagging.py", "Tagging"),
}


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


def start_libraries() -> None:
    """Load torch and the app's training side and start the shared job manager, before any page runs.

    Every session does this first and in the same order: two sessions importing the same modules in different
    orders (one page starting from rnn_core.tasks, another from the job manager) can deadlock Python's import
    locks on a fresh server. Only the first visit after a restart waits for it, with a status saying so; the
    job manager's start means torch's one-off warm-up is done by the time someone presses Train.
    """
    if "app.train.panel" in sys.modules:
        # Through the import system, not sys.modules: while another session is still importing it, the module
        # is there half-initialised (no job_manager yet); the import statement waits for that session to finish.
        from .train import panel as loaded

        loaded.job_manager()
        return
    status = st.empty()
    status.info("Starting Unrolled: loading PyTorch — only on the first visit after the server starts…",
                icon=":material/hourglass_top:")
    from .train import panel  # here, not at the top: the navigation above is drawn before this takes seconds

    panel.job_manager()
    heap.freeze_loaded()  # the libraries just loaded stay out of every later garbage collection
    status.empty()
