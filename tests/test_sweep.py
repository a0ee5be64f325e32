"""Sweeps: the grid, the local and Ray backends (same assertions), failures, stop, and the saved folders."""

from __future__ import annotations

import math
import os
import statistics
import threading
import time
from pathlib import Path

import pytest

from rnn_core.runs import load_run
from rnn_core.sweep import (
    SweepSpec,
    iter_sweep,
    load_sweep,
    parse_grid,
    parse_seeds,
    results_frame,
    run_sweep,
    summarize,
    summary_frame,
)
from rnn_core.sweep.local import LocalBackend

QUICK = {"epochs": [3]}  # a few epochs of the letters seed model: each run takes a fraction of a second


# ------------------------------------------------------------------------------------------ the grid
def test_grid_values_take_their_fields_types_and_cli_spellings():
    grid = parse_grid(["cell=rnn,gru", "hidden=8,16", "lr=0.01", "bidirectional=true,false", "maxlen=200"],
                      {"hidden": "hidden_size"})
    assert grid == {"cell": ["rnn", "gru"], "hidden_size": [8, 16], "lr": [0.01],
                    "bidirectional": [True, False], "maxlen": [200]}
    assert parse_grid(["batch-size=4"]) == {"batch_size": [4]}
    assert parse_seeds("0,1,2") == [0, 1, 2] and parse_seeds("0-4") == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("items, words", [
    (["hidden_size=a"], "hidden_size takes int"),
    (["cell"], "KEY=V1,V2"),
    (["cell=rnn", "cell=gru"], "appears twice"),
])
def test_bad_grid_entries_say_what_to_write(items, words):
    with pytest.raises(ValueError, match=words):
        parse_grid(items)


def test_runs_are_checked_and_resolved_before_anything_trains():
    spec = SweepSpec("letters", "seed", {"cell": ["rnn", "gru"], "variant": ["1in", "4in"]}, seeds=(0, 1))
    runs = spec.runs()
    assert len(runs) == 8 and len({r.name for r in runs}) == 8
    assert spec.varied == ["cell", "variant"]
    gru_4in = [r for r in runs if r.point == {"cell": "gru", "variant": "4in"}]
    assert [r.seed for r in gru_4in] == [0, 1]
    assert all(r.model["cell"] == "gru" and r.task_options["variant"] == "4in" for r in gru_4in)
    assert [r.train["seed"] for r in gru_4in] == [0, 1] and gru_4in[0].train["epochs"] == 100  # the preset's
    with pytest.raises(ValueError, match="unknown grid key"):
        SweepSpec("letters", "seed", {"hiden_size": [3]}).runs()
    with pytest.raises(ValueError, match="seed is not a grid key"):
        SweepSpec("letters", "seed", {"seed": [1, 2]}).runs()
    with pytest.raises(ValueError, match="hidden_size"):
        SweepSpec("letters", "seed", {"hidden_size": [0]}).runs()
    with pytest.raises(ValueError, match="no preset"):
        SweepSpec("letters", "nope").runs()


def test_summary_is_mean_sd_min_max_over_finished_seeds_only():
    records = [
        {"index": 0, "name": "a0", "point": {"cell": "rnn"}, "seed": 0, "state": "finished",
         "final_metrics": {"val_accuracy": 0.5}, "path": "p0"},
        {"index": 1, "name": "a1", "point": {"cell": "rnn"}, "seed": 1, "state": "finished",
         "final_metrics": {"val_accuracy": 1.0}, "path": "p1"},
        {"index": 2, "name": "a2", "point": {"cell": "rnn"}, "seed": 2, "state": "failed", "message": "boom",
         "final_metrics": {}},
        {"index": 3, "name": "b0", "point": {"cell": "gru"}, "seed": 0, "state": "finished",
         "final_metrics": {"val_accuracy": 0.75}, "path": "p3"},
    ]
    table = summary_frame(results_frame(records), ["cell"]).set_index("cell")
    assert table.loc["rnn", "n"] == 2 and table.loc["rnn", "failed"] == 1
    assert table.loc["rnn", "val_accuracy_mean"] == pytest.approx(0.75)
    assert table.loc["rnn", "val_accuracy_std"] == pytest.approx(statistics.stdev([0.5, 1.0]))
    assert (table.loc["rnn", "val_accuracy_min"], table.loc["rnn", "val_accuracy_max"]) == (0.5, 1.0)
    assert table.loc["rnn", "runs"] == ["p0", "p1"]
    assert math.isnan(table.loc["gru", "val_accuracy_std"])  # one seed has no spread


