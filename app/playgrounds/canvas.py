"""A "Clear drawing" button for a drawing canvas: streamlit-drawable-canvas keeps its own undo / redo / clear
toolbar hidden until the mouse is over the canvas (inside the component's shadow root, out of reach of the page's
styles), so the pages offer a button that is always in view and say so instead of pointing at the toolbar."""

from __future__ import annotations

import streamlit as st

from .. import session


def key(name: str) -> str:
    """The canvas widget's key: a new one after each Clear, which gives a fresh, empty canvas."""
    return f"{name}.{st.session_state.get(session.CANVAS_ROUND + name, 0)}"


def _clear(name: str) -> None:
    st.session_state[session.CANVAS_ROUND + name] = st.session_state.get(session.CANVAS_ROUND + name, 0) + 1


def clear_button(name: str) -> None:
    """The always-visible button that empties canvas ``name``."""
    st.button("Clear drawing", icon=":material/ink_eraser:", key=f"clear_{name}", on_click=_clear, args=(name,),
              help="Start again on an empty canvas.")
