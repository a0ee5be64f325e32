"""The CLI contract of DESIGN.md: JSON last line on stdout, progress on stderr, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnn_core", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def last_json(proc: subprocess.CompletedProcess):
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_tasks_lists_every_task_with_a_seed_preset():
    tasks = last_json(cli("tasks"))
    names = {t["name"] for t in tasks}
    assert {"letters", "sine"} <= names
    for t in tasks:
        assert {"name", "kind", "presets"} <= set(t) and "seed" in t["presets"]


@pytest.fixture(scope="module")
def letters_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "letters-seed"
    res = last_json(cli("train", "--task", "letters", "--preset", "seed", "--out", str(out)))
    assert res["run"] == str(out) and res["task"] == "letters" and res["epochs"] == 100
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy"} <= set(res["metrics"])
    assert res["metrics"]["val_accuracy"] == 1.0  # the notes' result: every letter right
    assert {"config.json", "metrics.csv", "weights.safetensors", "vocab.json"} <= {p.name for p in out.iterdir()}
    return out


@pytest.mark.slow
def test_train_eval_predict_round_trip(letters_run):
    ev = last_json(cli("eval", str(letters_run)))
    assert ev["accuracy"] == 1.0 and ev["n"] == 4 and {"loss", "seconds", "tokens_per_s"} <= set(ev)
    pred = last_json(cli("predict", str(letters_run), "b"))
    assert pred["prediction"] == "c"
    assert pytest.approx(sum(pred["probabilities"].values()), abs=1e-5) == 1.0
    assert len(pred["per_step"]) == 1


@pytest.mark.slow
def test_predict_per_step_for_sine(tmp_path):
    out = tmp_path / "sine"
    last_json(cli("train", "--task", "sine", "--preset", "seed", "--epochs", "1", "--limit", "64", "--out", str(out)))
    pred = last_json(cli("predict", str(out), "0, 0.3, 0.6, 0.8, 0.95, 1.0"))
    assert len(pred["per_step"]) == 6 and all(isinstance(v, float) for v in pred["prediction"])


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, words",
    [
        (("train", "--task", "nope"), "unknown task"),
        (("train",), "required"),
        (("train", "--task", "letters", "--preset", "nope"), "no preset"),
        (("train", "--task", "letters", "--lr", "-1"), "lr must be"),
        (("train", "--task", "letters", "--hidden", "0"), "hidden_size"),
        (("eval", "/nonexistent/run"), ""),
        (("frobnicate",), "invalid choice"),
    ],
)
def test_bad_arguments_give_one_line_and_nonzero_exit(args, words):
    proc = cli(*args)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]


@pytest.mark.slow
def test_predict_rejects_bad_letters_cleanly(letters_run):
    proc = cli("predict", str(letters_run), "xyz")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "not" in proc.stderr


@pytest.mark.slow
def test_bench_quick_reports_the_contract_keys():
    res = last_json(cli("bench", "--quick"))
    assert {"fit_tokens_per_s", "bare_tokens_per_s", "ratio", "replay_ms", "replay_ms_1thread"} <= set(res)
    assert res["ratio"] > 0 and res["replay_ms"] > 0


@pytest.mark.slow
def test_train_flags_reach_the_saved_configs(tmp_path):
    out = tmp_path / "flags"
    res = last_json(cli("train", "--task", "letters", "--preset", "seed", "--epochs", "5", "--keep-best", "--no-bucket",
                        "--input-dropout", "0.25", "--weight-decay", "0.001", "--out", str(out)))
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["train"]["keep_best"] is True and cfg["train"]["bucket"] is False
    assert cfg["train"]["weight_decay"] == 0.001 and cfg["model"]["input_dropout"] == 0.25
    assert res["epochs"] == 5
    bad = cli("train", "--task", "letters", "--input-dropout", "1.5", "--out", str(tmp_path / "bad"))
    assert bad.returncode == 2 and "input_dropout must be" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_the_analysis_bench_without_data_says_where_to_put_it(capsys, monkeypatch):
    """``python -m rnn_core.analysis.bench`` on the IMDB run with no data: one line naming the file and the folder
    to save it in (the whole what-to-do, not cut), exit code 2, no traceback."""
    from rnn_core.analysis import bench

    data_dir = "/nonexistent-data"
    monkeypatch.setenv("UNROLLED_DATA_DIR", data_dir)
    assert bench.main(["imdb-gru", "--inputs", "5", "--starts", "5"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: aclImdb_v1.tar.gz is not in the data folder"), lines
    assert lines[0].endswith("that already holds it.") and f"{data_dir}/imdb" in lines[0]
    assert bench.main(["no-such-run"]) == 2
    assert capsys.readouterr().err.startswith("error: no run named 'no-such-run'")
