"""Saved runs: a faithful round trip, safe names, atomic saves, and damaged or hostile folders refused
with a RunError naming the file — never a traceback, never unpickled."""

import json
import math
import pickle
from pathlib import Path
from typing import ClassVar

import pytest
import torch
from safetensors.torch import save_file

from rnn_core import ModelConfig, TrainConfig, build_model
from rnn_core import runs as runs_mod
from rnn_core.runs import (
    RunError,
    RunNotFoundError,
    delete_run,
    list_runs,
    load_run,
    rename_run,
    runs_dir,
    safe_run_dir,
    save_run,
)
from rnn_core.runs import files as run_files
from rnn_core.runs import folder as run_folder
from rnn_core.tasks import Preset, Task, available
from rnn_core.train import History


class TinyTask(Task):
    """A stand-in token task: a fixed three-token vocabulary, two classes."""

    name = "tiny"
    kind = "classify"
    presets: ClassVar[dict[str, Preset]] = {"seed": Preset("tiny")}

    def __init__(self, **options):
        super().__init__(**options)
        self.vocab = {"tokens": ["<pad>", "a", "b", "c"]}

    @property
    def labels(self):
        return ["no", "yes"]

    def base_model_config(self):
        return ModelConfig(cell="gru", vocab_size=4, embed_dim=3, hidden_size=5, num_layers=2, output_size=2)


def tiny_factory(name, **options):
    assert name == "tiny"
    return TinyTask(**options)


