"""Digits: draw a digit (or pick a held-out one) and watch a recurrent network read it row by row — what it sees,
from which row it knows, and its hidden state and gates over the rows."""

import streamlit as st
import torch
from streamlit_drawable_canvas import st_canvas

from app import run_access
from app.digits import figure, reading
from app.inside import examples
from app.inside.figure import CAPTION, HOW_TO_READ, fig_inside
from app.playgrounds import canvas
from rnn_core.tasks.digit_images import DrawingError

SIDE = 280  # canvas pixels: ten per MNIST pixel
PEN = 18  # pen width in canvas pixels: about MNIST's stroke once the digit is fitted into 20×20

st.title("Digits")
st.write(
    "A recurrent network reads an image of a handwritten digit one row at a time, top to bottom — each row of "
    "pixels is one time step — and says which digit it is. Draw one with the mouse, or pick one it never trained "
    "on, then press Play to watch it become sure of its answer row by row."
)

run = run_access.pick_run("digits", "digits_run", "No digits model yet. Train one on the Train page (task digits), "
                          "or from a terminal: `python -m rnn_core train --task digits`.")
task = run.task
data_note = task.data_label()
st.caption(f"Trained and scored on {data_note}." if data_note else task.title)
columns = task.options.get("read") == "columns"
source = st.segmented_control("Input", ["Draw", "Held-out image"], default="Draw", key="digits_source")

left, right = st.columns(2)
target = None
try:
    if source == "Held-out image":
        test = examples.validation_split(run)
        i = left.number_input(f"Image (0–{len(test) - 1})", 0, len(test) - 1, 0, key="digits_image")
        x, target = test.x[int(i) : int(i) + 1], int(test.y[int(i)])
        left.caption(f"True label: **{target}** — image {int(i)} of the {len(test):,} held-out images "
                     f"({data_note or task.title}).")
        eye_title = f"held-out image, true label {target}"
    else:
        with left:
            drawn = st_canvas(stroke_width=PEN, stroke_color="#111111", background_color="#ffffff", height=SIDE,
                              width=SIDE, drawing_mode="freedraw", return_image_data=True,
                              key=canvas.key("digits_canvas"))
            canvas.clear_button("digits_canvas")
            st.caption("Draw one digit, large, in the middle of the box; **Clear drawing** starts over.")
        picture = drawn.image_data if drawn is not None else None
        if picture is None:
            raise DrawingError("The canvas is blank (or nearly): draw one digit, large, filling most of the box.")
        image = task.preprocess(picture)  # [side, side], made as the training images were
        x = task.image_to_input(torch.from_numpy(image).float()[None])  # [1, steps, features]
        eye_title = "your drawing, as the model sees it"
except DrawingError as e:
    right.info(str(e), icon=":material/draw:")
    st.stop()
except ValueError as e:  # the held-out images could not be loaded here (e.g. MNIST files not on this machine)
    right.warning(run_access.quote(e, 600), icon=":material/warning:")
    st.stop()

r = reading.read(run, x, run_access.pick_layer(run, "digits_layer"), target)
with right:
    st.plotly_chart(figure.fig_eye(r.image, eye_title), key="digits_eye", theme=None,
                    config={"displaylogo": False}, width="content")
    st.caption("How to read this: the exact image the network reads (fitted into 20×20 and centred by mass in "
               "28×28 for MNIST; 16 grey levels in 8×8 for scikit-learn's digits); hover for a pixel's value.")

st.subheader("Reading it")
st.markdown(reading.summary(r))
st.plotly_chart(figure.fig_reading(r, columns), key="digits_reading", theme=None, config={"displaylogo": False})
st.caption("How to read this: press Play or drag the slider — the red box is the row being read, the veiled rows "
           "are still to come; on the right, each line is one digit's probability if the image ended after that "
           "row (the final answer drawn thick), the dotted line marks the current row.")

st.subheader("Inside the network")
fig = fig_inside(r.replay, r.layer, r.prediction, prediction_title="p(digit)")
st.plotly_chart(fig, key="digits_inside", theme=None, config={"displaylogo": False})
st.caption(CAPTION)
st.caption("  \n".join([HOW_TO_READ[q] for q in r.replay.views(r.layer)["fwd"]] + [HOW_TO_READ["prediction.classify"]]))
