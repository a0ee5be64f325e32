"""The Memory page through AppTest: a bundled run's gradient flow, connectivity, gate statistics and an
intervention drawn with their captions; the side-by-side form queues one job per cell with the same seed; the
accuracy-vs-N chart appears from the bundled sweep without training."""

from __future__ import annotations

import json

import pytest
from apptest_helpers import open_app_page
from streamlit.testing.v1 import AppTest

from app import session
from app.memory import longmem
from rnn_core.runs import resolve_run

PAGE = "pages/memory.py"


def open_page(run: str, **keys) -> AppTest:
    return open_app_page(PAGE, timeout=600, **{session.MEMORY_RUN: str(resolve_run(run))}, **keys)


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
    tables = [d.value for d in at.dataframe if {"rnn", "lstm", "gru"} <= set(d.value.columns)]
    assert len(tables) == 1
    assert tables[0].loc[5, "lstm"].endswith("3 seeds)") and set(tables[0].index) == {5, 10, 20, 40}


@pytest.mark.slow
def test_side_by_side_trains_every_cell_with_one_seed(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(tmp_path))
    at = open_page("letters-4in")
    at.selectbox(key=session.MEMORY_TASK).set_value("recall").run()
    form = at.get("form")[0] if at.get("form") else None
    assert form is not None
    at.radio[0].set_value("same parameter budget")
    at.number_input[0].set_value(16)  # hidden size
    at.number_input[1].set_value(1)  # epochs
    at.number_input[2].set_value(7)  # seed
    at.button[0].click().run()
    assert not at.exception, at.exception
    from app.train.panel import job_manager

    ids = at.session_state[session.MEMORY_JOBS]
    snaps = [job_manager().snapshot(at.session_state[session.SESSION_ID], j) for j in ids]
    assert [s.spec.model_cfg.cell for s in snaps] == ["rnn", "lstm", "gru"]
    assert {s.spec.train_cfg.seed for s in snaps} == {7} and len({s.spec.train_cfg for s in snaps}) == 1
    sizes = {s.spec.model_cfg.cell: s.spec.model_cfg.hidden_size for s in snaps}
    assert sizes["lstm"] == 16 and sizes["rnn"] > sizes["gru"] > 16  # one parameter budget
    for j in ids:
        job_manager().wait(j, 600)
    at.run()
    assert not at.exception
    assert any(t == "Training curves, overlaid" for t in titles(at))


@pytest.mark.slow
def test_a_one_step_input_explains_its_only_step():
    """Connectivity on a one-letter input: one output step to explain, so no step slider (Streamlit refuses a slider
    from 0 to 0) and no error; the page's other views still draw."""
    at = open_page("letters-4in", **{"memory.conn.text": "a"})
    assert not at.exception, at.exception
    assert not [s for s in at.slider if s.key == "memory.conn.step"]
    assert "Influence of each input step on the output at step 0" in titles(at)
    assert any(t.startswith("|d loss / d h_t| of letters-4in") for t in titles(at))


@pytest.mark.slow
def test_side_by_side_needs_a_slot_for_every_cell(tmp_path, monkeypatch):
    """A session already training two jobs has one slot left of three: the three-cell comparison is refused with a
    message, not half-queued or crashed."""
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(tmp_path))
    from app.train.job_state import JobSpec
    from app.train.panel import job_manager
    from rnn_core.tasks import get_task

    at = open_page("letters-4in")
    me = at.session_state[session.SESSION_ID]
    task = get_task("letters")
    mcfg, tcfg = task.configs("default", epochs=2000)  # long enough to still run while the page is pressed
    busy = [job_manager().submit(me, JobSpec(task="letters", model_cfg=mcfg, train_cfg=tcfg, preset="default"))
            for _ in range(2)]
    try:
        at.selectbox(key=session.MEMORY_TASK).set_value("letters").run()
        at.button[0].click().run()
        assert not at.exception, at.exception
        assert any("you already have 2 queued or running" in w.value for w in at.warning)
        assert not at.session_state[session.MEMORY_JOBS] if session.MEMORY_JOBS in at.session_state else True
        assert sum(s.state in ("queued", "running") for s in job_manager().jobs(me)) == 2  # none added
    finally:
        for j in busy:
            job_manager().stop(me, j)
            job_manager().wait(j, 120)
