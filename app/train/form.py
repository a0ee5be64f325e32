"""Train-page widget groups that return configs: ``task_form() -> (task, preset)``, ``model_form(task) ->
ModelConfig``, ``train_form(task) -> TrainConfig`` (None, with an ``st.error`` saying what to change, when the
settings can't train). Settings start from the URL, survive page switches and are written back to the URL.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from rnn_core.config import CELLS, INITS, MAX_PARAMS, OPTIMIZERS, ModelConfig, TrainConfig
from rnn_core.summary import param_count
from rnn_core.tasks import Task, available, get_task, task_class
from rnn_core.tasks.base import KIND_NAMES

from .. import session
from . import settings
from .job_state import JobSpec

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
    """The settings the widgets hold now (only those that exist for the task picked)."""
    task = st.session_state[session.widget_key("task")]
    return {name: st.session_state[session.widget_key(name)] for name in settings.ORDER
            if name in ("task", "preset") or settings.applies(task, name)}


def load_settings() -> list[str]:
    """Fill the widgets' state: from the URL on a session's first visit or when a link names other settings than
    the session's (e.g. Home's "train your first network"), else from the last settings (Streamlit forgets a
    widget's value once its page is left). Returns notices about ignored URL values."""
    if not st.session_state.get(session.URL_LOADED) or _link_differs():
        values, notices = settings.from_query(st.query_params.to_dict())
        st.session_state[session.SETTINGS] = values
        st.session_state[session.URL_NOTICES] = notices
        st.session_state[session.URL_LOADED] = True
    saved = st.session_state[session.SETTINGS]
    _apply({k: v for k, v in saved.items() if session.widget_key(k) not in st.session_state})
    return st.session_state.pop(session.URL_NOTICES, [])


def _link_differs() -> bool:
    """The URL names a task and settings the session does not hold (this page writes its own settings to the URL,
    so after a sidebar click or a rerun the two agree, or the URL is empty)."""
    query = st.query_params.to_dict()
    if "task" not in query:
        return False
    held = st.session_state.get(session.SETTINGS)
    if not held:
        return True
    saved = settings.to_query(held)
    if any(saved.get(k) != v for k, v in query.items() if k in settings.ORDER):
        for name in settings.ORDER:  # the link's settings replace the widgets' values
            st.session_state.pop(session.widget_key(name), None)
        return True
    return False


def show_job(spec: JobSpec) -> None:
    """Put the settings ``spec`` was started with into the widgets (from a callback, before they are drawn), so
    that the form and the box show the same job."""
    values = settings.from_job(spec.task, spec.preset, {**spec.model_cfg.to_dict(), **spec.train_cfg.to_dict()},
                               spec.task_options)
    _apply(values)
    st.session_state[session.SETTINGS] = values
    st.query_params.from_dict(settings.to_query(values))  # else the next run would take the URL's as a new link
    for name, value in spec.task_options.items():  # the task's own option radios (digits' reading direction, ...)
        st.session_state[session.widget_key(f"option.{spec.task}.{name}")] = value


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
    changed = settings.changed_from_preset(current())
    preset = st.session_state[wk("preset")]
    st.selectbox("Preset", list(cls.presets), key=wk("preset"), on_change=_on_preset_change,
                 format_func=lambda p: f"{p} (modified)" if p == preset and changed else p)
    kind = KIND_NAMES.get(cls.kind, cls.kind)
    if changed:  # the description is of the preset as it was, no longer of the model below
        st.caption(f"{kind} · **Modified** from `{preset}`: {', '.join(changed)} changed. "
                   f"The preset as it was: {cls.presets[preset].description}")
    else:
        st.caption(f"{kind} · {cls.presets[preset].description}")
    options = {**cls.presets[preset].task, **settings.task_options(current())}
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


def advanced_form(task: Task) -> None:
    """Every other setting a preset of this task sets (embedding, input dropout, vocabulary, length, clipping,
    keep-best …), in a collapsed "Advanced" group; what the model and training settings above are built with."""
    wk, f = session.widget_key, settings.FIELDS
    names = [n for n in f if f[n].advanced and settings.shown(task.name, n)]
    with st.expander(f"Advanced · {len(names)} more settings"):
        cols = st.columns(2, vertical_alignment="bottom")
        for i, name in enumerate(names):
            field, col = f[name], cols[i % 2]
            label, help_text = ADVANCED_LABELS.get(name, (name, None))
            if field.kind is bool:
                col.toggle(label, key=wk(name), help=help_text)
            elif field.choices:
                col.selectbox(label, field.choices, key=wk(name), help=help_text)
            elif field.kind is int:
                col.number_input(label, int(field.low or 0), int(field.high or 0), step=1, key=wk(name),
                                 help=help_text)
            else:
                col.number_input(label, float(field.low or 0), float(field.high or 0), step=0.05, format="%.4g",
                                 key=wk(name), help=help_text)


# setting → (label, help) in the Advanced group
ADVANCED_LABELS: dict[str, tuple[str, str | None]] = {
    "embed_dim": ("Embedding size", "Width of each word's vector (token tasks)."),
    "input_dropout": ("Input dropout", "Share of the embedded / input values zeroed while training."),
    "word_dropout": ("Word dropout", "Share of known words replaced by the unknown-word id while training."),
    "char_embed_dim": ("Character embedding", "Width of each character's vector (tagger)."),
    "char_hidden": ("Character units", "Units per direction of the character-level network (tagger)."),
    "double_softmax": ("Double softmax", "Apply softmax twice, as the digits note's code does (learns far less)."),
    "clip_grad": ("Gradient clipping", "Largest gradient norm per step; 0 turns clipping off."),
    "weight_decay": ("Weight decay", "L2 penalty passed to the optimizer."),
    "val_fraction": ("Validation share", "Share of the training examples held out for validation; 0 uses the "
                     "task's own validation split."),
    "keep_best": ("Keep best epoch", "At the end, restore the weights of the epoch with the best validation score."),
    "limit": ("Training examples", "Use at most this many training examples; 0 uses them all."),
    "num_words": ("Vocabulary size", "The most frequent words kept; the rest read as unknown."),
    "maxlen": ("Max length", "Words per review kept; longer reviews are cut."),
    "truncating": ("Cut from", "pre: keep a long review's last words; post: its first."),
    "variant": ("Variant", "1in: one letter in, the next out; 4in: four letters in, the fifth out."),
    "data": ("Data", "random: sine waves of random frequency and phase; notes: the notes' windows of sin(k·π/9)."),
    "source": ("Images", "sklearn: the 8×8 digits that ship with scikit-learn; mnist: 28×28 MNIST files."),
}
