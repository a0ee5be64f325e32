"""The run-loader attack: damaged and hostile run folders (links, FIFOs, devices, lying headers, sizes that
would allocate gigabytes, wrong dtypes, NaN weights, task/model mismatches, odd JSON) must be refused at once
with a RunError naming the file — or, for an optional file, load with a warning naming it — while the runs
list keeps working and the run beside it loads untouched."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
import torch
from attack_helpers import LIMIT_S, bounded, copy_run, fingerprint, make_run
from safetensors.torch import load_file, save_file

from rnn_core.runs import RunError, list_runs, load_run, resolve_run

FILES = ("config.json", "weights.safetensors", "vocab.json", "metrics.csv", "batches.csv", "probe.safetensors",
         "probe.json")
OPTIONAL = ("metrics.csv", "batches.csv", "probe.safetensors", "probe.json")


# ------------------------------------------------------------------------------------------ mutations
def _edit_json(fname: str, change):
    def mutate(d: Path) -> None:
        data = json.loads((d / fname).read_text())
        change(data)
        (d / fname).write_text(json.dumps(data))
    return mutate


def _set(fname: str, path: str, value):
    """config.json / vocab.json with the dotted ``path`` set to ``value``."""
    def change(data):
        *parents, last = path.split(".")
        for p in parents:
            data = data.setdefault(p, {})
        data[last] = value
    return _edit_json(fname, change)


def _drop(fname: str, key: str):
    return _edit_json(fname, lambda data: data.pop(key, None))


def _write(fname: str, content: bytes | str):
    def mutate(d: Path) -> None:
        (d / fname).unlink(missing_ok=True)
        (d / fname).write_bytes(content if isinstance(content, bytes) else content.encode())
    return mutate


def _remove(fname: str):
    return lambda d: (d / fname).unlink()


def _link(fname: str, target: str):
    def mutate(d: Path) -> None:
        (d / fname).unlink(missing_ok=True)
        os.symlink(target, d / fname)
    return mutate


def _link_neighbor(fname: str):
    """A link to the same file of the run beside it (a file outside the run folder)."""
    return _link(fname, f"../neighbor/{fname}")


def _fifo(fname: str):
    def mutate(d: Path) -> None:
        (d / fname).unlink(missing_ok=True)
        os.mkfifo(d / fname)
    return mutate


def _dir(fname: str):
    def mutate(d: Path) -> None:
        (d / fname).unlink(missing_ok=True)
        (d / fname).mkdir()
    return mutate


def _big(fname: str, mb: int):
    def mutate(d: Path) -> None:
        with open(d / fname, "ab") as f:
            f.truncate(mb * 2**20)  # sparse: big by size, cheap on disk
    return mutate


def _weights(change):
    """weights.safetensors rewritten after ``change(tensors)``."""
    def mutate(d: Path) -> None:
        tensors = load_file(str(d / "weights.safetensors"))
        change(tensors)
        save_file(tensors, str(d / "weights.safetensors"), metadata={"format": "unrolled-1"})
    return mutate


def _first(tensors: dict) -> str:
    return sorted(tensors)[0]


def _header(header: dict | bytes, length: int | None = None, body: bytes = b""):
    """A safetensors file with a hand-made header (lying lengths, offsets, dtypes)."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + body


def _probe(change):
    def mutate(d: Path) -> None:
        tensors = load_file(str(d / "probe.safetensors"))
        change(tensors)
        save_file(tensors, str(d / "probe.safetensors"), metadata={"format": "unrolled-1"})
    return mutate


def _with_probe(mutate):
    """Give the run a probe first (probe files exist only for trained runs), then damage it."""
    def both(d: Path) -> None:
        x = torch.eye(5)[None, :1]  # [1, 1, 5] one letter
        tensors = {"probe/x": x, "probe/lengths": torch.tensor([1]), "epoch0/layers.0.fwd.hook_h": torch.zeros(1, 1, 3),
                   "epoch0/hook_logits": torch.zeros(1, 1, 5)}
        save_file(tensors, str(d / "probe.safetensors"), metadata={"format": "unrolled-1"})
        (d / "probe.json").write_text(json.dumps({"labels": ["a"], "epochs": [0]}))
        mutate(d)
    return both


