"""Unrolled's entrypoint: page config, then navigation over the page scripts in pages/ (see app/nav.py).

A page that fails unexpectedly shows a short message instead of a traceback (the traceback goes to the server
log); the other pages and the other browser sessions are untouched."""

import logging

import streamlit as st

from app import nav
from app.animation_guard import guard_animation_errors

st.set_page_config(page_title="Unrolled", page_icon="🔁", layout="wide")
# .streamlit/config.toml hides sidebar navigation, so the very first run of a fresh server — which Streamlit
# starts in its old pages/-folder mode because pages/ sits beside this script — never flashes the lower-case
# file names; our own navigation turns it back on.
st.set_option("client.showSidebarNavigation", True)
page = st.navigation(nav.sections())
nav.start_libraries()
with st.sidebar:  # an invisible script, kept out of the page's own layout
    guard_animation_errors()
try:
    page.run()
except Exception as exc:  # Streamlit's rerun/stop signals are not Exceptions and pass through
    logging.getLogger("unrolled").exception("page %s failed", page.title)
    st.error(f"Something went wrong on this page ({type(exc).__name__}). Other pages and your runs are not "
             "affected: reload the page, or pick another run or input. The details are in the server log.",
             icon=":material/error:")
