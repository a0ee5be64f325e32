"""Unrolled's entrypoint: page config, then navigation over the page scripts in pages/."""

import streamlit as st

st.set_page_config(page_title="Unrolled", page_icon="🔁", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
]
st.navigation(pages).run()