def _csv_rows(fname: str, text: str):
    return _write(fname, text)


W = "weights.safetensors"
CASES: dict[str, tuple[str | None, str, object]] = {
    # id: (file it damages, "refuse" | "degrade" | "any", mutation)
    # --- every file as a link, FIFO, device or directory (read only if a regular file inside the folder)
    **{f"{f}-fifo": (f, "refuse" if f not in OPTIONAL else "degrade", _fifo(f)) for f in FILES
       if not f.startswith("probe")},
    **{f"{f}-dev-zero": (f, "refuse" if f not in OPTIONAL else "degrade", _link(f, "/dev/zero")) for f in FILES
       if not f.startswith("probe")},
    **{f"{f}-dev-urandom": (f, "refuse" if f not in OPTIONAL else "degrade", _link(f, "/dev/urandom"))
       for f in ("config.json", W, "metrics.csv")},
    **{f"{f}-etc-passwd": (f, "refuse" if f not in OPTIONAL else "degrade", _link(f, "/etc/passwd")) for f in FILES
       if not f.startswith("probe")},
    "metrics-etc-shadow": ("metrics.csv", "degrade", _link("metrics.csv", "/etc/shadow")),
    "batches-etc-hostname": ("batches.csv", "degrade", _link("batches.csv", "/etc/hostname")),
    **{f"{f}-neighbor-link": (f, "refuse" if f not in OPTIONAL else "degrade", _link_neighbor(f)) for f in
       ("config.json", W, "vocab.json", "metrics.csv")},
    **{f"{f}-dangling": (f, "refuse" if f not in OPTIONAL else "degrade", _link(f, "/nonexistent/x")) for f in
       ("config.json", W, "vocab.json", "metrics.csv")},
    **{f"{f}-directory": (f, "refuse" if f not in OPTIONAL else "degrade", _dir(f)) for f in FILES
       if not f.startswith("probe")},
    **{f"{f}-missing": (f, "refuse", _remove(f)) for f in ("config.json", W, "vocab.json")},
    **{f"{f}-empty": (f, "refuse" if f not in OPTIONAL else "any", _write(f, b"")) for f in
       ("config.json", W, "vocab.json", "metrics.csv")},
    **{f"{f}-binary": (f, "refuse" if f not in OPTIONAL else "degrade", _write(f, os.urandom(4096))) for f in
       ("config.json", W, "vocab.json", "metrics.csv", "batches.csv")},
    **{f"{f}-too-big": (f, "refuse" if f not in OPTIONAL else "degrade", _big(f, mb)) for f, mb in
       (("config.json", 11), (W, 600), ("vocab.json", 11), ("metrics.csv", 70))},
    # --- config.json content
    "config-list": ("config.json", "refuse", _write("config.json", "[1, 2]")),
    "config-null": ("config.json", "refuse", _write("config.json", "null")),
    "config-deep": ("config.json", "refuse", _write("config.json", "[" * 5000 + "]" * 5000)),
    "config-not-utf8": ("config.json", "refuse", _write("config.json", b'{"task": "\xff\xfe"}')),
    "config-no-task": ("config.json", "refuse", _drop("config.json", "task")),
    "config-no-model": ("config.json", "refuse", _drop("config.json", "model")),
    "config-format-99": ("config.json", "refuse", _set("config.json", "format", 99)),
    "config-format-str": ("config.json", "refuse", _set("config.json", "format", "1")),
    "config-task-unknown": ("config.json", "refuse", _set("config.json", "task", "nope")),
    "config-task-list": ("config.json", "refuse", _set("config.json", "task", ["letters"])),
    "config-task-markdown": ("config.json", "refuse", _set("config.json", "task", "[x](https://evil.example)")),
    "config-model-list": ("config.json", "refuse", _set("config.json", "model", [1])),
    "config-model-str": ("config.json", "refuse", _set("config.json", "model", "lstm")),
    "config-train-list": ("config.json", "refuse", _set("config.json", "train", [])),
    "config-cell-bad": ("config.json", "refuse", _set("config.json", "model.cell", "transformer")),
    "config-cell-int": ("config.json", "refuse", _set("config.json", "model.cell", 3)),
    "config-hidden-neg": ("config.json", "refuse", _set("config.json", "model.hidden_size", -1)),
    "config-hidden-huge": ("config.json", "refuse", _set("config.json", "model.hidden_size", 10**9)),
    "config-hidden-str": ("config.json", "refuse", _set("config.json", "model.hidden_size", "32")),
    "config-hidden-float": ("config.json", "refuse", _set("config.json", "model.hidden_size", 3.5)),
    "config-hidden-bool": ("config.json", "refuse", _set("config.json", "model.hidden_size", True)),
    "config-layers-huge": ("config.json", "refuse", _set("config.json", "model.num_layers", 10**6)),
    "config-layers-zero": ("config.json", "refuse", _set("config.json", "model.num_layers", 0)),
    "config-wide-head": ("config.json", "refuse", _set("config.json", "model.output_size", 1_000_000)),
    "config-head-mismatch": ("config.json", "refuse", _set("config.json", "model.output_size", 7)),
    "config-input-mismatch": ("config.json", "refuse", _set("config.json", "model.input_size", 9)),
    "config-huge-embedding": ("config.json", "refuse", lambda d: (
        _set("config.json", "model.vocab_size", 10_000_000)(d), _set("config.json", "model.embed_dim", 8)(d))),
    "config-huge-embed-dim": ("config.json", "refuse", lambda d: (
        _set("config.json", "model.vocab_size", 50)(d), _set("config.json", "model.embed_dim", 10**7)(d))),
    "config-huge-input": ("config.json", "refuse", _set("config.json", "model.input_size", 100_000)),
    "config-big-model-small-file": ("config.json", "refuse", lambda d: (
        _set("config.json", "model.hidden_size", 4000)(d), _set("config.json", "model.num_layers", 2)(d))),
    "config-dropout-nan": ("config.json", "refuse", _write("config.json", (
        '{"format": 1, "task": "letters", "train": {}, "model": {"cell": "rnn", "input_size": 5, "output_size": 5,'
        ' "hidden_size": 3, "dropout": NaN}}'))),
    "config-head-bad": ("config.json", "refuse", _set("config.json", "model.head", "all")),
    "config-bidirectional-str": ("config.json", "refuse", _set("config.json", "model.bidirectional", "yes")),
    "config-lr-str": ("config.json", "refuse", _set("config.json", "train.lr", "fast")),
    "config-clip-nan": ("config.json", "refuse", _write("config.json", (
        '{"format": 1, "task": "letters", "model": {"cell": "rnn", "input_size": 5, "output_size": 5,'
        ' "hidden_size": 3}, "train": {"clip_grad": NaN}}'))),
    "config-epochs-neg": ("config.json", "refuse", _set("config.json", "train.epochs", -3)),
    "config-seed-neg": ("config.json", "refuse", _set("config.json", "train.seed", -1)),
    "config-final-metrics-list": ("config.json", "any", _set("config.json", "final_metrics", [1, 2])),
    "config-final-metrics-str": ("config.json", "any", _set("config.json", "final_metrics", "great")),
    "config-final-metrics-nested": ("config.json", "any", _set("config.json", "final_metrics", {"val_loss": {"x": 1}})),
    "config-final-metrics-nan": ("config.json", "any", _write("config.json", (
        '{"format": 1, "task": "letters", "model": {"cell": "rnn", "input_size": 5, "output_size": 5,'
        ' "hidden_size": 3, "head": "last"}, "train": {}, "final_metrics": {"val_loss": NaN, "val_accuracy": Infinity}}'
    ))),
    "config-status-odd": ("config.json", "any", _set("config.json", "status", {"x": 1})),
    "config-created-odd": ("config.json", "any", _set("config.json", "created", [2020])),
    "config-params-str": ("config.json", "any", _set("config.json", "params", "many")),
    "config-name-markdown": ("config.json", "any", _set("config.json", "name", "![x](http://evil.example/a.png)")),
    "config-preset-list": ("config.json", "any", _set("config.json", "preset", [1])),
    "config-extra-list": ("config.json", "any", _set("config.json", "extra", [1])),
    # --- vocab.json (the task state)
    "vocab-list": ("vocab.json", "refuse", _write("vocab.json", "[]")),
    "vocab-options-list": ("vocab.json", "refuse", _set("vocab.json", "options", [1])),
    "vocab-options-unknown": ("vocab.json", "refuse", _set("vocab.json", "options.colour", "red")),
    "vocab-variant-bad": ("vocab.json", "refuse", _set("vocab.json", "options.variant", "9in")),
    "vocab-vocab-list": ("vocab.json", "refuse", _set("vocab.json", "vocab", [1, 2])),
    "vocab-alphabet-wrong": ("vocab.json", "refuse", _set("vocab.json", "vocab.alphabet", "xyz")),
    # --- weights.safetensors
    "weights-float64": (W, "refuse", _weights(lambda t: t.update({k: v.double() for k, v in t.items()}))),
    "weights-float16": (W, "refuse", _weights(lambda t: t.update({k: v.half() for k, v in t.items()}))),
    "weights-int64": (W, "refuse", _weights(lambda t: t.update({k: v.long() for k, v in t.items()}))),
    "weights-bf16": (W, "refuse", _weights(lambda t: t.update({k: v.bfloat16() for k, v in t.items()}))),
    "weights-nan": (W, "refuse", _weights(lambda t: t[_first(t)].fill_(float("nan")))),
    "weights-inf": (W, "refuse", _weights(lambda t: t[_first(t)].fill_(float("inf")))),
    "weights-neg-inf": (W, "refuse", _weights(lambda t: t[_first(t)].view(-1)[0:1].fill_(float("-inf")))),
    "weights-missing-tensor": (W, "refuse", _weights(lambda t: t.pop(_first(t)))),
    "weights-extra-tensor": (W, "refuse", _weights(lambda t: t.update({"evil": torch.zeros(3)}))),
    "weights-wrong-shape": (W, "refuse", _weights(lambda t: t.update({_first(t): torch.zeros(2, 2)}))),
    "weights-empty-dict": (W, "refuse", _weights(lambda t: t.clear())),
    "weights-truncated": (W, "refuse", lambda d: (d / W).write_bytes((d / W).read_bytes()[:-20])),
    "weights-header-len-huge": (W, "refuse", _write(W, _header({}, length=10**15))),
    "weights-header-len-lies": (W, "refuse", _write(W, _header({"a": {"dtype": "F32", "shape": [1],
                                                                       "data_offsets": [0, 4]}}, length=50_000))),
    "weights-offsets-beyond": (W, "refuse", _write(W, _header({"a": {"dtype": "F32", "shape": [10**8],
                                                                      "data_offsets": [0, 4 * 10**8]}}))),
    "weights-shape-lies": (W, "refuse", _write(W, _header({"a": {"dtype": "F32", "shape": [10**6, 10**6],
                                                                  "data_offsets": [0, 4]}}, body=b"\0" * 4))),
    "weights-header-not-json": (W, "refuse", _write(W, _header(b"{not json" + b" " * 20))),
    "weights-header-list": (W, "refuse", _write(W, _header(b"[1,2,3]"))),
    "weights-pickle": (W, "refuse", _write(W, b"\x80\x04\x95" + b"cos\nsystem\n(S'echo pwned'\ntR." * 3)),
    "weights-zip": (W, "refuse", _write(W, b"PK\x03\x04" + b"\0" * 200)),
    # --- metrics.csv / batches.csv (optional: a damaged one is dropped with a warning, or refused)
    "metrics-no-epoch": ("metrics.csv", "degrade", _csv_rows("metrics.csv", "loss,val_loss\n1,2\n")),
    "metrics-text-values": ("metrics.csv", "degrade", _csv_rows("metrics.csv", "epoch,val_loss\none,two\n")),
    "metrics-ragged": ("metrics.csv", "degrade", _csv_rows("metrics.csv", 'epoch,val_loss\n1,2,3,4\n"\n')),
    "metrics-huge-columns": ("metrics.csv", "degrade", _csv_rows("metrics.csv", ",".join(f"c{i}" for i in
                                                                                      range(50_000)) + "\n")),
    "metrics-negative-epoch": ("metrics.csv", "degrade", _csv_rows("metrics.csv", "epoch,val_loss\n-5,1\n")),
    "batches-no-step": ("batches.csv", "degrade", _csv_rows("batches.csv", "foo,bar\n1,2\n")),
    "batches-binary": ("batches.csv", "degrade", _write("batches.csv", b"\0\1\2" * 1000)),
    # --- the training probe
    "probe-garbage": ("probe.safetensors", "degrade", _with_probe(_write("probe.safetensors", os.urandom(999)))),
    "probe-fifo": ("probe.safetensors", "degrade", _with_probe(_fifo("probe.safetensors"))),
    "probe-dev-zero": ("probe.safetensors", "degrade", _with_probe(_link("probe.safetensors", "/dev/zero"))),
    "probe-passwd": ("probe.safetensors", "degrade", _with_probe(_link("probe.safetensors", "/etc/passwd"))),
    "probe-no-input": ("probe.safetensors", "degrade", _with_probe(_probe(lambda t: t.pop("probe/x")))),
    "probe-float64": ("probe.safetensors", "degrade", _with_probe(_probe(
        lambda t: t.update({k: v.double() for k, v in t.items() if v.is_floating_point()})))),
    "probe-wrong-shape": ("probe.safetensors", "degrade", _with_probe(_probe(
        lambda t: t.update({"epoch0/layers.0.fwd.hook_h": torch.zeros(4, 9, 2)})))),
    "probe-json-list": ("probe.json", "degrade", _with_probe(_write("probe.json", "[1]"))),
    "probe-json-fifo": ("probe.json", "degrade", _with_probe(_fifo("probe.json"))),
    "probe-json-labels-odd": ("probe.json", "degrade", _with_probe(_write("probe.json", '{"labels": 5}'))),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """One valid letters run, copied for every case."""
    return make_run(tmp_path_factory.mktemp("template"), "letters", name="victim")


@pytest.fixture
def room(tmp_path, template):
    """A runs folder holding the run to damage ("victim") and an untouched one beside it ("neighbor")."""
    root = tmp_path / "runs"
    root.mkdir()
    copy_run(template, root / "victim")
    copy_run(template, root / "neighbor")
    return root


def _check_neighbor(root: Path, before: dict) -> None:
    assert fingerprint(root / "neighbor") == before, "LOST: the run beside the damaged one changed"
    assert load_run(root / "neighbor").model is not None


@pytest.mark.parametrize("case", list(CASES))
def test_damaged_run_is_refused_cleanly(room, case):
    fname, expect, mutate = CASES[case]
    victim = room / "victim"
    mutate(victim)
    before, victim_before = fingerprint(room / "neighbor"), fingerprint(victim)
    fifos = [p for p in victim.iterdir() if p.is_fifo()]

    listed = bounded(lambda: list_runs(room, include_pretrained=False), unblock=fifos)
    assert not listed.hung, f"HANG: listing runs hung on {case}"
    assert listed.error is None, f"TRACEBACK: listing runs raised:\n{listed.trace}"
    rows = {r["name"]: r for r in listed.value}
    assert rows["neighbor"]["status"] != "damaged", rows["neighbor"]
    assert "victim" in rows, "a damaged run must be listed (as damaged), not hidden"
    if rows["victim"]["status"] == "damaged":
        assert rows["victim"].get("message"), "a damaged run's row says why"

    loaded = bounded(lambda: load_run(victim), unblock=fifos)
    assert not loaded.hung, f"HANG: loading hung on {case}"
    assert loaded.seconds < LIMIT_S, f"HANG: {loaded.seconds:.1f} s"
    if loaded.error is not None:
        assert isinstance(loaded.error, RunError), f"TRACEBACK: not a clean refusal:\n{loaded.trace}"
        text = str(loaded.error)
        assert "Traceback" not in text and len(text) < 2000
        if fname:
            assert fname in text, f"the refusal should name {fname}: {text}"
    else:
        assert expect != "refuse", f"ACCEPTED: {case} loaded a run that should be refused"
        run = loaded.value
        if expect == "degrade":
            warnings = " ".join(getattr(run, "warnings", []))
            assert fname in warnings, f"ACCEPTED: {case}: a damaged {fname} must be named in the run's warnings"
        for p in run.model.parameters():
            assert p.dtype == torch.float32 and torch.isfinite(p).all()
    assert fingerprint(victim) == victim_before, "LOST: loading must never change the folder"
    _check_neighbor(room, before)


NAMES = ["../neighbor", "/etc", "", " ", "a" * 500, "victim\x00", "victim/../../etc", "..", ".", "~", "con",
         "victim\nx", "%2e%2e", "neighbor/config.json"]


@pytest.mark.parametrize("name", NAMES)
def test_hostile_run_name_is_refused(room, name, monkeypatch):
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(room / "victim"))  # a name must not reach a sibling folder
    out = bounded(lambda: load_run(name, root=room / "victim"))
    assert not out.hung, "HANG"
    assert out.error is not None, "ACCEPTED"
    assert isinstance(out.error, ValueError), "TRACEBACK: " + out.trace
    assert fingerprint(room / "neighbor") == fingerprint(room / "victim")


