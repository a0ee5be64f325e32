"""Pages open on a run worth seeing: the session's current run, else the best bundled one — never a run stopped
before its first validation; a ``?run=`` naming no run says so; the Runs table shows "—" for missing values and
keeps accuracy and MSE apart; the comparison chart names the runs it cannot draw."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.run_access import best_bundled, usable_runs, worth_seeing
from app.runs import runlist
from rnn_core.model import build_model
from rnn_core.runs import save_run
from rnn_core.tasks import get_task
from rnn_core.train import fit

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "streamlit_app.py")


@pytest.fixture(scope="module", autouse=True)
def _restore_threads(app_threads_restored):
    """Every test here runs the app in-process (see conftest.app_threads_restored)."""


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory):
    """A validated letters run and one stopped before its first validation (no metrics at all)."""
    root = tmp_path_factory.mktemp("opening-runs")
    task = get_task("letters", variant="4in")
    mcfg, tcfg = task.configs("default", epochs=3)
    model = build_model(mcfg, seed=0)
    save_run(model, task, tcfg, fit(model, task, tcfg), name="letters-validated", root=root, preset="default")
    save_run(build_model(mcfg, seed=1), task, tcfg, None, name="letters-unvalidated", root=root, preset="default",
             status="stopped")
    return root


def app(runs_root: Path, monkeypatch, current: str | None = None) -> AppTest:
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(runs_root))
    at = AppTest.from_file(APP, default_timeout=90).run()
    if current:
        at.session_state["current_run"] = current
    return at


def test_worth_seeing_and_the_best_bundled_run(runs_root, monkeypatch):
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(runs_root))
    rows = {r["name"]: r for r in usable_runs()}
    assert worth_seeing(rows["letters-validated"]) and not worth_seeing(rows["letters-unvalidated"])
    letters = usable_runs("letters")
    best = best_bundled(letters)
    assert best["pretrained"]
    scores = [r["final_metrics"]["val_accuracy"] for r in letters if r["pretrained"]]
    assert best["final_metrics"]["val_accuracy"] == max(scores)
    assert best_bundled(usable_runs(), default="imdb-gru")["name"] == "imdb-gru"
    assert best_bundled(usable_runs("sine"))["final_metrics"]["val_mse"] is not None


def test_a_playground_never_opens_on_a_run_stopped_before_validation(runs_root, monkeypatch):
    at = app(runs_root, monkeypatch, current="letters-unvalidated")
    at.switch_page("pages/letters_playground.py").run()
    assert not at.exception, at.exception
    opened = Path(at.selectbox(key="letters_run").value).name
    assert opened == best_bundled(usable_runs("letters"))["name"]
    # The session's current run is followed when it was validated.
    at.session_state["current_run"] = "letters-validated"
    at.switch_page("pages/letters_playground.py").run()
    assert Path(at.selectbox(key="letters_run").value).name == "letters-validated"


def test_a_link_to_a_missing_run_says_so(runs_root, monkeypatch, tmp_path):
    empty = tmp_path / "pretrained"
    empty.mkdir()
    monkeypatch.setattr("rnn_core.runs.files.pretrained_dir", lambda: empty)  # no IMDB data to load here
    at = app(runs_root, monkeypatch)
    at.switch_page("pages/inside.py")
    at.query_params["run"] = "no-such-run"
    at.run()
    assert not at.exception, at.exception
    warning = " ".join(w.value for w in at.warning)
    assert "There is no run named 'no\\-such\\-run'" in warning and "letters\\-validated" in warning  # quoted
    assert Path(at.selectbox(key="inside.run").value).name == "letters-validated"


def test_runs_table_shows_dashes_and_keeps_accuracy_and_mse_apart(runs_root, monkeypatch):
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(runs_root))
    table = runlist.table(runlist.runs()).set_index("name")
    assert {"val_accuracy", "val_mse"} <= set(table.columns) and "val_metric" not in table.columns
    assert table.loc["letters-unvalidated", "val_accuracy"] == "—"
    assert table.loc["letters-validated", "val_mse"] == "—"  # a classifier has no MSE
    assert table.loc["sine-tiny", "val_accuracy"] == "—" and table.loc["sine-tiny", "val_mse"] != "—"
    text = table.to_string()
    assert "None" not in text and "nan" not in text.lower()


def test_runs_page_opens_on_a_validated_run_and_names_runs_missing_from_the_chart(runs_root, monkeypatch):
    at = app(runs_root, monkeypatch, current="letters-unvalidated")
    at.switch_page("pages/runs.py").run()
    assert not at.exception, at.exception
    pick = next(m for m in at.multiselect if m.key.startswith("pick_"))
    assert pick.value == ["letters-validated"]
    pick.set_value(["letters-validated", "letters-unvalidated"]).run()
    assert not at.exception, at.exception
    assert any("Not on the chart" in c.value and "letters-unvalidated" in c.value for c in at.caption)


def test_a_sweep_runs_inside_link_names_it_with_its_sweep(tmp_path, monkeypatch):
    """A run inside a sweep folder is listed as ``<sweep>/<run>``; loaded, it keeps that name, so the ``?run=`` the
    Inside page writes opens the same run again on reload."""
    from rnn_core.runs import load_run
    from rnn_core.runs.files import SWEEP_FILE

    sweep = tmp_path / "my-sweep"
    sweep.mkdir()
    (sweep / SWEEP_FILE).write_text("{}")
    task = get_task("letters", variant="4in")
    mcfg, tcfg = task.configs("default", epochs=2)
    model = build_model(mcfg, seed=0)
    path = save_run(model, task, tcfg, fit(model, task, tcfg), name="r000", root=sweep, preset="default")
    assert load_run(path).name == "my-sweep/r000"
    at = app(tmp_path, monkeypatch)
    at.switch_page("pages/inside.py")
    at.query_params["run"] = "my-sweep/r000"
    at.run()
    assert not at.exception and not at.warning, (at.exception, at.warning)
    assert at.query_params["run"] == "my-sweep/r000"
    assert Path(at.selectbox(key="inside.run").value) == path
    at.run()  # the same link again, as a reload would: still that run, no "no run named" warning
    assert not at.warning and Path(at.selectbox(key="inside.run").value) == path


def test_a_runs_saved_download_address_is_never_fetched_by_a_page(tmp_path, monkeypatch):
    """An MNIST run (an imported archive, say) whose saved options name some address with downloading on: opening it
    on Inside fetches nothing from that address — the page uses data already on this machine, and without it says so
    instead of crashing."""
    from localhttp import serve

    from rnn_core.runs import load_run

    with serve() as server:
        task = get_task("digits", source="mnist", split="official", base_url=server.url("/mnist/"), download=True)
        mcfg, tcfg = task.configs("default", epochs=1)
        path = save_run(build_model(mcfg), task, tcfg, None, name="mnist-elsewhere", root=tmp_path / "runs",
                        preset="default", status="stopped")
        assert load_run(path).task.options["base_url"] == server.url("/mnist/")  # saved as it was given
        monkeypatch.setenv("UNROLLED_DATA_DIR", str(tmp_path / "no-data"))
        at = app(tmp_path / "runs", monkeypatch)
        at.switch_page("pages/inside.py")
        at.query_params["run"] = "mnist-elsewhere"
        at.run()
        assert not at.exception, at.exception
        assert any("not on this machine" in e.value for e in at.error), [e.value for e in at.error]
        assert server.hits == []
