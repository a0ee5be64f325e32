"""Nothing learned is lost: a bad run target is refused before training, the run folder is saved at every epoch's
end (so a crash or kill -9 leaves a loadable "interrupted" run listing its finished epochs), and the temporary
folders of a save killed half-way are cleaned up — a run moved aside to be replaced is put back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from rnn_core import build_model, fit, get_task
from rnn_core.callbacks import Callback
from rnn_core.runs import keeping, list_runs, load_run, save_run
from rnn_core.runs.keeping import check_run_target, checkpoint_for, clean_leftovers, temp_prefix

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["", "../x", "a/b", "x\ny", "tab\there", "a" * 81, ".hidden", "taken"])
def test_bad_or_taken_names_are_refused_before_training(tmp_path, name):
    (tmp_path / "taken").mkdir()
    with pytest.raises(ValueError):
        check_run_target(name, tmp_path)


def test_a_folder_that_cannot_be_written_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="can't save runs"):
        check_run_target("run", tmp_path / "file" / "runs")
    assert check_run_target("fresh", tmp_path) == tmp_path.resolve()
    assert [p.name for p in tmp_path.iterdir()] == ["file"]  # the check leaves nothing behind


def test_leftovers_of_a_killed_save_are_removed_and_a_moved_aside_run_put_back(tmp_path):
    dead = 2**22 + 12345  # above the default pid_max: no such process
    (tmp_path / f".saving-{dead}-abc").mkdir()
    (tmp_path / f".saving-{dead}-abc" / "weights.safetensors").write_bytes(b"half")
    aside = tmp_path / f".replaced-{dead}-def"
    (aside / "mine").mkdir(parents=True)
    (aside / "mine" / "config.json").write_text("{}")
    alive = Path(tempfile.mkdtemp(prefix=temp_prefix("saving"), dir=tmp_path))  # a save in progress here: kept
    # A killed server's save, from the same pid as this one (a restarted container's server is often pid 1 again).
    (tmp_path / f".saving-{os.getpid()}-0badf00d-xyz").mkdir()
    (tmp_path / f".saving-{os.getpid()}-ghi").mkdir()  # the same, named before saves carried a token
    notes = clean_leftovers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["mine", alive.name])
    assert (tmp_path / "mine" / "config.json").read_text() == "{}"
    assert any("put back run 'mine'" in n for n in notes)


class CrashAt(Callback):
    """Raises at the end of epoch ``n`` (after the checkpoint saved it): a crash in the middle of training."""

    def __init__(self, n: int):
        self.n = n

    def on_epoch_end(self, event) -> None:
        if event.epoch == self.n:
            raise RuntimeError("crash")


def test_a_crash_mid_training_leaves_an_interrupted_run_with_its_epochs(tmp_path, monkeypatch, single_thread):
    monkeypatch.setattr(keeping, "MIN_SECONDS_BETWEEN_SAVES", 0.0)
    task = get_task("letters")
    mcfg, tcfg = task.configs("seed", epochs=10)
    model = build_model(mcfg, seed=0)
    keep = checkpoint_for(task, tcfg, root=tmp_path, name="crashy")
    with pytest.raises(RuntimeError, match="crash"):
        fit(model, task, tcfg, callbacks=[keep, CrashAt(3)])
    run = load_run(tmp_path / "crashy")
    assert run.status == "interrupted" and list(run.metrics["epoch"]) == [1, 2, 3]
    assert "interrupted after epoch 3 of 10" in run.config["message"]
    assert [r["status"] for r in list_runs(tmp_path, include_pretrained=False)] == ["interrupted"]
    # Training again under the same name replaces the checkpoint with the outcome (as the CLI and jobs do).
    keep = checkpoint_for(task, tcfg, root=tmp_path, name="again")
    hist = fit(build_model(mcfg, seed=0), task, tcfg, callbacks=[keep])
    path = save_run(model, task, tcfg, hist, name=keep.name, root=tmp_path, overwrite=keep.saved is not None)
    assert load_run(path).status == "finished" and len(load_run(path).metrics) == 10


@pytest.mark.slow
def test_kill_9_mid_training_loses_at_most_the_epoch_in_progress(tmp_path):
    out = tmp_path / "runs" / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "UNROLLED_RUNS_DIR": str(tmp_path / "runs")}
    proc = subprocess.Popen([sys.executable, "-m", "rnn_core", "train", "--task", "sine", "--epochs", "200",
                             "--out", str(out)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            rows = (out / "metrics.csv").read_text().count("\n") - 1 if (out / "metrics.csv").exists() else 0
            if rows >= 2:
                break
            time.sleep(0.2)
        else:
            pytest.fail("no epoch was saved within 300 s")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    run = load_run(out)
    assert run.status == "interrupted" and len(run.metrics) >= 2 and run.warnings == []
    assert list(run.metrics["epoch"]) == list(range(1, len(run.metrics) + 1))
    assert "interrupted after epoch" in run.config["message"]


@pytest.mark.slow
def test_an_interrupted_run_says_so_and_what_it_holds_on_its_page(tmp_path, monkeypatch, single_thread,
                                                                   app_threads_restored):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setattr(keeping, "MIN_SECONDS_BETWEEN_SAVES", 0.0)
    task = get_task("letters")
    mcfg, tcfg = task.configs("seed", epochs=10)
    keep = checkpoint_for(task, tcfg, root=tmp_path, name="crashy")
    with pytest.raises(RuntimeError, match="crash"):
        fit(build_model(mcfg, seed=0), task, tcfg, callbacks=[keep, CrashAt(2)])
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.session_state["current_run"] = "crashy"
    at.run()
    at.switch_page("pages/letters_playground.py")
    at.run()
    assert not at.exception
    notes = [i.value for i in at.info]
    assert any("cut short" in n and "2 epoch(s) of 10" in n for n in notes), notes