FOLDERS = {
    "folder-is-link-out": lambda root, tmp: os.symlink(tmp, root / "evil"),
    "folder-is-file": lambda root, tmp: (root / "evil").write_text("x"),
    "folder-is-fifo": lambda root, tmp: os.mkfifo(root / "evil"),
    "folder-empty": lambda root, tmp: (root / "evil").mkdir(),
    "folder-unreadable-name": lambda root, tmp: (root / "evil\udcff".encode("utf-8", "surrogateescape").decode(
        "utf-8", "surrogateescape")).mkdir(),
    "leftover-temp": lambda root, tmp: (root / ".saving-1-abc").mkdir(),
}


@pytest.mark.parametrize("case", list(FOLDERS))
def test_odd_entries_in_runs_folder(room, tmp_path, case):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("do not list me")
    FOLDERS[case](room, outside)
    before = fingerprint(room / "neighbor")
    listed = bounded(lambda: list_runs(room, include_pretrained=False))
    assert not listed.hung, "HANG"
    assert listed.error is None, "TRACEBACK: " + listed.trace
    names = {r["name"]: r for r in listed.value}
    assert names["neighbor"]["status"] != "damaged"
    if "evil" in names:
        assert names["evil"]["status"] == "damaged" and names["evil"]["message"]
    out = bounded(lambda: load_run(resolve_run("evil", root=room)))
    assert not out.hung, "HANG"
    assert out.error is None or isinstance(out.error, ValueError), "TRACEBACK: " + out.trace
    if case != "leftover-temp":
        assert out.error is not None, "ACCEPTED"
    assert (outside / "secret.txt").read_text() == "do not list me"
    _check_neighbor(room, before)
