"""``python -m rnn_core sweep``: the JSON contract, one-line errors, and a SIGKILLed sweep leaving every
finished run readable (and no worker training on for nobody)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_helpers import kill_sweep_mid_run

from rnn_core.cli import main
from rnn_core.runs import load_run
from rnn_core.sweep import load_sweep

ROOT = Path(__file__).resolve().parents[1]


def sweep_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rnn_core", "sweep", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_sweep_ends_with_mean_sd_min_max_and_run_folders_per_point(tmp_path):
    out = tmp_path / "cells"
    proc = sweep_cli("--task", "letters", "--preset", "seed", "--grid", "cell=rnn,gru", "hidden=4", "epochs=3",
                     "--seeds", "0,1", "--workers", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["sweep"] == str(out) and res["runs"] == 4 and res["failed"] == 0 and res["state"] == "finished"
    assert res["grid"] == {"cell": ["rnn", "gru"], "hidden_size": [4], "epochs": [3]}  # --hidden's spelling works
    assert [p["point"]["cell"] for p in res["points"]] == ["rnn", "gru"]
    for p in res["points"]:
        assert p["n"] == 2 and len(p["runs"]) == 2
        values = [load_run(r).final_metrics["val_accuracy"] for r in p["runs"]]
        stats = p["metrics"]["val_accuracy"]
        assert set(stats) == {"mean", "std", "min", "max"}
        assert stats["min"] == min(values) and stats["max"] == max(values)
        assert all(Path(r).parent == out for r in p["runs"])
    assert "started" in proc.stderr and "finished in" in proc.stderr  # progress went to stderr


@pytest.mark.parametrize("args, words", [
    (["--task", "letters", "--grid", "hidden=many"], "hidden_size takes int"),
    (["--task", "letters", "--grid", "colour=red"], "unknown grid key"),
    (["--task", "letters", "--seeds", "a,b"], "seeds are whole numbers"),
    (["--task", "letters", "--workers", "0"], "--workers must be at least 1"),
])
def test_bad_sweeps_fail_in_one_line_before_training(args, words, capsys, tmp_path):
    assert main(["sweep", *args, "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [err.strip()] and err.startswith("error: ") and words in err
    assert not (tmp_path / "s").exists()  # nothing was started


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status  # a zombie has stopped; only its exit status is left


@pytest.mark.slow
def test_a_killed_sweep_leaves_every_finished_run_readable(tmp_path):
    out = tmp_path / "killed"
    long_pid = kill_sweep_mid_run(out)
    folder = load_sweep(out)
    assert folder.state == "interrupted"
    assert [r["state"] for r in folder.runs] == ["finished", "cancelled"]
    run = load_run(folder.runs[0]["path"])
    assert run.status == "finished" and len(run.metrics) == 3
    deadline = time.monotonic() + 10
    while not _gone(long_pid) and time.monotonic() < deadline:  # the orphaned worker notices and exits
        time.sleep(0.2)
    if not _gone(long_pid):
        os.kill(long_pid, signal.SIGKILL)
        pytest.fail("the worker of the killed sweep kept training")
