"""Session-state keys in one place, and the per-browser-session id that keys background jobs.

Pages and app modules read and write ``st.session_state`` only through the names defined here, so two
modules never disagree about a key (and a search for a key finds every use).
"""

from __future__ import annotations

import uuid

import streamlit as st

SESSION_ID = "session_id"  # str: uuid of this browser session; jobs are filed under it
SETTINGS = "train_settings"  # dict: the Train page's current settings (survives page switches)
URL_NOTICES = "url_notices"  # list[str]: query-string values that were ignored, shown once
URL_LOADED = "url_loaded"  # bool: the query string has been read for this session
CURRENT_JOB = "current_job"  # str: id of the job the Train page shows
CURRENT_RUN = "current_run"  # str: name of the run last trained or picked (Inside and playgrounds open it)
RUNS_TABLE = "runs_table"  # int: bumped after a rename or delete so the table's row selection starts afresh
PENDING_DELETE = "pending_delete"  # str: the run whose deletion waits for confirmation
RUNS_MESSAGE = "runs_message"  # (kind, text): outcome of the last rename or delete, shown once
TAGGING_TEXT = "tagging_text"  # str: the sentence in the Tagging page's text box
TAGGING_TRUTH = "tagging_truth"  # dict: the random test sentence last placed there (words, gold tags, sent_id)
CURRENT_SWEEP = "current_sweep"  # str: id of the background sweep the Sweeps page shows
SWEEP_SHOWN = "sweep_shown"  # str: path of the sweep folder whose results the Sweeps page shows
CANVAS_ROUND = "canvas_round."  # + canvas name → int: bumped by "Clear drawing" (app.playgrounds.canvas)
WIDGET_PREFIX = "w."  # Train-page widget keys are WIDGET_PREFIX + setting name (e.g. "w.hidden_size")
RENAME_PREFIX = "rename_"  # Runs page: RENAME_PREFIX + run name is the text box holding that run's new name
# Run pickers (app.run_access.pick_run): the picker's widget key holds the chosen run's folder; the key plus
# FOLLOWED_SUFFIX holds the current run the picker last followed (so it follows a newer one only once).
FOLLOWED_SUFFIX = "_followed"
SENTIMENT_RUN = "sentiment_run"  # str: the Sentiment page's run folder (its picker)
SENTIMENT_TEXT = "sentiment_text"  # str: the review in the Sentiment page's text box
SENTIMENT_LINKED = "sentiment_linked"  # str: the review last read from or written to ?review= (followed once)
SENTIMENT_TRUTH = "sentiment_truth"  # dict: the random test review last placed in the box (text, label, rating, id)
SINE_RUN = "sine_run"  # str: the Sine playground's run folder (its picker)
LETTERS_RUN = "letters_run"  # str: the Letters playground's run folder (its picker)
LETTERS_TEXT = "letters_text"  # str: the letters typed so far on the Letters playground
# dict read once by the Inside page: {"run": run folder, "run_name", "task", "text": the input to replay,
# "tokens", "cut", "source": the page that handed it over}
INSIDE_INPUT = "inside_input"
INSIDE_RUN = "inside.run"  # str: the Inside page's run folder (its picker)
INSIDE_LINKED = "inside.linked"  # str: the run named by ?run= last time, so a link is followed once
INSIDE_SOURCE = "inside.source"  # str: "Validation example" or "Your own input"
INSIDE_LEARN = "inside.learn.open"  # bool: the training replay's expander is open (its figure is drawn only then)
DYNAMICS_RUN = "dynamics_run"  # str: path of the run the Dynamics page analyses
DYNAMICS_TEXT = "dynamics_text"  # str: the review / letters / numbers typed on the Dynamics page
DYNAMICS_INPUT = "dynamics_input"  # str: the constant input the Dynamics page holds ("zero", "pad", "token", "value")
DYNAMICS_WORD = "dynamics_word"  # str: the word held constant on the Dynamics page
MEMORY_JOBS = "memory.jobs"  # list[str]: ids of the training jobs the Memory page compares (one per cell)
MEMORY_ADDED = "memory.added"  # list[str]: folders of saved runs added to the Memory page's comparison
MEMORY_TASK = "memory.task"  # str: the task the Memory page compares cells on
MEMORY_SWEEP = "memory.sweep"  # str: id of the accuracy-vs-N sweep the Memory page launched
MEMORY_SWEEP_SHOWN = "memory.sweep_shown"  # str: the accuracy-vs-N sweep folder the Memory page shows
MEMORY_RUN = "memory.run"  # str: the Memory page's diagnostics run folder (its picker)
MEMORY_LINES = "memory.lines"  # list[str]: run folders drawn as gradient-flow lines beside the picked run


def widget_key(setting: str) -> str:
    """The session-state key of the widget that edits ``setting``."""
    return WIDGET_PREFIX + setting


def inside_text(task: str) -> str:
    """The Inside page's text box for inputs of ``task`` (one per task, so each keeps its own example)."""
    return f"inside.text.{task}"


def session_id() -> str:
    """This browser session's id, created on first use. Jobs are visible only to the session that made them."""
    if SESSION_ID not in st.session_state:
        st.session_state[SESSION_ID] = uuid.uuid4().hex
    return st.session_state[SESSION_ID]


def current_run() -> str | None:
    """The run this session trained or picked last (None before any)."""
    return st.session_state.get(CURRENT_RUN)


def set_current_run(name: str | None) -> None:
    st.session_state[CURRENT_RUN] = name
