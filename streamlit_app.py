"""Unrolled's entrypoint: page config, then navigation over the page scripts in pages/ (see app/nav.py)."""

import streamlit as st

from app import nav

st.set_page_config(page_title="Unrolled", page_icon="🔁", layout="wide")
st.navigation(nav.sections()).run()
