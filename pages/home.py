"""Landing page: what Unrolled is, where to start (one click each), what the preset names mean, and the tasks."""

import streamlit as st

from app.home import start

st.title("Unrolled")
st.write(
    "A lab for recurrent neural networks. Pick a task, train a small RNN, LSTM or GRU while you watch its "
    "loss and accuracy move, then look inside: the network unrolled over time, its hidden state, cell state "
    "and gates step by step, and how its prediction changes as the input grows."
)

st.subheader("Where to start")
start.where_to_start()

st.subheader("Preset names")
st.write("Every task on the Train page offers named presets — a whole setting in one pick:")
start.preset_names()

st.subheader("Tasks")
start.tasks_table()
