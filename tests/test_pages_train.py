"""Train and Runs pages through Streamlit's AppTest: they render without exceptions, settings come from and go
to the URL, impossible settings give a clear error, a letters run trains through the same background worker
and draws train and validation curves, Stop keeps a partial run, and the Runs page lists, renames and deletes."""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import safetensors.torch
import torch
from streamlit.testing.v1 import AppTest

from app.runs import runlist
from rnn_core.model import build_model
from rnn_core.runs import list_runs, load_run

REPO = Path(__file__).resolve().parents[1]
APP, TRAIN, RUNS = str(REPO / "streamlit_app.py"), "pages/train.py", "pages/runs.py"


@pytest.fixture(scope="module", autouse=True)
def _restore_threads(app_threads_restored):
    """Every test here runs the app in-process (see conftest.app_threads_restored)."""


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(tmp_path))
    return tmp_path


def page(path: str, **query: str) -> AppTest:
    """A fresh browser session on the whole app (navigation included), opened on ``path`` with ``query``."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(path)
    at.query_params.update(query)
    return at.run()


def run_until(at: AppTest, done, timeout: float = 60.0) -> AppTest:
    """Re-run the page (as the polling fragment would) until ``done(at)`` or the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if done(at):
            return at
        time.sleep(0.1)
    raise AssertionError(f"timed out; errors: {[e.value for e in at.error]}")


def figure_traces(at: AppTest) -> list[list[str]]:
    return [[t.get("name") for t in json.loads(c.proto.spec)["data"]] for c in at.get("plotly_chart")]


