"""Inside: one run's network unrolled over an input — hidden state, cell state and every gate per step,
animated in the browser — and, from the training probe, how those heatmaps changed as it learned."""

import streamlit as st

from app import run_access, session
from app.inside import examples, shared
from app.inside.data import NAMES, ORDERS, QUANTITIES, max_window, unit_order, window_bounds
from app.inside.figure import CAPTION, HOW_TO_READ, fig_unrolled
from app.light_chart import light_chart
from rnn_core.hooks import DIRECTIONS, directions
from rnn_core.probe import probe_epochs

ORDER_NAMES = {"index": "by index", "cluster": "similar units together", "peak": "by when they peak",
               "pc": "by leading component"}

st.title("Inside")
st.write(
    "Pick a trained run and an input, and see the network unrolled over it: time runs left to right, and for "
    "every step the hidden state, the cell state (LSTM) and each gate, one row per unit. Press Play to walk "
    "through the steps — the equations of one unit are worked out with that step's numbers — and, below, watch "
    "how the same heatmaps changed while the network learned."
)

# A run arrives by link (?run=), from another page (with the input to replay), or as the session's last.
handed = st.session_state.pop(session.INSIDE_INPUT, None) or {}
linked = st.query_params.get("run")
prefer = handed.get("run_name") or (linked if linked != st.session_state.get(session.INSIDE_LINKED) else None)
if handed.get("text"):
    st.session_state[session.INSIDE_SOURCE] = "Your own input"
    st.session_state[session.inside_text(handed.get("task", "imdb"))] = handed["text"]
run = run_access.pick_run(None, session.INSIDE_RUN, "No trained runs yet. Train one on the Train page (the letters "
                          "task takes seconds), or run `python -m rnn_core train --task letters`, then come back here.",
                          prefer=prefer, default="imdb-gru")
name = run.name
st.query_params["run"] = st.session_state[session.INSIDE_LINKED] = name
m = run.model_cfg
st.caption(f"{run.task.title or run.task.name} · {m.cell.upper()} {m.hidden_size} units × {m.num_layers} layer(s)"
           + (", bidirectional" if m.bidirectional else "") + f" · {len(run.metrics)} epochs trained")

# ------------------------------------------------------------------------------------------- input
# The input's controls share rows, so that the figure starts within the first screen at 1400×1000.
pick = st.columns(2)
source = pick[0].radio("Input", ["Validation example", "Your own input"], horizontal=True, key=session.INSIDE_SOURCE)
try:
    if source == "Validation example":
        data = examples.validation_split(run)
        i = pick[1].number_input(f"Example (0–{len(data) - 1})", 0, len(data) - 1, 0, key=f"inside.example.{name}")
        ex = examples.replay_validation(run, data, int(i))
        input_id: tuple = ("val", int(i))
    else:
        text_key = session.inside_text(run.task.name)
        st.session_state.setdefault(text_key, examples.EXAMPLE_INPUT.get(run.task.name, ""))
        text = st.text_area("Your input", key=text_key, help=examples.INPUT_HELP.get(run.task.name), height=80)
        ex = examples.replay_text(run, text)
        input_id = ("text", text)
except ValueError as e:
    st.error(run_access.quote(e, 400))
    st.stop()

# -------------------------------------------------------------------------------------------- view
dirs_all = directions(m.bidirectional)
cols = st.columns([1, 1.3, 1.4, 1, 1.4])
layer = cols[0].selectbox("Layer", range(m.num_layers), index=m.num_layers - 1, key=f"inside.layer.{name}")
dir_modes = {"both, side by side": dirs_all, "forward": DIRECTIONS[:1], "backward": DIRECTIONS[1:]}
dir_choice = cols[1].selectbox("Direction", list(dir_modes), key="inside.dir", disabled=not m.bidirectional)
dirs = dir_modes[dir_choice] if m.bidirectional else dirs_all
order_by = cols[2].selectbox("Order units", ORDERS, format_func=ORDER_NAMES.get, key="inside.order")
unit = cols[3].number_input("Unit", 0, m.hidden_size - 1, 0, key=f"inside.unit.{name}",
                            help="The unit whose equations the text above the figure works out, step by step.")