def history(n=3, **kw):
    epochs = [dict(epoch=e, train_loss=1 / e, train_accuracy=0.5 + e / 10, val_loss=1.1 / e, val_accuracy=0.4 + e / 10,
                   seconds=0.1, tokens_per_s=1000.0) for e in range(1, n + 1)]  # fmt: skip
    batches = [dict(step=s, epoch=1 + s // 4, batch=1 + s % 4, loss=2.0 / (s + 1), accuracy=0.5) for s in range(4 * n)]
    return History(epochs=epochs, batches=batches, **kw)


@pytest.fixture
def root(tmp_path):
    return tmp_path / "runs"


@pytest.fixture
def saved(root):
    task = TinyTask(flavour="x")
    model = build_model(task.base_model_config(), seed=1)
    tensors = {"probe/x": torch.tensor([[1, 2, 3, 1]]), "probe/lengths": torch.tensor([4]),
               "epoch1/layers.0.fwd.hook_h": torch.randn(1, 4, 5), "epoch1/hook_logits": torch.randn(1, 4, 2)}
    probe = {"tensors": tensors, "meta": {"steps": ["a", "b", "c", "a"]}}
    path = save_run(model, task, TrainConfig(epochs=3, lr=0.01), history(), name="my run", root=root, preset="seed",
                    probe=probe, extra={"note": "hi"})  # fmt: skip
    return path, model


def test_round_trip_restores_model_task_metrics_and_probe(saved, root):
    path, model = saved
    assert path == root.resolve() / "my-run"  # the space became a dash
    run = load_run("my-run", root=root, task_factory=tiny_factory)
    x = torch.tensor([[1, 2, 3, 1], [3, 1, 0, 0]])
    model.eval()
    torch.testing.assert_close(run.model(x), model(x), rtol=0, atol=0)
    assert not run.model.training
    assert run.model_cfg == model.cfg and run.train_cfg == TrainConfig(epochs=3, lr=0.01)
    assert run.task.vocab == {"tokens": ["<pad>", "a", "b", "c"]} and run.task.options == {"flavour": "x"}
    assert list(run.metrics["epoch"]) == [1, 2, 3] and run.metrics["val_accuracy"].iloc[-1] == pytest.approx(0.7)
    assert len(run.batches) == 12 and list(run.batches.columns) == ["step", "epoch", "batch", "loss", "accuracy"]
    assert sorted(run.probe) == ["epoch1/hook_logits", "epoch1/layers.0.fwd.hook_h", "probe/lengths", "probe/x"]
    assert run.probe["epoch1/layers.0.fwd.hook_h"].shape == (1, 4, 5) and run.warnings == []
    assert run.probe_meta == {"steps": ["a", "b", "c", "a"]}
    assert run.status == "finished" and run.name == "my-run" and not run.pretrained
    cfg = run.config
    assert cfg["format"] == 1 and cfg["task"] == "tiny" and cfg["preset"] == "seed" and cfg["extra"] == {"note": "hi"}
    assert cfg["final_metrics"]["val_accuracy"] == pytest.approx(0.7) and cfg["params"] == sum(
        p.numel() for p in model.parameters()
    )
    assert sorted(p.name for p in path.iterdir()) == sorted(run_files.RUN_FILES)
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # no temporary folders left


def test_load_by_directory_path_and_weights_metadata(saved):
    path, _ = saved
    from safetensors import safe_open

    with safe_open(str(path / "weights.safetensors"), framework="pt") as f:
        assert f.metadata() == {"format": "unrolled-1"}
    assert load_run(str(path), task_factory=tiny_factory).name == "my-run"


def test_default_names_are_unique_and_status_follows_history(root):
    task = TinyTask()
    model = build_model(task.base_model_config())
    a = save_run(model, task, TrainConfig(), history(1), root=root)
    b = save_run(model, task, TrainConfig(), history(1, diverged=True, message="loss became NaN"), root=root)
    assert a.name.startswith("tiny-gru-") and a != b
    cfg = json.loads((b / "config.json").read_text())
    assert cfg["status"] == "diverged" and cfg["message"] == "loss became NaN"
    c = save_run(model, task, TrainConfig(), history(1, stopped=True), root=root, name="stopped one")
    assert json.loads((c / "config.json").read_text())["status"] == "stopped"
    with pytest.raises(ValueError, match="already exists"):
        save_run(model, task, TrainConfig(), root=root, name="stopped one")
    with pytest.raises(ValueError, match="status"):
        save_run(model, task, TrainConfig(), root=root, status="great")


def test_overwrite_replaces_a_run(saved, root):
    _path, _ = saved
    task = TinyTask()
    save_run(
        build_model(task.base_model_config()), task, TrainConfig(epochs=7), name="my-run", root=root, overwrite=True
    )
    run = load_run("my-run", root=root, task_factory=tiny_factory)
    assert run.train_cfg.epochs == 7 and run.metrics.empty and run.probe == {}
    assert [p.name for p in root.iterdir()] == ["my-run"]


def test_nan_metrics_still_give_strict_json(root):
    task = TinyTask()
    h = history(2, diverged=True)
    h.epochs[-1]["train_loss"] = math.nan
    path = save_run(build_model(task.base_model_config()), task, TrainConfig(), h, root=root)

    def refuse(c):
        raise AssertionError(f"non-standard JSON constant {c}")

    cfg = json.loads((path / "config.json").read_text(), parse_constant=refuse)
    assert cfg["final_metrics"]["train_loss"] is None
    assert math.isnan(load_run(path, task_factory=tiny_factory).metrics["train_loss"].iloc[-1])


def test_failed_save_leaves_nothing_behind(root, monkeypatch):
    task = TinyTask()

    def broken(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(run_folder, "save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        save_run(build_model(task.base_model_config()), task, TrainConfig(), history(), root=root, name="x")
    assert list(root.iterdir()) == []
    with pytest.raises(ValueError, match="probe"):
        save_run(build_model(task.base_model_config()), task, TrainConfig(), root=root, probe={"a": [1, 2]})


@pytest.mark.parametrize(
    "bad",
    ["../x", "/etc", "a/b", "..", ".", "", "   ", "a\x00b", "x" * 81, "réseau", "名前", ".hidden", "-flag", "a..b"],
)
def test_unsafe_run_names_are_refused(bad, root):
    with pytest.raises(ValueError, match="run name"):
        safe_run_dir(bad, root)


def test_safe_names_accepted(root):
    assert safe_run_dir("  imdb lstm  v1.2_b ", root).name == "imdb-lstm-v1.2_b"
    assert safe_run_dir("x" * 80, root).parent == root.resolve()


def test_symlink_out_of_root_is_refused(root, tmp_path):
    root.mkdir()
    (root / "sneaky").symlink_to(tmp_path)
    with pytest.raises(ValueError, match="outside"):
        safe_run_dir("sneaky", root)


def test_runs_dir_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(tmp_path / "elsewhere"))
    assert runs_dir() == (tmp_path / "elsewhere").resolve() and runs_dir().is_dir()


# ---------------------------------------------------------------------------------------- damaged runs
def expect_damaged(path, fname, match=None):
    with pytest.raises(RunError) as err:
        load_run(path, task_factory=tiny_factory)
    msg = str(err.value)
    assert fname in msg and "delete it or re-train" in msg, msg
    if match:
        assert match in msg, msg


def edit_config(path, **changes):
    cfg = json.loads((path / "config.json").read_text())
    for k, v in changes.items():
        if isinstance(v, dict) and isinstance(cfg.get(k), dict):
            cfg[k].update(v)
        else:
            cfg[k] = v
    (path / "config.json").write_text(json.dumps(cfg))


def test_truncated_weights(saved):
    path, _ = saved
    data = (path / "weights.safetensors").read_bytes()
    (path / "weights.safetensors").write_bytes(data[: len(data) // 2])
    expect_damaged(path, "weights.safetensors")
    (path / "weights.safetensors").write_bytes(data[:5])  # not even the header length
    expect_damaged(path, "weights.safetensors")


def test_weights_that_dont_fit_the_config(saved):
    path, _ = saved
    edit_config(path, model={"hidden_size": 6})
    expect_damaged(path, "weights.safetensors", "wrong shapes")
    edit_config(path, model={"hidden_size": 5})
    sd = load_run(path, task_factory=tiny_factory).model.state_dict()
    sd["head.kernel"] = sd.pop("head.weight")
    save_file(sd, str(path / "weights.safetensors"))
    expect_damaged(path, "weights.safetensors", "missing")


@pytest.mark.parametrize("via_torch_save", [False, True])
def test_pickle_disguised_as_weights_never_runs(saved, tmp_path, via_torch_save):
    path, _ = saved
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    if via_torch_save:
        torch.save({"x": Evil()}, path / "weights.safetensors")
    else:
        (path / "weights.safetensors").write_bytes(pickle.dumps({"x": Evil()}))
    assert not marker.exists()
    expect_damaged(path, "weights.safetensors")
    list_runs(path.parent)
    assert not marker.exists()
    source = "".join(f.read_text() for f in Path(runs_mod.__file__).parent.glob("*.py"))
    assert "torch.load" not in source and "import pickle" not in source


@pytest.mark.parametrize("fname", ["config.json", "vocab.json"])
@pytest.mark.parametrize("content", ["{", "[1, 2]", "\xff\xfe", "[" * 100_000 + "]" * 100_000])
def test_invalid_json(saved, fname, content):
    path, _ = saved
    (path / fname).write_bytes(content.encode("latin-1"))
    expect_damaged(path, fname)


def test_config_missing_keys_or_absurd_sizes(saved, monkeypatch):
    path, _ = saved
    good = (path / "config.json").read_text()
    edit_config(path, model="lstm")
    expect_damaged(path, "config.json")
    cfg = json.loads(good)
    del cfg["model"]
    (path / "config.json").write_text(json.dumps(cfg))
    expect_damaged(path, "config.json", "missing model")
    for bad in ({"hidden_size": 10**9}, {"hidden_size": "100"}, {"cell": "transformer"}, {"vocab_size": "many"}):
        (path / "config.json").write_text(good)
        edit_config(path, model=bad)
        expect_damaged(path, "config.json")

    def must_not_build(*a, **k):
        raise AssertionError("an absurd config must be refused before the model is allocated")

    monkeypatch.setattr(run_folder, "build_model", must_not_build)
    (path / "config.json").write_text(good)
    # Within every per-field bound of ModelConfig.validate, yet 4 billion parameters in all.
    edit_config(path, model={"vocab_size": 1_000_000, "embed_dim": 4096})
    expect_damaged(path, "config.json", "parameters")


def test_missing_files_and_newer_format(saved):
    path, _ = saved
    edit_config(path, format=99)
    with pytest.raises(RunError, match="newer"):
        load_run(path, task_factory=tiny_factory)
    (path / "vocab.json").unlink()
    expect_damaged(path, "vocab.json", "missing")


def test_huge_files_are_refused_without_reading(saved):
    path, _ = saved
    weights = (path / "weights.safetensors").read_bytes()
    with open(path / "weights.safetensors", "r+b") as f:
        f.truncate(513 * 2**20)  # sparse: costs no disk
    expect_damaged(path, "weights.safetensors", "MB")
    (path / "weights.safetensors").write_bytes(weights)
    with open(path / "vocab.json", "r+b") as f:
        f.truncate(11 * 2**20)
    expect_damaged(path, "vocab.json", "MB")


def test_damaged_probe_and_metrics_are_left_out_with_a_warning(saved):
    """The model of a run whose optional files are damaged still loads; the warnings name each file."""
    path, _ = saved
    (path / "probe.safetensors").write_bytes(b"garbage")
    (path / "metrics.csv").write_bytes(b'a,b\n1,"2\n')
    run = load_run(path, task_factory=tiny_factory)
    assert dict(run.probe) == {} and run.metrics.empty
    assert [w.split()[0] for w in run.warnings] == ["metrics.csv", "probe.safetensors"]


def test_unknown_task_is_a_clear_error(saved):
    path, _ = saved
    with pytest.raises(RunError, match="tiny"):
        load_run(path)  # the real registry has no "tiny" task


# ------------------------------------------------------------------------------------------- managing
def test_list_runs_reports_damaged_folders_and_skips_temporaries(saved, root):
    _path, _ = saved
    task = TinyTask()
    save_run(build_model(task.base_model_config()), task, TrainConfig(), history(1), root=root, name="second")
    (root / "broken").mkdir()
    (root / "broken" / "config.json").write_text("{not json")
    (root / ".saving-abc").mkdir()
    rows = {r["name"]: r for r in list_runs(root, include_pretrained=False)}
    assert set(rows) == {"my-run", "second", "broken"}
    assert rows["broken"]["status"] == "damaged" and "config.json" in rows["broken"]["message"]
    mine = rows["my-run"]
    assert (mine["task"], mine["cell"], mine["status"], mine["pretrained"]) == ("tiny", "gru", "finished", False)
    assert mine["final_metrics"]["val_accuracy"] == pytest.approx(0.7) and mine["created"]


def test_pretrained_runs_are_found_listed_and_protected(saved, root, tmp_path, monkeypatch):
    path, _ = saved
    bundled = tmp_path / "pretrained"
    bundled.mkdir()
    path.rename(bundled / "shipped")
    monkeypatch.setattr(run_files, "pretrained_dir", lambda: bundled)
    run = load_run("shipped", root=root, task_factory=tiny_factory)
    assert run.pretrained and run.path == bundled / "shipped"
    assert [(r["name"], r["pretrained"]) for r in list_runs(root)] == [("shipped", True)]
    assert list_runs(root, include_pretrained=False) == []
    with pytest.raises(RunNotFoundError):
        delete_run("shipped", root=root)
    with pytest.raises(ValueError, match="bundled"):
        delete_run("shipped", root=bundled)
    assert (bundled / "shipped" / "weights.safetensors").is_file()


def test_rename_run(saved, root):
    task = TinyTask()
    save_run(build_model(task.base_model_config()), task, TrainConfig(), root=root, name="taken")
    with pytest.raises(ValueError, match="already exists"):
        rename_run("my-run", "taken", root=root)
    with pytest.raises(ValueError, match="run name"):
        rename_run("my-run", "../escape", root=root)
    new = rename_run("my-run", "better name", root=root)
    assert new.name == "better-name" and not (root / "my-run").exists()
    assert json.loads((new / "config.json").read_text())["name"] == "better-name"
    assert load_run("better-name", root=root, task_factory=tiny_factory).name == "better-name"
    with pytest.raises(RunNotFoundError):
        load_run("my-run", root=root, task_factory=tiny_factory)


def test_delete_run_only_touches_run_folders_inside_root(saved, root, tmp_path):
    path, _ = saved
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "config.json").write_text("{}")
    with pytest.raises(ValueError):
        delete_run("../precious", root=root)
    (root / "homework").mkdir()
    (root / "homework" / "essay.txt").write_text("keep me")
    with pytest.raises(ValueError, match="by hand"):
        delete_run("homework", root=root)
    assert (root / "homework" / "essay.txt").exists() and outside.exists()
    (path / "config.json").write_text("{damaged")  # damaged runs can be deleted
    delete_run("my-run", root=root)
    assert not path.exists()
    with pytest.raises(RunNotFoundError):
        delete_run("my-run", root=root)


@pytest.mark.skipif("letters" not in available(), reason="letters task not present")
def test_real_task_round_trip_through_the_registry(root):
    from rnn_core.tasks import get_task

    task = get_task("letters", variant="4in")
    mcfg, tcfg = task.configs("seed")
    model = build_model(mcfg, seed=0)
    path = save_run(model, task, tcfg, root=root)
    run = load_run(path.name, root=root)
    assert run.task.variant == "4in" and run.task.name == "letters"
    x = task.encode("abcd")[0]
    model.eval()
    torch.testing.assert_close(run.model(x), model(x), rtol=0, atol=0)


@pytest.mark.skipif("letters" not in available(), reason="letters task not present")
def test_saves_what_fit_returns(root):
    from rnn_core.tasks import get_task
    from rnn_core.train import fit

    task = get_task("letters")
    mcfg, tcfg = task.configs("seed", epochs=3, hidden_size=4)
    model = build_model(mcfg, seed=0)
    hist = fit(model, task, tcfg)
    path = save_run(model, task, tcfg, hist, root=root, preset="seed")
    run = load_run(path)
    assert list(run.metrics["epoch"]) == [1, 2, 3]
    assert run.final_metrics == pytest.approx(hist.final_metrics())
    assert len(run.batches) == len(hist.batches) and run.config["epochs_done"] == 3
    assert run.config["tokens_per_s"] == pytest.approx(hist.tokens_per_s)


def test_unknown_device_is_a_clear_error(saved):
    path, _ = saved
    with pytest.raises(ValueError, match="device"):
        load_run(path, device="tpu", task_factory=tiny_factory)
