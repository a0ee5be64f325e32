"""The Sweeps page through AppTest (launch, live table, results, bad input) and its figures directly."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app.sweeps import charts

REPO = Path(__file__).resolve().parents[1]
APP, PAGE = str(REPO / "streamlit_app.py"), "pages/sweeps.py"


@pytest.fixture(scope="module", autouse=True)
def _restore_threads(app_threads_restored):
    """Every test here runs the app in-process (see conftest.app_threads_restored)."""


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(tmp_path))
    return tmp_path


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGE)
    return at.run()


def results_frame(rows):
    return pd.DataFrame(rows)


def test_metric_vs_field_draws_the_mean_and_a_one_sd_band():
    frame = results_frame([
        {"cell": "rnn", "hidden_size": 4, "seed": s, "state": "finished", "val_accuracy": v}
        for s, v in enumerate([0.5, 0.7, 0.9])
    ] + [{"cell": "gru", "hidden_size": 4, "seed": 0, "state": "finished", "val_accuracy": 1.0},
         {"cell": "gru", "hidden_size": 4, "seed": 1, "state": "failed", "val_accuracy": math.nan}])
    fig = charts.fig_metric_vs_field(frame, "cell", "val_accuracy", [])
    upper, lower, mean = fig.data
    assert list(mean.x) == ["rnn", "gru"] and list(mean.y) == pytest.approx([0.7, 1.0])
    assert list(upper.y) == pytest.approx([0.9, 1.0]) and list(lower.y) == pytest.approx([0.5, 1.0])  # sd 0.2
    assert lower.fill == "tonexty" and "sd" in mean.hovertemplate


def test_parallel_coordinates_have_an_axis_per_varied_field_and_the_metric():
    frame = results_frame([
        {"cell": c, "hidden_size": h, "seed": 0, "state": "finished", "val_accuracy": a}
        for c, h, a in [("rnn", 4, 0.5), ("gru", 4, 0.75), ("rnn", 8, 1.0)]
    ])
    dims = charts.fig_parallel(frame, ["cell", "hidden_size"], "val_accuracy").data[0].dimensions
    assert [d.label for d in dims] == ["cell", "hidden_size", "val_accuracy"]
    assert list(dims[0].ticktext) == ["rnn", "gru"] and list(dims[0].values) == [0, 1, 0]
    assert list(dims[1].values) == [4.0, 4.0, 8.0]


def test_a_bad_grid_is_refused_with_a_message(runs_dir):
    at = open_page()
    assert not at.exception
    at.text_input(key="sweep_hidden_size").input("lots")
    at.button[0].click().run()
    assert not at.exception
    assert any("hidden\\_size takes int" in e.value for e in at.error)  # escaped: grid text is shown as text
    assert not any(p.is_dir() for p in runs_dir.iterdir())  # nothing started


@pytest.mark.slow
def test_launch_watch_and_compare_a_sweep(runs_dir):
    at = open_page()
    at.multiselect(key="sweep_cells").set_value(["rnn", "gru"])
    at.text_input(key="sweep_hidden_size").input("3,6")
    at.text_input(key="sweep_epochs").input("3")
    at.text_input(key="sweep_seeds").input("0,1")
    at.button[0].click().run()
    assert not at.exception and not at.error
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if any("Finished" in m.value for m in at.markdown):
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the sweep did not finish")
    live = at.dataframe[0].value
    assert len(live) == 8 and set(live["state"]) == {"finished"} and set(live["done"]) == {1.0}
    summary = at.dataframe[1].value
    assert len(summary) == 4 and set(summary["n"]) == {2} and "test_accuracy_mean" not in summary
    assert "val_accuracy_mean" in summary and summary["val_accuracy_std"].notna().all()
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")[:2]]
    assert titles == ["val_accuracy vs cell", "val_accuracy vs hidden_size"]
    assert json.loads(at.get("plotly_chart")[2].proto.spec)["data"][0]["type"] == "parcoords"
    sweep_dirs = [p for p in runs_dir.iterdir() if (p / "sweep.json").is_file()]
    assert len(sweep_dirs) == 1 and len([p for p in sweep_dirs[0].iterdir() if p.is_dir()]) == 8
