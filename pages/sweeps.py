"""Sweeps page: a grid of runs (task + preset, values per field, seeds) trained in the background on this
machine's cores or a Ray cluster, a live table of its runs, then mean and spread over seeds per setting."""

import streamlit as st

from app.sweeps import form, view

st.title("Sweeps")
st.write(
    "One run can be luck: train a grid of settings over several seeds and compare means and spreads. Pick a "
    "task and preset, list the values to try — cells, hidden sizes, learning rates, any other field or task "
    "option — and the seeds. Every run is saved as an ordinary run (grouped in the sweep's folder) that the "
    "other pages can open; **Stop** keeps what has finished."
)
if (launch := form.grid_form()) is not None:
    view.launch(launch)
view.live_panel()

st.subheader("Results", divider="gray")
if (path := view.pick_sweep()) is not None:
    view.results(path)
