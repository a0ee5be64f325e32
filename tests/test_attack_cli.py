"""The CLI attack: bad flags, values, names, paths, task options and inputs to every command. Each must end
in one ``error: ...`` line on stderr with exit status 2 — no traceback, at once (before any training), with no
run folder half-written and the runs already there untouched. A few run as real processes for the exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from attack_helpers import bounded, fingerprint, make_run, one_line_error

import rnn_core.train as train_mod
from rnn_core.cli import main

ROOT = Path(__file__).resolve().parents[1]
LIMIT_S = 10.0
BIG = "9" * 400
L = ["train", "--task", "letters", "--epochs", "1"]
S = ["train", "--task", "sine", "--epochs", "1"]

TRAIN = {
    "no-task": ["train"],
    "task-unknown": ["train", "--task", "nope"],
    "task-empty": ["train", "--task", ""],
    "task-markdown": ["train", "--task", "[x](https://evil.example)"],
    "preset-unknown": [*L, "--preset", "nope"],
    "cell-unknown": [*L, "--cell", "transformer"],
    "hidden-neg": [*L, "--hidden", "-1"],
    "hidden-zero": [*L, "--hidden", "0"],
    "hidden-huge": [*L, "--hidden", "1000000"],
    "hidden-text": [*L, "--hidden", "abc"],
    "hidden-overlong": [*L, "--hidden", BIG],
    "model-size-cap": [*L, "--hidden", "4096", "--layers", "16", "--bidirectional"],
    "model-size-cap-lstm": [*L, "--hidden", "2048", "--layers", "4", "--cell", "lstm"],
    "layers-zero": [*L, "--layers", "0"],
    "layers-17": [*L, "--layers", "17"],
    "layers-neg": [*L, "--layers", "-2"],
    "embed-dim-zero": ["train", "--task", "imdb", "--embed-dim", "0"],
    "embed-dim-huge": ["train", "--task", "imdb", "--embed-dim", "100000"],
    "dropout-over": [*L, "--dropout", "1.5"],
    "dropout-nan": [*L, "--dropout", "nan"],
    "dropout-neg": [*L, "--dropout", "-0.1"],
    "input-dropout-one": [*L, "--input-dropout", "1"],
    "epochs-zero": [*L[:3], "--epochs", "0"],
    "epochs-neg": [*L[:3], "--epochs", "-1"],
    "epochs-huge": [*L[:3], "--epochs", "100000"],
    "epochs-float": [*L[:3], "--epochs", "1.5"],
    "batch-zero": [*L, "--batch-size", "0"],
    "batch-neg": [*L, "--batch-size", "-4"],
    "batch-huge": [*L, "--batch-size", "1000000"],
    "lr-nan": [*L, "--lr", "nan"],
    "lr-inf": [*L, "--lr", "inf"],
    "lr-neg": [*L, "--lr", "-1"],
    "lr-zero": [*L, "--lr", "0"],
    "lr-overflow": [*L, "--lr", "1e309"],
    "clip-nan": [*L, "--clip", "nan"],
    "clip-inf": [*L, "--clip", "inf"],
    "clip-neg": [*L, "--clip", "-1"],
    "weight-decay-nan": [*L, "--weight-decay", "nan"],
    "weight-decay-two": [*L, "--weight-decay", "2"],
    "val-fraction-one": [*L, "--val-fraction", "1"],
    "val-fraction-nan": [*L, "--val-fraction", "nan"],
    "val-fraction-neg": [*L, "--val-fraction", "-0.5"],
    "bucket-pool-zero": [*L, "--bucket-pool", "0"],
    "seed-neg": [*L, "--seed", "-1"],
    "seed-huge": [*L, "--seed", str(2 ** 70)],
    "limit-neg": [*L, "--limit", "-5"],
    "device-cuda": [*L, "--device", "cuda"],
    "device-tpu": [*L, "--device", "tpu"],
    "option-no-equals": [*L, "--option", "noequals"],
    "option-unknown-key": [*L, "--option", "colour=red"],
    "option-empty-key": [*L, "--option", "=5"],
    "option-letters-variant": [*L, "--option", "variant=9in"],
    "option-sine-window-huge": [*S, "--option", "window=1000000000"],
    "option-sine-window-neg": [*S, "--option", "window=-1"],
    "option-sine-window-inf": [*S, "--option", "window=1e999"],
    "option-sine-sizes-huge": [*S, "--option", "sizes=[1000000000,1,1]"],
    "option-sine-373gib": [*S, "--option", "sizes=[100000,100000,100000]", "--option", "window=5000"],
    "option-sine-sizes-text": [*S, "--option", "sizes=x"],
    "option-sine-sizes-nested": [*S, "--option", "sizes=[[1],[2],[3]]"],
    "option-sine-data": [*S, "--option", "data=../../etc/passwd"],
    "option-imdb-maxlen-zero": ["train", "--task", "imdb", "--option", "maxlen=0"],
    "option-imdb-num-words-huge": ["train", "--task", "imdb", "--option", "num_words=1000000000"],
    "name-empty": [*L, "--name", ""],
    "name-spaces": [*L, "--name", "   "],
    "name-escape": [*L, "--name", "../escaped"],
    "name-slash": [*L, "--name", "a/b"],
    "name-absolute": [*L, "--name", "/etc/passwd"],
    "name-newline": [*L, "--name", "x\ny"],
    "name-escape-seq": [*L, "--name", "x\x1b[31mred"],
    "name-nul": [*L, "--name", "x\x7fy"],
    "name-too-long": [*L, "--name", "a" * 200],
    "name-hidden": [*L, "--name", ".hidden"],
    "name-dots": [*L, "--name", ".."],
    "name-taken": [*L, "--name", "existing"],
    "unknown-flag": [*L, "--frobnicate"],
    "missing-value": [*L, "--epochs"],
    "bidirectional-value": [*L, "--bidirectional=yes"],
}
OUT = {  # --out cases: {runs} is the runs folder, {file} a regular file in it
    "out-empty": "",
    "out-under-file": "{file}/run",
    "out-proc": "/proc/self/unrolled-run",
    "out-dev-null": "/dev/null/run",
    "out-too-long-name": "{runs}/" + "a" * 300,
    "out-control-chars": "{runs}/x\ny",
    "out-existing": "{runs}/existing",
    "out-root": "/",
    "out-is-file": "{file}",
}
EVAL = {
    "eval-missing": ["eval", "nope"],
    "eval-etc": ["eval", "/etc"],
    "eval-file": ["eval", "/etc/passwd"],
    "eval-escape": ["eval", "../../etc"],
    "eval-empty": ["eval", ""],
    "eval-limit-neg": ["eval", "letters-1in", "--limit", "-5"],
    "eval-limit-text": ["eval", "letters-1in", "--limit", "abc"],
    "eval-split-bad": ["eval", "letters-1in", "--split", "bogus"],
    "eval-split-none": ["eval", "letters-1in", "--split", "test"],
    "eval-damaged": ["eval", "{damaged}"],
}
SINE, LETTERS, IMDB = "sine-tiny", "letters-1in", "imdb-gru"
PREDICT = {
    "sine-overlong": [SINE, BIG],
    "sine-overlong-list": [SINE, f"[{BIG}, 1]"],
    "sine-overlong-csv": [SINE, f"{BIG}, 1, 2"],
    "sine-inf": [SINE, "[1e999, 1]"],
    "sine-inf-text": [SINE, "inf, 1, 2"],
    "sine-nan": [SINE, "nan,nan,nan"],
    "sine-empty-list": [SINE, "[]"],
    "sine-empty": [SINE, ""],
    "sine-words": [SINE, "abc"],
    "sine-object": [SINE, '{"a": 1}'],
    "sine-null": [SINE, "null"],
    "sine-bool": [SINE, "true"],
    "sine-matrix": [SINE, "[[1,2],[3,4]]"],
    "sine-string": [SINE, '"text"'],
    "sine-too-many": [SINE, "1," * 6000 + "1"],
    "sine-deep": [SINE, "[" * 5000 + "]" * 5000],
    "sine-mixed": [SINE, '[1, "a", null]'],
    "letters-bad": [LETTERS, "xyz"],
    "letters-empty": [LETTERS, ""],
    "letters-control": [LETTERS, "\x00\x01"],
    "letters-emoji": [LETTERS, "🙂"],
    "letters-huge": [LETTERS, "a" * 200_000],
    "run-is-file": ["/etc/passwd", "great"],
    "imdb-huge": [IMDB, "great " * 400_000],
    "run-missing": ["nope", "a"],
    "run-escape": ["../../etc", "a"],
    "run-damaged": ["{damaged}", "a"],
}
BENCH = {
    "bench-seeds-zero": ["bench", "--init", "letters", "--seeds", "0"],
    "bench-seeds-neg": ["bench", "--init", "letters", "--seeds", "-1"],
    "bench-seeds-text": ["bench", "--seeds", "abc"],
    "bench-init-unknown": ["bench", "--init", "nope"],
    "bench-limit-neg": ["bench", "--bucketing", "--limit", "-5"],
    "no-command": [],
    "unknown-command": ["nope"],
    "tasks-extra": ["tasks", "--bogus"],
}

W = ["sweep", "--task", "letters", "--grid", "epochs=1"]
SWEEP = {  # every one refused before a sweep folder exists or a worker starts
    "sweep-seeds-huge-range": [*W, "--seeds", "0-9999999999"],
    "sweep-seeds-many": [*W, "--seeds", ",".join(str(i) for i in range(1001))],
    "sweep-seeds-text": [*W, "--seeds", "a-b"],
    "sweep-seeds-twice": [*W, "--seeds", "1,1"],
    "sweep-seeds-overlong": [*W, "--seeds", BIG],
    "sweep-seeds-markdown": [*W, "--seeds", "[x](https://evil.example)"],
    "sweep-size-cap": [*W, "--grid", "hidden=4096", "layers=16"],
    "sweep-grid-unknown": [*W, "--grid", "flux=1,2"],
    "sweep-grid-nan": [*W, "--grid", "lr=nan"],
    "sweep-grid-inf": [*W, "--grid", "lr=inf"],
    "sweep-grid-seed": [*W, "--grid", "seed=1,2"],
    "sweep-grid-no-values": [*W, "--grid", "hidden="],
    "sweep-grid-no-equals": [*W, "--grid", "hidden"],
    "sweep-grid-twice": [*W, "--grid", "hidden=2", "hidden=3"],
    "sweep-grid-too-many": [*W, "--grid", "batch_size=" + ",".join(str(i) for i in range(1, 1002))],
    "sweep-grid-overlong": [*W, "--grid", f"hidden={BIG}"],
    "sweep-option-sine-huge": ["sweep", "--task", "sine", "--grid", "window=100000000"],
    "sweep-workers-zero": [*W, "--workers", "0"],
    "sweep-task-unknown": ["sweep", "--task", "nope"],
    "sweep-preset-unknown": [*W, "--preset", "nope"],
    "sweep-backend-unknown": [*W, "--backend", "slurm"],
}

CASES: dict[str, list[str]] = {**TRAIN, **SWEEP, **{k: [*L, "--out", v] for k, v in OUT.items()}, **EVAL,
                               **{f"predict-{k}": ["predict", *v] for k, v in PREDICT.items()}, **BENCH}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("cli-template"), "letters", name="existing")


@pytest.fixture
def runs(tmp_path, template, monkeypatch):
    """A runs folder holding one run ("existing") and a regular file, and a damaged run elsewhere."""
    root = tmp_path / "runs"
    root.mkdir()
    import shutil

    shutil.copytree(template, root / "existing")
    (root / "notes.txt").write_text("mine")
    damaged = shutil.copytree(template, tmp_path / "damaged")
    (damaged / "weights.safetensors").write_bytes(b"\0" * 64)
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(root))
    return root


@pytest.fixture
def fit_calls(monkeypatch):
    """How often ``fit`` ran: a refused command must be refused before any training."""
    calls = []
    real = train_mod.fit

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(train_mod, "fit", counting)
    return calls


@pytest.mark.parametrize("case", list(CASES))
def test_bad_cli_input_is_one_line_exit_2(case, runs, tmp_path, capsys, fit_calls):
    argv = [a.replace("{runs}", str(runs)).replace("{file}", str(runs / "notes.txt"))
            .replace("{damaged}", str(tmp_path / "damaged")) for a in CASES[case]]
    before = fingerprint(runs / "existing")
    out = bounded(lambda: main(argv), LIMIT_S)
    captured = capsys.readouterr()
    assert not out.hung, f"HANG: {case} still running after {LIMIT_S} s"
    assert out.error is None, f"TRACEBACK: {case} raised {out.error!r}\n{out.trace}"
    assert out.value == 2, f"ACCEPTED: {case} exited {out.value}; stderr: {captured.err[-500:]}"
    assert one_line_error(captured.err), f"TRACEBACK: {case}: not one error line:\n{captured.err[-2000:]}"
    assert not fit_calls, f"LOST: {case} trained a model, then refused to keep it"
    assert fingerprint(runs / "existing") == before, "LOST: an existing run changed"
    assert sorted(p.name for p in runs.iterdir()) == ["existing", "notes.txt"], "LOST: a run folder was left behind"
    assert (runs / "notes.txt").read_text() == "mine"


def test_strict_json_never_prints_nan(capsys, monkeypatch):
    """A metric that is NaN (here: a sine model whose weights make NaN) reaches stdout as null."""
    import rnn_core.cli as cli

    monkeypatch.setattr(cli, "COMMANDS", {**cli.COMMANDS, "tasks": lambda args: {"mse": float("nan"),
                                                                                "x": [float("inf")]}})
    assert main(["tasks"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(line, parse_constant=lambda c: pytest.fail(f"bare {c} in {line}")) == {"mse": None, "x": [None]}


def _proc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rnn_core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["train", "--task", "letters", "--hidden", "-1"], ["predict", SINE, BIG],
                                  ["eval", LETTERS, "--limit", "-5"], []], ids=["hidden", "overflow", "limit", "none"])
def test_real_process_exit_code(argv):
    proc = _proc(*argv)
    assert proc.returncode == 2, proc.stderr
    assert one_line_error(proc.stderr), proc.stderr
