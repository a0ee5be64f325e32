"""Home's "where to start" paths, the preset-name legend, and the tasks table with each preset's description."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rnn_core.tasks import available as task_names
from rnn_core.tasks import task_class
from rnn_core.tasks.base import KIND_NAMES

from .. import nav

# (page script, link label, icon, what the person does there, query parameters): the first-ten-minutes paths.
PATHS: list[tuple[str, str, str, str, dict[str, str]]] = [
    ("pages/sentiment.py", "Type a review", ":material/reviews:",
     "A bundled GRU reads your movie review word by word; watch its verdict change as you type.", {}),
    ("pages/sine_playground.py", "Draw a sine", ":material/show_chart:",
     "Draw a curve with the mouse; a small RNN reads it and draws the cosine it predicts, point by point.", {}),
    ("pages/train.py", "Train your first network", ":material/model_training:",
     "A recommended start: GRU(8) learns the letters task (a→b, …) in a few seconds while the curves move.",
     {"task": "letters", "preset": "default"}),
    ("pages/inside.py", "Look inside a bundled model", ":material/visibility:",
     "The IMDB GRU unrolled over a review: hidden state and gates per word, animated step by step.",
     {"run": "imdb-gru"}),
]
# What a preset's name says, for every task (each task's own presets are described in the table below).
PRESET_MEANING: dict[str, str] = {
    "seed": "the source notes' exact setting (model, optimizer, epochs), to reproduce their result",
    "seed-…": "another setting from the notes, or the same one on the notes' own data or code "
              "(seed-simplernn, seed-4in, seed-notes, seed-as-written)",
    "default": "our setting that learns the task well in little time",
    "quick": "a fast look: a smaller model or less data, done in about a minute",
    "mnist": "digits on 28×28 MNIST instead of scikit-learn's 8×8 digits",
}


def where_to_start() -> None:
    """Four one-click paths, a line each, two per row (so no label is cut off at a laptop's width)."""
    cols = [c for _ in range(0, len(PATHS), 2) for c in st.columns(2, gap="medium")]
    for col, (script, label, icon, line, query) in zip(cols, PATHS, strict=False):
        with col.container(border=True, height="stretch"):
            nav.link(script, f"**{label}**", icon, **query)
            st.caption(line)


def preset_names() -> None:
    """The preset-name legend."""
    st.markdown("\n".join(f"- `{name}` — {meaning}" for name, meaning in PRESET_MEANING.items()))


def tasks_table() -> None:
    """Every bundled task with its kind, metric and presets, and each preset's description."""
    rows = []
    for name in task_names():
        cls = task_class(name)
        for preset, p in cls.presets.items():
            rows.append({"task": name, "title": cls.title, "kind": KIND_NAMES.get(cls.kind, cls.kind),
                         "metric": cls.metric, "preset": preset + (" (task's default)" if preset == cls.default_preset
                                                                   else ""),
                         "what it sets": p.description})
    if not rows:
        st.info("No tasks are available yet.")
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={"what it sets": st.column_config.TextColumn(width="large")})
