"""Sine playground: draw a curve (or pick a preset wave) and see what a sine → cosine model makes of it, step by
step, with its hidden state and gates beneath."""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app import run_access, session
from app.inside.figure import CAPTION, fig_inside
from app.playgrounds import canvas, sine, stroke
from rnn_core.tasks.sine import FREQ_RANGE, make_wave

W, H = 560, 210  # canvas pixels: fits the main column of a 1024-pixel-wide window beside the sidebar
WAVES = {"sine": "Sine", "square": "Square", "sawtooth": "Sawtooth", "noisy_sine": "Noisy sine"}

st.title("Sine playground")
st.write(
    "A network trained to read a sine wave one step at a time and answer, at every step, with the matching "
    "cosine — the same wave a quarter period ahead. Draw any curve with the mouse, or pick a preset wave, and "
    "see what it answers: on a sine it should trace the cosine; on a square wave or your own scribble you see "
    "what it actually learned. Below, the hidden state (and for LSTM / GRU the gates) shows how it got there."
)

run = run_access.pick_run("sine", session.SINE_RUN, "No sine model yet. Train one on the Train page (task sine), or "
                          "from a terminal: `python -m rnn_core train --task sine --preset default`.")
n = int(run.task.options.get("window", 60))
source = st.segmented_control("Input", ["Draw", "Preset wave"], default="Draw", key="sine_source")

cosine = None
if source == "Preset wave":
    c1, c2, c3, c4, c5 = st.columns([1.2, 1, 1, 1, 1])
    kind = c1.selectbox("Wave", list(WAVES), format_func=WAVES.get, key="sine_kind")
    freq = c2.slider("Frequency", 0.5, 6.0, 2.0, 0.1, key="sine_freq",
                     help=f"Cycles per 60 steps; the model was trained on {FREQ_RANGE[0]:g} to {FREQ_RANGE[1]:g}.")
    phase = c3.slider("Phase (°)", 0, 360, 0, 15, key="sine_phase")
    amp = c4.slider("Amplitude", 0.1, 2.0, 1.0, 0.1, key="sine_amp", help="The model was trained on amplitude 1.")
    noise = c5.slider("Noise", 0.0, 0.5, 0.1, 0.05, key="sine_noise", disabled=kind != "noisy_sine",
                      help="Standard deviation of the Gaussian noise added to the noisy sine.")
    values, cosine = make_wave(kind, n, freq, np.radians(phase), amp, noise if kind == "noisy_sine" else None)
    caption = f"{WAVES[kind].lower()} wave, {freq:g} cycles per 60 steps, phase {phase}°, amplitude {amp:g}"
else:
    scale = st.radio("Vertical scale", ["fit", "canvas"], key="sine_scale", horizontal=True,
                     format_func={"fit": "Stretch to ±1", "canvas": "Canvas edges = ±1"}.get,
                     help="Stretch: your lowest point becomes −1 and your highest +1, like the training sines. "
                          "Canvas edges: the top edge is +1, the middle line 0, the bottom −1.")
    drawn = st_canvas(stroke_width=3, stroke_color=sine.PRED, background_image=sine.canvas_grid(W, H, n),
                      height=H, width=W, drawing_mode="freedraw", key=canvas.key("sine_canvas"))
    canvas.clear_button("sine_canvas")
    st.caption(f"Draw from left to right; a faint line marks every 10 of the model's {n} steps. **Clear drawing** "
               "starts over (with the mouse over the canvas, its own undo and redo appear too).")
    curve = stroke.curve_from_canvas(drawn.json_data, n, W, H, scale)
    for note in curve.notices:
        st.caption(f":material/info: {note}")
    if not curve.ok:
        st.info(curve.problem, icon=":material/gesture:")
        st.stop()
    values = curve.values
    caption = f"your drawing, resampled to {n} steps"
    fit = sine.nearest_sine(values)
    if fit.is_sine():
        cosine = fit.cosine
        caption += (f" — close to a sine ({fit.freq:.2g} cycles per 60 steps, explains {fit.r2:.0%} of it), so the "
                    "dashed line is that sine's cosine")

values = np.asarray(values, dtype=np.float64)
layer = run_access.pick_layer(run, "sine_layer")
rep = run_access.replay(run.model, run.task, values, target=cosine)
pred = rep.logits[:, 0]  # [seq] the model's cosine at each step
warm = run.task.warmup

st.subheader("What the model answers")
if cosine is not None:
    st.caption(f"Input: {caption}. Error (mean squared, after step {warm}): "
               f"**{sine.sine_error(pred, cosine, warm):.4f}**")
else:
    st.caption(f"Input: {caption}. This input is not a sine, so there is no true cosine to compare with.")
st.plotly_chart(sine.fig_sine(values, pred, cosine, warmup=warm if cosine is not None else 0), key="sine_curves",
                config={"displaylogo": False})
st.caption(
    "How to read this: grey is the input the model reads, red its answer at each step"
    + (", dashed blue the true cosine; the bars below are the error at each step (answer − truth). The first "
       f"{warm} steps (shaded) are hard for any model: it has not yet seen whether the wave is rising and how fast."
       if cosine is not None else "; for a sine it would be the cosine, for other shapes it shows what the "
       "network extrapolates.")
)

st.subheader("Inside the network")
st.plotly_chart(fig_inside(rep, layer, prediction_title="cosine"), key="sine_inside", config={"displaylogo": False})
st.caption(CAPTION)