def values(array) -> list:
    """A plotly JSON array: a plain list, or plotly's typed-array form {"dtype", "bdata": base64}."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_train_page_renders_the_seed_preset_and_writes_the_url(runs_dir):
    at = page(TRAIN)
    assert not at.exception and not at.error
    assert "SimpleRNN" in at.code[0].value and "Total params: 50" in at.code[0].value  # as Keras prints it
    assert at.table[0].value["Layer (type)"].tolist() == ["input (InputLayer)", "rnn_0 (SimpleRNN)", "dense (Dense)"]
    assert at.query_params["task"] == "letters" and at.query_params["hidden_size"] == "3"

    at.number_input(key="w.hidden_size").set_value(8).run()
    assert "Total params: 165" in at.code[0].value  # the summary follows the settings
    assert at.query_params["hidden_size"] == "8"
    assert any("**Modified** from `seed`" in c.value and "hidden_size" in c.value for c in at.caption)


def test_settings_survive_a_visit_to_another_page(runs_dir):
    at = page(TRAIN)
    at.number_input(key="w.hidden_size").set_value(9).run()
    at.switch_page(RUNS).run()
    at.switch_page(TRAIN).run()
    assert not at.exception
    assert at.number_input(key="w.hidden_size").value == 9 and at.query_params["hidden_size"] == "9"


def test_a_link_sets_the_form_and_bad_values_get_a_notice(runs_dir):
    at = page(TRAIN, task="letters", preset="default", hidden_size="6", lr="oops", cell="lstm")
    assert not at.exception
    assert at.selectbox(key="w.cell").value == "lstm" and at.number_input(key="w.hidden_size").value == 6
    assert at.number_input(key="w.lr").value == pytest.approx(0.03)  # the preset's, since "oops" was ignored
    assert [w.value for w in at.warning] == ["From the link: lr “oops” was ignored: use a number."]
    assert "LSTM" in at.code[0].value


@pytest.mark.slow
def test_switching_task_loads_its_preset_and_sine_trains_with_mse_curves(runs_dir):
    at = page(TRAIN)
    at.selectbox(key="w.task").select("sine").run()
    assert not at.exception
    assert at.selectbox(key="w.preset").value == "seed" and at.number_input(key="w.hidden_size").value == 32
    assert at.query_params["task"] == "sine"
    at.number_input(key="w.epochs").set_value(1).run()
    button(at, "Train").click().run()
    run_until(at, lambda a: len(a.success) > 0)
    assert figure_traces(at)[1] == ["train · batch", "train · batch EMA", "train · epoch", "val · epoch"]
    assert "MSE" in json.loads(at.get("plotly_chart")[1].proto.spec)["layout"]["title"]["text"]

    at.selectbox(key="w.task").select("imdb").run()  # needs no data until it trains
    assert not at.exception and not at.error
    assert at.table[0].value["Layer (type)"].iloc[0] == "embedding (Embedding)"


def test_impossible_settings_show_an_error_and_disable_training(runs_dir):
    at = page(TRAIN)
    at.number_input(key="w.lr").set_value(0.0).run()
    assert not at.exception
    assert any("lr must be a number in (0, 10]" in e.value for e in at.error)
    assert button(at, "Train").disabled

    at.number_input(key="w.lr").set_value(0.01)
    at.number_input(key="w.hidden_size").set_value(4096)
    at.number_input(key="w.num_layers").set_value(16).run()
    assert not at.exception
    assert any("parameters; the Train page allows up to" in e.value for e in at.error)
    assert button(at, "Train").disabled


def test_training_letters_draws_train_and_val_curves_and_saves_the_run(runs_dir):
    at = page(TRAIN, preset="default")
    button(at, "Train").click().run()
    run_until(at, lambda a: len(a.success) > 0)
    assert "Saved as run" in at.success[0].value
    traces = figure_traces(at)
    assert len(traces) == 2  # loss, accuracy
    for names in traces:
        assert names == ["train · batch", "train · batch EMA", "train · epoch", "val · epoch"]
    loss = json.loads(at.get("plotly_chart")[0].proto.spec)
    val_loss = values(loss["data"][3]["y"])
    assert len(val_loss) == 30  # one validation point per epoch of the default preset
    assert val_loss[-1] < val_loss[0]
    (row,) = list_runs(runs_dir, include_pretrained=False)
    assert row["status"] == "finished" and row["final_metrics"]["val_accuracy"] == 1.0
    probe = load_run(row["path"]).probe  # the Inside page's trace of the probe input during training
    assert "probe/x" in probe and "epoch30/hook_logits" in probe


def test_stop_keeps_the_partial_run(runs_dir):
    at = page(TRAIN, epochs="10000")
    button(at, "Train").click().run()
    run_until(at, lambda a: any(b.label == "Stop" for b in a.button) and len(a.get("plotly_chart")) == 2)
    button(at, "Stop").click().run()
    run_until(at, lambda a: len(a.warning) > 0, timeout=10)
    assert "Stopped by request" in at.warning[0].value
    (row,) = list_runs(runs_dir, include_pretrained=False)
    assert row["status"] == "stopped"
    assert 0 < len(load_run(row["path"]).metrics) < 10000


def test_a_diverged_run_shows_what_to_change(runs_dir, monkeypatch):
    def poisoned_build_model(cfg, seed=None):  # its head outputs infinities, so the first loss is not finite
        model = build_model(cfg, seed=seed)
        with torch.no_grad():
            model.head.bias.fill_(float("inf"))
        return model

    monkeypatch.setattr("app.train.worker.build_model", poisoned_build_model)
    at = page(TRAIN)
    button(at, "Train").click().run()
    run_until(at, lambda a: len(a.error) > 0)
    assert "loss became NaN or infinite" in at.error[0].value and "Saved as run" in at.error[0].value
    (row,) = list_runs(runs_dir, include_pretrained=False)
    assert row["status"] == "diverged"


def test_two_sessions_do_not_see_each_others_jobs(runs_dir):
    alice = page(TRAIN, epochs="10000")
    button(alice, "Train").click().run()
    bob = page(TRAIN)
    assert bob.session_state["session_id"] != alice.session_state["session_id"]
    assert any("No training yet" in i.value for i in bob.info)
    assert not any(b.label == "Stop" for b in bob.button)
    run_until(alice, lambda a: any(b.label == "Stop" for b in a.button))
    button(alice, "Stop").click().run()
    run_until(alice, lambda a: len(a.warning) > 0, timeout=10)


@pytest.mark.slow
def test_the_cap_queues_a_second_session_and_shows_its_place(runs_dir, monkeypatch):
    from app.train.panel import job_manager

    monkeypatch.setenv("UNROLLED_MAX_JOBS", "1")
    job_manager.clear()  # the next page run builds a manager with a cap of one job
    try:
        alice, bob = page(TRAIN, epochs="10000"), page(TRAIN, epochs="10000")
        button(alice, "Train").click().run()
        run_until(alice, lambda a: any(b.label == "Stop" for b in a.button))
        button(bob, "Train").click().run()
        assert any("Waiting in the queue: place **1**" in i.value for i in bob.info)
        assert job_manager().max_jobs == 1
        button(bob, "Cancel").click().run()
        run_until(bob, lambda a: any("Cancelled" in w.value for w in a.warning), timeout=10)
        button(alice, "Stop").click().run()
        run_until(alice, lambda a: any("Stopped by request" in w.value for w in a.warning), timeout=10)
    finally:
        job_manager().shutdown()
        job_manager.clear()


def test_one_session_with_two_jobs_shows_the_chosen_one(runs_dir, monkeypatch):
    from app.train.panel import job_manager

    monkeypatch.setenv("UNROLLED_MAX_JOBS", "2")
    job_manager.clear()
    try:
        at = page(TRAIN, epochs="10000")
        button(at, "Train").click().run()  # a long job ...
        at.number_input(key="w.epochs").set_value(20).run()
        button(at, "Train").click().run()  # ... and a short one beside it
        run_until(at, lambda a: len(a.success) > 0)  # the short one is shown, finished, while the long one runs
        picker = at.selectbox(key="job_picker")
        # Newest first; a label never changes (Streamlit keeps the choice by its label), the states are counted.
        assert picker.options == ["#2 letters · RNN(3) · 20 epochs", "#1 letters · RNN(3) · 10000 epochs"]
        assert any(c.value == "2 jobs, 1 of them waiting or running." for c in at.caption)
        first = job_manager().jobs(at.session_state["session_id"])[0]
        picker.select(first.id).run()  # AppTest selects by value (a job id), the page shows its label
        button(at, "Stop").click().run()
        run_until(at, lambda a: any("Stopped by request" in w.value for w in a.warning), timeout=10)
    finally:
        job_manager().shutdown()
        job_manager.clear()


@pytest.mark.slow
def test_returning_to_train_shows_the_same_job_in_the_box_and_the_form(runs_dir, monkeypatch):
    from app.train.job_state import JobSpec
    from app.train.panel import job_manager
    from rnn_core.tasks import get_task

    monkeypatch.setenv("UNROLLED_MAX_JOBS", "3")
    job_manager.clear()
    try:
        at = page(TRAIN, task="sine", preset="default", epochs="10000")
        button(at, "Train").click().run()  # a long sine job ...
        at.selectbox(key="w.task").set_value("letters").run()
        at.number_input(key="w.epochs").set_value(20).run()
        button(at, "Train").click().run()  # ... and a short letters one, the box's job now
        run_until(at, lambda a: len(a.success) > 0)
        sid = at.session_state["session_id"]
        sine = job_manager().jobs(sid)[0]
        at.selectbox(key="job_picker").select(sine.id).run()  # picking the sine job fills the form with it
        run_until(at, lambda a: a.selectbox(key="w.task").value == "sine", timeout=10)
        assert at.number_input(key="w.epochs").value == 10000
        # Another page queues a job of another task in this session (as the Memory page does) ...
        letters = get_task("letters")
        mcfg, tcfg = letters.configs("default")
        job_manager().submit(sid, JobSpec(task="letters", model_cfg=mcfg, train_cfg=tcfg.replace(epochs=5)))
        at.switch_page(RUNS).run()
        at.switch_page(TRAIN).run()  # ... and on returning, the box and the form still show the sine job
        assert not at.exception
        assert at.session_state["current_job"] == sine.id
        assert at.selectbox(key="w.task").value == "sine" and at.number_input(key="w.epochs").value == 10000
        assert any(c.value.startswith("Job: **sine") for c in at.caption)
        assert at.query_params["task"] == "sine" and at.query_params["epochs"] == "10000"
        button(at, "Stop").click().run()
        run_until(at, lambda a: any("Stopped by request" in w.value for w in a.warning), timeout=20)
    finally:
        job_manager().shutdown()
        job_manager.clear()


def test_a_fresh_visit_shows_the_newest_job_of_the_task_the_form_holds(runs_dir, monkeypatch):
    from app.train.job_state import JobSpec
    from app.train.panel import job_manager
    from rnn_core.tasks import get_task

    job_manager.clear()
    try:
        at = page(TRAIN)  # the form holds letters; this session trains nothing from here
        sid = at.session_state["session_id"]
        for name in ("letters", "sine"):  # jobs queued from elsewhere (the Memory page), letters first
            task = get_task(name)
            mcfg, tcfg = task.configs(task.default_preset)
            job_manager().submit(sid, JobSpec(task=name, model_cfg=mcfg, train_cfg=tcfg.replace(epochs=2)))
        at.run()
        assert any(c.value.startswith("Job: **letters") for c in at.caption)  # not the newer sine job
    finally:
        job_manager().shutdown()
        job_manager.clear()


def test_runs_page_lists_compares_renames_and_deletes(runs_dir):
    at = page(RUNS)
    assert not at.exception and any("No saved runs of your own yet" in i.value for i in at.info)

    trained = page(TRAIN, preset="default", epochs="3")
    button(trained, "Train").click().run()
    run_until(trained, lambda a: len(a.success) > 0)
    name = list_runs(runs_dir, include_pretrained=False)[0]["name"]

    bundled = [r["name"] for r in list_runs(runs_dir) if r["pretrained"]]
    at = page(RUNS)
    assert not at.exception
    assert at.dataframe[0].value["name"].tolist() == [name, *bundled]  # yours first, then the bundled ones
    assert at.multiselect[0].value == [name]
    compare, loss, accuracy = figure_traces(at)
    assert compare == [name]  # its validation curve, overlaid
    assert loss == accuracy == ["train · batch", "train · batch EMA", "train · epoch", "val · epoch"]  # reopened
    assert [d.proto.label for d in at.get("download_button")] == ["Metrics (CSV)", "Weights (safetensors)",
                                                               "Whole run (.zip)"]
    run = load_run(name)
    weights = safetensors.torch.load(runlist.download_bytes(run.path, "weights.safetensors"))
    assert all(torch.equal(weights[k], v) for k, v in run.model.state_dict().items())
    csv = pd.read_csv(io.BytesIO(runlist.download_bytes(run.path, "metrics.csv")))
    assert csv["epoch"].tolist() == [1, 2, 3] and "val_accuracy" in csv

    at.text_input(key=f"rename_{name}").set_value("my first run")
    at.button(key=f"do_rename_{name}").click().run()
    assert not at.exception and "Renamed" in at.success[0].value
    assert at.dataframe[0].value["name"].tolist() == ["my-first-run", *bundled]

    at.button(key="do_rename_my-first-run").click().run()  # same name: refused with a message
    at.text_input(key="rename_my-first-run").set_value("../escape")
    at.button(key="do_rename_my-first-run").click().run()
    assert not at.exception and "Could not rename" in at.error[0].value

    at.button(key="ask_delete_my-first-run").click().run()
    assert "Delete run **my-first-run**?" in at.warning[0].value
    assert list_runs(runs_dir, include_pretrained=False)  # nothing deleted before the confirmation
    at.button(key="delete_my-first-run").click().run()
    assert not at.exception and "Deleted run" in at.success[0].value
    assert list_runs(runs_dir, include_pretrained=False) == []
