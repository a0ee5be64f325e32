"""Unrolled's entrypoint: page config, then navigation over the page scripts in pages/ (see app/nav.py)."""

import streamlit as st

from app import nav
from app.train import panel

st.set_page_config(page_title="Unrolled", page_icon="🔁", layout="wide")
# The shared job manager starts with the first page view, so torch's one-off warm-up is done by the time
# someone presses Train.
panel.job_manager()
st.navigation(nav.sections()).run()
