"""Landing page: what Unrolled is and which tasks it bundles."""

import pandas as pd
import streamlit as st

from rnn_core.tasks import list_tasks
from rnn_core.tasks.base import KIND_NAMES

st.title("Unrolled")
st.write(
    "A lab for recurrent neural networks. Pick a task, train a small RNN, LSTM or GRU while you watch its "
    "loss and accuracy move, then look inside: the network unrolled over time, its hidden state, cell state "
    "and gates step by step, and how its prediction changes as the input grows."
)

st.subheader("Tasks")
tasks = list_tasks()
if tasks:
    table = pd.DataFrame(
        [
            {
                "task": t["name"],
                "title": t["title"],
                "kind": KIND_NAMES.get(t["kind"], t["kind"]),
                "metric": t["metric"],
                "presets": ", ".join(t["presets"]),
            }
            for t in tasks
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
else:
    st.info("No tasks are available yet.")
