"""Unrolled's entrypoint: page config, then navigation over the page scripts in pages/ (see app/nav.py).

A page that fails unexpectedly shows a short message instead of a traceback (the traceback goes to the server
log); the other pages and the other browser sessions are untouched."""

import logging

import streamlit as st

from app import nav
from app.train import panel

st.set_page_config(page_title="Unrolled", page_icon="🔁", layout="wide")
# The shared job manager starts with the first page view, so torch's one-off warm-up is done by the time
# someone presses Train.
panel.job_manager()
page = st.navigation(nav.sections())
try:
    page.run()
except Exception as exc:
    logging.getLogger("unrolled").exception("page %s failed", page.title)
    st.error(f"Something went wrong on this page ({type(exc).__name__}). Other pages and your runs are not "
             "affected: reload the page, or pick another run or input. The details are in the server log.",
             icon=":material/error:")
