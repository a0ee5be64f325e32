"""Memory page: RNN, LSTM and GRU side by side on the same data and seed; accuracy against the memory span N on the
recall task; and for any run its gradient flow, connectivity, gate statistics and interventions."""

import streamlit as st

from app import run_access, session
from app.memory import compare, longmem, views

st.title("Memory")
st.write(
    "Why gates? A plain RNN's gradient shrinks at every step it travels back, so what came long ago stops "
    "mattering to learning; an LSTM's forget gate or a GRU's update gate can hold a state unchanged. Here you "
    "see it rather than take it on faith: the same task, the same data order, the same seed."
)

st.subheader("Train the cells side by side", divider="gray")
if (plan := compare.form()) is not None:
    compare.launch(plan)
compare.add_saved(st.session_state.get(session.MEMORY_TASK) or longmem.TASK)
compare.live()

st.subheader("How far back can each cell remember?", divider="gray")
st.write(
    "The recall task: a symbol (A–D), then N distractors, then the question *which symbol came first?* "
    "Test accuracy against N, each point the mean over seeds with a ± sd band."
)
if (path := longmem.pick()) is not None:
    longmem.chart(path)
longmem.live()
with st.expander("Train this grid yourself"):
    st.caption("The bundled chart was made by exactly this sweep (runs saved in the sweep's folder; "
               "mean and spread over the seeds). It trains in the background on this machine's cores.")
    longmem.launch_form()

st.subheader("Inside one run's memory", divider="gray")
run = run_access.pick_run(None, session.MEMORY_RUN, "No runs yet: train the cells above or on the Train page.",
                          default=longmem.DEFAULT_RUN)
if run.model_cfg.tagger:
    st.info("The char + word tagger's two recurrences are not analysed here; pick another run.", icon=":material/info:")
    st.stop()
flow_tab, conn_tab, gate_tab, iv_tab = st.tabs(["Gradient flow", "Connectivity", "Gate statistics", "Interventions"])
with flow_tab:
    views.gradient_flow(run)
with conn_tab:
    views.connectivity(run)
with gate_tab:
    views.gates(run)
with iv_tab:
    views.interventions(run)
