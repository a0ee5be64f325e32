"""Train-page widget groups that return configs: ``task_form() -> (task, preset)``, ``model_form(task) ->
ModelConfig``, ``train_form(task) -> TrainConfig`` (None, with an ``st.error`` saying what to change, when the
settings can't train). Settings start from the URL, survive page switches and are written back to the URL.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from rnn_core.config import CELLS, INITS, OPTIMIZERS, ModelConfig, TrainConfig
from rnn_core.summary import param_count
from rnn_core.tasks import Task, available, get_task, task_class
from rnn_core.tasks.base import KIND_NAMES

from .. import session
from . import settings

MAX_PARAMS = 10_000_000  # a bigger model would take hours per epoch on a laptop CPU
CELL_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def _apply(values: dict[str, Any]) -> None:
    """Put settings into the widgets' session-state keys (before the widgets are drawn)."""
    for name, value in values.items():
        st.session_state[session.widget_key(name)] = value


def _on_task_change() -> None:
    _apply(settings.preset_settings(st.session_state[session.widget_key("task")]))


def _on_preset_change() -> None:
    wk = session.widget_key
    _apply(settings.preset_settings(st.session_state[wk("task")], st.session_state[wk("preset")]))


def current() -> dict[str, Any]:
    """The settings the widgets hold now."""
    return {name: st.session_state[session.widget_key(name)] for name in settings.ORDER}


def load_settings() -> list[str]:
    """Fill the widgets' state: from the URL on a session's first visit, else from the last settings
    (Streamlit forgets a widget's value once its page is left). Returns notices about ignored URL values."""
    if not st.session_state.get(session.URL_LOADED):
        values, notices = settings.from_query(st.query_params.to_dict())
        st.session_state[session.SETTINGS] = values
        st.session_state[session.URL_NOTICES] = notices
        st.session_state[session.URL_LOADED] = True
    saved = st.session_state[session.SETTINGS]
    _apply({k: v for k, v in saved.items() if session.widget_key(k) not in st.session_state})
    return st.session_state.pop(session.URL_NOTICES, [])


def save_settings() -> dict[str, Any]:
    """Remember the widgets' settings for this session and write them to the URL (a link reproduces them)."""
    values = current()
    st.session_state[session.SETTINGS] = values
    st.query_params.from_dict(settings.to_query(values))
    return values


def task_form() -> tuple[Task, str]:
    """Task and preset pickers; changing either resets the other settings to that preset's values."""
    wk = session.widget_key
    names = available()
    st.selectbox("Task", names, key=wk("task"), on_change=_on_task_change,
                 format_func=lambda n: f"{n} — {task_class(n).title}")
    cls = task_class(st.session_state[wk("task")])
    st.selectbox("Preset", list(cls.presets), key=wk("preset"), on_change=_on_preset_change)
    preset = st.session_state[wk("preset")]
    st.caption(f"{KIND_NAMES.get(cls.kind, cls.kind)} · {cls.presets[preset].description}")
    options = dict(cls.presets[preset].task)
    for name, (values, help_text) in get_task(cls.name, **options).option_choices().items():
        key = wk(f"option.{cls.name}.{name}")
        if st.session_state.get(key) not in values:
            st.session_state[key] = values[0]
        options[name] = st.radio(name.capitalize(), values, key=key, horizontal=True, help=help_text)
    task = get_task(cls.name, **options)
    if task.data_label():
        st.caption(f"Data: {task.data_label()}.")
    return task, preset


def model_form(task: Task) -> ModelConfig | None:
    """Cell, hidden size, layers, bidirectional, dropout and initialisation on top of the preset's model."""
    wk, f = session.widget_key, settings.FIELDS
    a, b = st.columns(2)
    a.selectbox("Cell", CELLS, key=wk("cell"), format_func=CELL_NAMES.__getitem__,
                help="RNN: Elman's tanh cell (Keras SimpleRNN). LSTM: input, forget and output gates and a cell "
                     "session. GRU: reset and update gates.")
    b.selectbox("Initialisation", INITS, key=wk("init"),
                help="keras: Glorot input weights, orthogonal recurrent weights, forget-gate bias 1. "
                     "torch: PyTorch's uniform default.")
    a, b = st.columns(2)
    a.number_input("Hidden units", *f["hidden_size"].whole_span(), step=1,
                   key=wk("hidden_size"), help="Units per direction in each layer.")
    b.number_input("Layers", *f["num_layers"].whole_span(), step=1, key=wk("num_layers"))
    a, b = st.columns(2, vertical_alignment="bottom")
    a.number_input("Dropout", f["dropout"].low, f["dropout"].high, step=0.05, key=wk("dropout"),
                   help="Between stacked layers only (PyTorch semantics): no effect with one layer.")
    b.toggle("Bidirectional", key=wk("bidirectional"))
    values = current()
    preset_model, _ = task.configs(values["preset"])
    try:
        cfg = preset_model.replace(**settings.split_configs(values)[0]).validate()
    except (TypeError, ValueError) as e:
        st.error(f"These model settings can't be built: {e}.")
        return None
    n = param_count(cfg)
    if n > MAX_PARAMS:
        st.error(f"This model would have {n:,} parameters; the Train page allows up to {MAX_PARAMS:,} "
                 "(more would take hours per epoch on a CPU). Lower the hidden units or the layers.")
        return None
    if cfg.dropout > 0 and cfg.num_layers == 1:
        st.caption("Dropout acts between stacked layers, so with one layer it changes nothing.")
    return cfg


def train_form(task: Task) -> TrainConfig | None:
    """Optimizer, learning rate, batch size, epochs and seed on top of the preset's training settings."""
    wk, f = session.widget_key, settings.FIELDS
    a, b = st.columns(2)
    a.selectbox("Optimizer", OPTIMIZERS, key=wk("optimizer"))
    b.number_input("Learning rate", f["lr"].low, f["lr"].high, step=0.001, format="%.5g", key=wk("lr"))
    a, b = st.columns(2)
    a.number_input("Batch size", *f["batch_size"].whole_span(), step=1, key=wk("batch_size"))
    b.number_input("Epochs", *f["epochs"].whole_span(), step=1, key=wk("epochs"))
    a, _ = st.columns(2)
    a.number_input("Seed", *f["seed"].whole_span(), step=1, key=wk("seed"),
                   help="Same seed and settings give the same curves.")
    values = current()
    _, preset_train = task.configs(values["preset"])
    try:
        return preset_train.replace(**settings.split_configs(values)[1]).validate()
    except (TypeError, ValueError) as e:
        st.error(f"These training settings can't train: {e}.")
        return None
