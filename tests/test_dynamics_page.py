"""The Dynamics page through AppTest: the bundled sine model analysed end to end (numbers, the four views, Play
frames, slow-point picker, the rotation note), typed letters drawn as a trajectory with bad input flagged, and a
word outside the IMDB vocabulary refused with a message before any analysis runs."""

from __future__ import annotations

import pytest
from apptest_helpers import figures, open_app_page
from streamlit.testing.v1 import AppTest

from app import session
from rnn_core.runs import resolve_run

PAGE = "pages/dynamics.py"


def open_page(run: str, **keys) -> AppTest:
    return open_app_page(PAGE, timeout=600, **{session.DYNAMICS_RUN: str(resolve_run(run))}, **keys)



def names(fig: dict) -> list[str]:
    return [t.get("name") for t in fig["data"]]


@pytest.mark.slow
def test_sine_model_state_space_end_to_end():
    at = open_page("sine-tiny")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["PCs for 90 % of variance"].endswith("of 32")  # LSTM(16): state = [h, c]
    assert int(metrics["Slow points"].replace(",", "")) > 0
    text = " ".join(m.value for m in at.markdown)
    assert "circles the PC 1–PC 2 plane" in text  # the measured rotation, said plainly
    variance, space, eigen, _tau = figures(at)
    assert {"trained: per PC", "untrained: per PC"} <= set(names(variance))
    assert {"initial state", "slow points", "sine, 2 cycles"} <= set(names(space))
    assert len(space["frames"]) > 10 and space["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶ Play"
    assert "unit circle" in names(eigen)
    captions = [c.value for c in at.caption]
    assert sum(c.startswith("How to read") for c in captions) >= 4
    # another slow point → another set of eigenvalues
    before = eigen["data"][1]["x"]
    at.slider(key="dyn_point").set_value(min(5, int(metrics["Slow points"].replace(",", "")))).run()
    assert not at.exception
    assert figures(at)[2]["data"][1]["x"] != before


@pytest.mark.slow
def test_letters_trajectory_and_bad_input():
    at = open_page("letters-1in", **{session.DYNAMICS_TEXT: "abcab"})
    space = figures(at)[1]
    assert "your input" in names(space)
    at.text_area(key=session.DYNAMICS_TEXT).set_value("abz!").run()
    assert not at.exception
    assert any("Can't read that input" in w.value for w in at.warning)
    assert "your input" not in names(figures(at)[1])
    at.radio(key="dyn_view").set_value("3-D").run()  # the top three PCs, turnable
    assert not at.exception
    assert {t["type"] for t in figures(at)[1]["data"]} == {"scatter3d"}


def test_imdb_word_outside_vocabulary_is_refused_before_analysis():
    at = open_page("imdb-gru", **{session.DYNAMICS_INPUT: "token", session.DYNAMICS_WORD: "qqzzxq"})
    assert any("not among the model" in w.value for w in at.warning)  # shown quoted: the word is the person's
    assert not at.get("plotly_chart")
