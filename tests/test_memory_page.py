"""The Memory page through AppTest: a bundled run's gradient flow, connectivity, gate statistics and an
intervention drawn with their captions; the side-by-side form queues one job per cell with the same seed; the
accuracy-vs-N chart appears from the bundled sweep without training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import session
from app.memory import longmem
from rnn_core.runs import resolve_run

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "streamlit_app.py")
PAGE = "pages/memory.py"


def open_page(run: str, **keys) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=600).run()
    at.session_state[session.MEMORY_RUN] = str(resolve_run(run))
    for k, v in keys.items():
        at.session_state[k] = v
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def titles(at: AppTest) -> list[str]:
    return [(json.loads(c.proto.spec)["layout"].get("title") or {}).get("text", "") for c in at.get("plotly_chart")]


@pytest.mark.slow
def test_diagnostics_of_a_bundled_lstm():
    at = open_page("sine-tiny")
    got = titles(at)
    assert any(t.startswith("|d loss / d h_t| of sine-tiny") for t in got)
    assert "‖d loss / d h_t‖ per step (validation batch)" in got
    assert any(t.startswith("Influence of each input step") for t in got)
    assert "Gate saturation per unit" in got
    assert any(t.startswith("h: unmodified") for t in got) and any(t.startswith("c: unmodified") for t in got)
    captions = " ".join(c.value for c in at.caption)
    for word in ("Healthy", "Vanishing", "Unhealthy"):
        assert word in captions
    at.selectbox(key="memory.iv.kind").set_value("reset the state").run()
    assert not at.exception
    at.number_input(key="memory.iv.step").set_value(10).run()
    assert not at.exception and any(t.startswith("h: unmodified") for t in titles(at))


@pytest.mark.slow
def test_bundled_accuracy_vs_n_needs_no_training():
    bundled = longmem.sweeps()
    assert bundled and bundled[-1].name == longmem.BUNDLED
    at = open_page("letters-4in")
    chart = [t for t in titles(at) if t.startswith("test_accuracy vs distractors")]
    assert chart
    table = at.dataframe[1].value if len(at.dataframe) > 1 else None
    assert table is not None and {"rnn", "lstm", "gru"} <= set(table.columns)