speed = cols[4].select_slider("Play speed (ms per step)", [150, 300, 450, 700, 1000], 450, key="inside.speed")
# A row of its own, so every chip shows its whole name (six for an LSTM).
qs = st.multiselect("Show", QUANTITIES[m.cell], default=list(QUANTITIES[m.cell]), key=f"inside.q.{m.cell}",
                    format_func=lambda q: f"{q} · {NAMES[q]}") or ["h"]


def draw(ex, key: str, input_id: tuple) -> None:
    """The unrolled figure for one replayed example (``input_id`` names it), windowed when it would be too big, with
    captions. The figure is built once per run, input and view and shared across sessions (app.inside.shared)."""
    views = ex.views(layer, dirs)
    seq = len(ex.steps)
    order = unit_order(views[dirs[0]]["h"], order_by)
    length = max_window(m.hidden_size, len(qs), len(dirs))
    start = 0
    if seq > length:
        start = st.slider("Window start (step)", 0, seq - length, 0, key=f"{key}.start.{seq}.{length}")
        st.caption(f"Showing steps {start}–{start + length - 1} of {seq}: the figure is cut to a {length}-step window "
                   "so it stays light in the browser. Move the window, or show fewer quantities for a wider one.")
    view = (str(run.path), run_access.run_stamp(run.path), input_id, layer, dirs, tuple(qs), order_by, int(unit),
            start, length, speed)
    fig = shared.figure(view, lambda: fig_unrolled(
        views, ex.steps, m.cell, quantities=tuple(qs), order=order, unit=int(unit),
        window=window_bounds(seq, length, start), inputs=ex.inputs,
        input_names=list(run.task.vocab.get("alphabet", "")) or None, prediction=ex.prediction, frame_ms=speed,
        prediction_title="p(next)" if run.task.name == "letters" else None))
    light_chart(fig.spec, fig.id, key=key)
    st.caption(CAPTION)
    lines = [HOW_TO_READ[q] for q in qs] + [HOW_TO_READ["prediction." + run.task.kind]] + ([ex.note] if ex.note else [])
    if m.bidirectional and m.head == "last":
        lines.append(HOW_TO_READ["prediction.bidirectional"])
    st.caption("  \n".join(lines))


draw(ex, "inside.fig", input_id)

# ------------------------------------------------------------------------------------ learning
learned = "gates" if m.cell != "rnn" else "hidden state"  # a plain RNN has no gates to watch
st.subheader(f"Watch the {learned} learn")
epochs = probe_epochs(run.probe) if run.probe else []
if not epochs:
    st.info("This run has no training probe. Runs trained on the Train page record one: the first validation "
            "example replayed after every epoch.", icon=":material/history:")
else:
    st.write("The same view for the first validation example, as the network saw it after each epoch of "
             f"training (epoch 0 is the untrained network). Slide through the epochs to see the {learned} settle.")
    # Drawn only when opened: a second figure would double what a fresh browser draws before the page is ready.
    learn = st.expander("Show the training replay", icon=":material/history:", key=session.INSIDE_LEARN,
                        on_change="rerun")
    if learn.open:
        with learn:
            # One slider per run, so it opens on this run's final epoch rather than where another run's was left.
            epoch = st.select_slider("Epoch", epochs, value=epochs[-1], key=f"inside.epoch.{name}")
            try:
                draw(examples.replay_probe(run, int(epoch)), "inside.learn", ("probe", int(epoch)))
            except ValueError as e:  # a probe that passed the load checks yet can't be replayed
                st.warning(f"The training replay can't be shown: {run_access.quote(e, 300)}")
