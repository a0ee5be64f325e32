"""Unrolled's entrypoint: page config, then navigation over the page scripts in pages/ (see app/nav.py)."""

import streamlit as st

from app import nav

st.set_page_config(page_title="Unrolled", page_icon="🔁", layout="wide")
# .streamlit/config.toml hides sidebar navigation, so the very first run of a fresh server — which Streamlit
# starts in its old pages/-folder mode because pages/ sits beside this script — never flashes the lower-case
# file names; our own navigation turns it back on.
st.set_option("client.showSidebarNavigation", True)
page = st.navigation(nav.sections())
nav.start_libraries()
page.run()
