"""Train page: pick a task and preset (or set every hyperparameter), see the model's summary, train it in the
background and watch loss and accuracy move. Settings live in the URL, so a link reproduces them."""

import pandas as pd
import streamlit as st

from app.train import baseline, form, panel
from rnn_core.config import ModelConfig
from rnn_core.model import build_model
from rnn_core.summary import summary, summary_text


@st.cache_data(max_entries=64)
def model_summary(model_cfg: dict) -> tuple[pd.DataFrame, str, str]:
    """(Keras-style layer table, totals line, the summary as Keras prints it) for a model config."""
    model = build_model(ModelConfig.from_dict(model_cfg))
    rows = summary(model)
    table = pd.DataFrame({"Layer (type)": [f"{r['layer']} ({r['type']})" for r in rows],
                          "Output shape": [r["output_shape"] for r in rows],
                          "Param #": [f"{r['params']:,}" for r in rows]})
    total, keras = sum(r["params"] for r in rows), sum(r["keras_params"] for r in rows)
    note = "" if keras == total else f" (Keras would report {keras:,}: one bias per gate where torch keeps two.)"
    return table, f"**Total params: {total:,}**, all trainable.{note}", summary_text(model)


st.title("Train")
st.write(
    "Pick a task and a preset — `seed` is the source notes' exact setting, `default` a setting that learns "
    "well — or change any hyperparameter yourself. Training runs in the background: the curves below update "
    "twice a second while you keep using the page, **Stop** ends it within a second and keeps what was "
    "learned, and every run is saved to the Runs page. The address bar always holds these settings, so a "
    "link reproduces them."
)
for notice in form.load_settings():
    st.warning(f"From the link: {notice}", icon=":material/link_off:")

settings_col, main_col = st.columns([2, 3], gap="large")
with settings_col:
    task, preset = form.task_form()
    st.subheader("Model", divider="gray")
    model_cfg = form.model_form(task)
    st.subheader("Training", divider="gray")
    train_cfg = form.train_form(task)
    form.advanced_form(task)
    form.save_settings()

with main_col:
    # Train and the live curves first, so they are on screen without scrolling; the summary below them.
    ready = model_cfg is not None and train_cfg is not None
    if st.button("Train", type="primary", icon=":material/play_arrow:", disabled=not ready,
                 help=None if ready else "Fix the settings marked in red first."):
        panel.start(task, preset, model_cfg, train_cfg)
    panel.job_panel()
    baseline.baseline_note(task.name)  # IMDB only: the TF-IDF baseline beside the RNN's accuracy
    st.subheader("Model summary")
    if model_cfg is not None:
        table, totals, text = model_summary(model_cfg.to_dict())
        st.table(table, hide_index=True, border="horizontal")
        st.markdown(totals)
        with st.expander("As Keras prints it"):
            st.code(text, language=None)
        st.caption("How to read this: one row per layer, input first. `None` stands for the batch (and for any "
                   "sequence length); Param # counts the weights and biases training adjusts.")