# ---------------------------------------------------------------------------------------- backends
@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray instance with 2 CPUs and no dashboard, for the tests' module."""
    try:
        import ray
    except ImportError:
        msg = "ray is not installed: make test installs it (requirements-test.txt)"
        pytest.fail(msg) if os.environ.get("CI", "").lower() == "true" else pytest.skip(msg)
    from rnn_core.sweep.ray_backend import connect

    ray = connect(num_cpus=2)  # a local instance: 2 CPUs, no dashboard
    yield ray
    ray.shutdown()


def backend(name: str, request) -> object:
    if name == "ray":
        request.getfixturevalue("ray_cluster")
        from rnn_core.sweep.ray_backend import RayBackend

        return RayBackend()
    return LocalBackend(workers=2, start_method="fork")


BACKENDS = [pytest.param("local", marks=pytest.mark.slow), pytest.param("ray", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name", BACKENDS)
def test_a_sweep_saves_ordinary_runs_and_reports_progress_while_they_train(name, request, tmp_path):
    spec = SweepSpec("letters", "seed", {"cell": ["rnn", "gru"], **QUICK}, seeds=(0, 1))
    events = list(iter_sweep(spec, backend=backend(name, request), root=tmp_path))
    folder = events[-1].folder
    assert events[-1].kind == "ended" and events[-1].state == "finished" and folder.state == "finished"
    assert [r["state"] for r in folder.runs] == ["finished"] * 4
    for i in range(4):  # progress of every run reached the caller before its result did
        mine = [e for e in events if e.kind == "run" and e.index == i]
        assert any(e.progress.get("epoch") for e in mine[:-1]) and mine[-1].record["state"] == "finished"
    for rec in folder.runs:  # every run is an ordinary run folder inside the sweep's folder
        run = load_run(rec["path"])
        assert Path(rec["path"]).parent == folder.path and run.train_cfg.seed == rec["seed"]
        assert run.model_cfg.cell == rec["point"]["cell"] and len(run.metrics) == 3
        assert run.config["extra"]["sweep"] == folder.name and run.final_metrics == rec["final_metrics"]
    points = summarize(load_sweep(folder.path))
    assert [p["point"] for p in points] == [{"cell": "rnn", "epochs": 3}, {"cell": "gru", "epochs": 3}]
    for p in points:
        values = [load_run(r).final_metrics["val_accuracy"] for r in p["runs"]]
        stats = p["metrics"]["val_accuracy"]
        assert stats["mean"] == pytest.approx(statistics.mean(values))
        assert stats["std"] == pytest.approx(statistics.stdev(values))
        assert (stats["min"], stats["max"]) == (min(values), max(values)) and p["n"] == 2


@pytest.mark.parametrize("name", BACKENDS)
def test_a_run_that_raises_or_whose_worker_dies_fails_alone(name, request, tmp_path):
    spec = SweepSpec("letters", "seed", {"cell": ["rnn", "gru"], **QUICK}, seeds=(0, 1), faults={1: "raise", 2: "exit"})
    folder = run_sweep(spec, backend=backend(name, request), root=tmp_path)
    states = [r["state"] for r in folder.runs]
    assert states == ["finished", "failed", "failed", "finished"] and folder.state == "finished"
    assert "test fault: run 1 raised on purpose" in folder.runs[1]["message"]
    assert "died" in folder.runs[2]["message"] or "crash" in folder.runs[2]["message"].lower()
    assert load_run(folder.runs[3]["path"]).status == "finished"
    on_disk = load_sweep(folder.path)
    assert [r["state"] for r in on_disk.runs] == states and on_disk.runs[1]["message"] == folder.runs[1]["message"]


@pytest.mark.parametrize("name", BACKENDS)
def test_stop_cancels_pending_and_running_and_keeps_what_finished(name, request, tmp_path):
    # Runs 0-2 are quick; 3-5 would take minutes. Stop once a quick run is saved and a long one is training.
    spec = SweepSpec("letters", "seed", {"epochs": [3, 10000]}, seeds=(0, 1, 2))
    stop = threading.Event()
    seen: set[int] = set()
    stopped_at: list[float] = []

    def on_event(event):
        if event.kind == "run" and event.record["state"] == "finished":
            seen.add(event.index)
        if seen and event.kind == "run" and event.index >= 3 and event.progress.get("epoch") and not stop.is_set():
            stop.set()
            stopped_at.append(time.monotonic())

    folder = run_sweep(spec, on_event=on_event, backend=backend(name, request), root=tmp_path, stop_event=stop)
    assert stopped_at and time.monotonic() - stopped_at[0] < 20  # running runs were cut, not waited for
    states = [r["state"] for r in folder.runs]
    finished = [i for i, s in enumerate(states) if s == "finished"]
    assert folder.state == "stopped" and finished and set(finished) <= {0, 1, 2}  # a backend may start any first
    assert states[3:] == ["cancelled"] * 3 and all(s in ("finished", "cancelled") for s in states)
    for i in finished:
        assert load_run(folder.runs[i]["path"]).status == "finished"
    assert sorted(p.name for p in folder.path.iterdir() if not p.name.startswith(".")) == sorted(
        [folder.runs[i]["name"] for i in finished] + ["sweep.json"])


def test_ray_is_optional_for_the_app_and_pinned_for_the_tests():
    root = Path(__file__).resolve().parents[1]
    app_reqs = (root / "requirements.txt").read_text().lower().splitlines()
    assert not any(line.startswith("ray") for line in app_reqs)
    assert "ray==2.60.0" in (root / "requirements-test.txt").read_text().splitlines()
    # Only the ray backend imports ray at module level; everything else works without it.
    top_level = [p.name for p in (root / "rnn_core").rglob("*.py")
                 if any(line.startswith(("import ray", "from ray")) for line in p.read_text().splitlines())]
    assert top_level == []


@pytest.mark.slow
def test_one_worker_with_every_core_runs_each_run_after_the_parent_used_threads(tmp_path):
    # A forked child that starts an OpenMP team after its parent had one hangs (libgomp is not fork-safe):
    # a worker with more than one torch thread must come from a forkserver, and run after run must go on.
    import torch

    torch.set_num_threads(2)
    torch.randn(512, 512) @ torch.randn(512, 512)  # the parent has used a thread team now
    engine = LocalBackend(workers=1)
    assert engine.threads == cpu_count_for_test() and engine.start_method == (
        "forkserver" if engine.threads > 1 else "fork")
    spec = SweepSpec("letters", "seed", QUICK, seeds=(0, 1, 2))
    folder = run_sweep(spec, backend=engine, root=tmp_path)
    assert [r["state"] for r in folder.runs] == ["finished"] * 3


def cpu_count_for_test() -> int:
    from rnn_core.sweep.backend import cpu_count

    return cpu_count()


def test_the_runs_list_shows_a_sweeps_runs_as_sweep_slash_run(tmp_path):
    from rnn_core import build_model, get_task, save_run
    from rnn_core.runs import list_runs
    from rnn_core.sweep import SweepFolder

    spec = SweepSpec("letters", "seed", {"cell": ["rnn", "gru"]})
    runs = spec.runs()
    folder = SweepFolder.create(spec, runs, name="grid", root=tmp_path)
    task = get_task("letters")
    mcfg, tcfg = task.configs("seed")
    save_run(build_model(mcfg), task, tcfg, name=runs[0].name, root=folder.path)
    save_run(build_model(mcfg), task, tcfg, name="plain", root=tmp_path)
    rows = {r["name"]: r for r in list_runs(tmp_path, include_pretrained=False)}
    assert set(rows) == {f"grid/{runs[0].name}", "plain"}  # the sweep folder itself is no (damaged) run
    assert rows[f"grid/{runs[0].name}"]["sweep"] == "grid" and rows["plain"]["sweep"] is None
    assert load_run(rows[f"grid/{runs[0].name}"]["path"]).status == "finished"


@pytest.mark.slow
def test_a_sweep_worker_sizes_the_model_to_the_loaded_data():
    # The tagger's word and character vocabularies are known only once its data is loaded; a worker that built
    # the preset's model as written indexed past its embedding (IndexError) on the first batch.
    from safetensors.torch import load as load_safetensors

    from rnn_core.sweep.worker import train_run

    run = SweepSpec("pos", "seed", {"limit": [40], "epochs": [1]}, seeds=(0,)).runs()[0]
    payload = train_run(run, num_threads=1)
    assert payload["status"] == "finished" and 0.0 <= payload["final_metrics"]["test_accuracy"] <= 1.0
    vocab = payload["task_state"]["vocab"]
    weights = load_safetensors(payload["weights"])
    word_rows = [v.shape[0] for k, v in weights.items() if k.endswith("embed.weight") and "char" not in k]
    assert payload["model"]["vocab_size"] > 2 and word_rows == [payload["model"]["vocab_size"]] and vocab


@pytest.mark.slow
def test_a_reused_worker_gives_each_run_the_result_it_gets_alone(tmp_path):
    # A local worker trains run after run: what ran before in that process must not change a run's result.
    from rnn_core.sweep.worker import train_run

    spec = SweepSpec("letters", "seed", {"cell": ["rnn", "gru"], **QUICK}, seeds=(0, 1, 2))
    engine = LocalBackend(workers=2)  # one torch thread each, as the comparison below
    folder = run_sweep(spec, backend=engine, root=tmp_path)
    assert engine.threads == 1 and len({r["pid"] for r in folder.runs}) <= 2  # two processes trained all six
    for run, rec in zip(spec.runs(), folder.runs, strict=True):
        alone = train_run(run, num_threads=1)["final_metrics"]
        assert rec["final_metrics"] == pytest.approx(alone, rel=1e-5, abs=1e-7), (rec["name"], rec["pid"])


@pytest.mark.slow
def test_a_local_ray_instance_runs_its_workers_at_the_callers_priority(ray_cluster):
    """Ray nices its workers to 15 by default: beside any busy process they all but stop. The instance
    ``connect`` starts runs them at this process's niceness, like the local backend's pool."""
    niceness = ray_cluster.get(ray_cluster.remote(lambda: os.nice(0)).remote())
    assert niceness == os.nice(0)


@pytest.mark.slow
def test_a_killed_ray_sweep_leaves_every_finished_run_readable(ray_cluster, tmp_path):
    # The same promise as the local backend's (test_sweep_cli): a sweep driving Ray is SIGKILLed while its second
    # run trains; the first run stays readable, and Ray stops the task of the driver that is gone.
    from sweep_helpers import kill_sweep_mid_run

    out = tmp_path / "killed"
    long_pid = kill_sweep_mid_run(out, "--backend", "ray", "--address", ray_cluster.get_runtime_context().gcs_address)
    folder = load_sweep(out)
    assert folder.state == "interrupted" and [r["state"] for r in folder.runs] == ["finished", "cancelled"]
    run = load_run(folder.runs[0]["path"])
    assert run.status == "finished" and len(run.metrics) == 3
    deadline = time.monotonic() + 120
    while Path(f"/proc/{long_pid}").exists() and "State:\tZ" not in _status(long_pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not Path(f"/proc/{long_pid}").exists() or "State:\tZ" in _status(long_pid) or not _trains(long_pid), \
        "the Ray worker of the killed sweep kept training"


def _status(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "State:\tZ"


def _trains(pid: int) -> bool:
    """Whether the process still uses CPU: a Ray worker may be kept as an idle process for the next job."""
    def ticks() -> int:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0
        return int(fields[11]) + int(fields[12])  # utime + stime

    before = ticks()
    time.sleep(2.0)
    return ticks() - before > 20  # more than 0.2 s of CPU in 2 s
