"""A run as one .zip: exported whole, imported back checked like any run folder; hostile archives are refused
with a clear message, leave nothing behind and never run a pickle."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

from rnn_core.runs import RunError, export_run, import_run, load_run, runs_dir
from rnn_core.runs.archive import MAX_ARCHIVE_BYTES
from rnn_core.runs.files import pretrained_dir

SOURCE = "letters-4in"


@pytest.fixture(scope="module")
def good() -> bytes:
    return export_run(pretrained_dir() / SOURCE)


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def rezip(entries: dict[str, bytes], **kw) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, blob in entries.items():
            zf.writestr(name, blob, **kw)
    return buf.getvalue()


def test_export_holds_every_file_of_the_run(good):
    names = set(members(good))
    on_disk = {f"{SOURCE}/{p.name}" for p in (pretrained_dir() / SOURCE).iterdir() if p.is_file()}
    assert names == on_disk and f"{SOURCE}/weights.safetensors" in names


def test_round_trip_gives_the_same_run(good, tmp_path):
    path = import_run(good, root=tmp_path)
    assert path.parent == tmp_path.resolve() and path.name == f"{SOURCE}-imported"  # not a bundled run's name
    again, original = load_run(path), load_run(pretrained_dir() / SOURCE)
    for k, v in original.model.state_dict().items():
        assert torch.equal(v, again.model.state_dict()[k])
    assert again.metrics.equals(original.metrics)
    assert again.config["imported"]["from"] == SOURCE and again.config["name"] == path.name
    x = torch.rand(2, 4, original.model_cfg.input_size)  # [batch, seq, features]
    assert torch.allclose(original.model(x), again.model(x))
    # An import never replaces a run: the same archive again is numbered; a chosen name is used as given.
    assert import_run(good, root=tmp_path).name == f"{SOURCE}-imported-2"
    assert import_run(good, name="mine", root=tmp_path).name == "mine"


class Evil:
    def __reduce__(self):
        return (Path.touch, (Path("/tmp/unrolled-pickle-ran"),))


def _swap(good: bytes, fname: str, blob: bytes) -> bytes:
    entries = members(good)
    entries[f"{SOURCE}/{fname}"] = blob
    return rezip(entries)


def _hostile(good: bytes) -> dict[str, bytes]:
    entries = members(good)
    first = dict(entries)
    bomb = rezip({**entries, f"{SOURCE}/vocab.json": b" " * (11 * 2**20)})
    lying = bytearray(rezip({f"{SOURCE}/{k.split('/')[1]}": v for k, v in entries.items()}))
    crc_broken = bytearray(good)
    crc_broken[len(crc_broken) // 3] ^= 0xFF
    symlink = io.BytesIO()
    with zipfile.ZipFile(symlink, "w") as zf:
        for name, blob in entries.items():
            if not name.endswith("probe.json"):
                zf.writestr(name, blob)
        info = zipfile.ZipInfo(f"{SOURCE}/probe.json")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    return {
        "not a zip": b"PK\x03\x04 this is not really a zip",
        "empty": b"",
        "text": b"a review, not an archive",
        "too big": b"0" * (MAX_ARCHIVE_BYTES + 1),
        "path traversal": rezip({**first, "../config.json": b"{}"}),
        "absolute path": rezip({**first, "/etc/cron.d/x": b"x"}),
        "deep path": rezip({**first, f"{SOURCE}/sub/config.json": b"{}"}),
        "foreign file": rezip({**first, f"{SOURCE}/run.py": b"import os"}),
        "two runs": rezip({**first, **{k.replace(SOURCE, "other"): v for k, v in entries.items()}}),
        "missing weights": rezip({k: v for k, v in entries.items() if not k.endswith("weights.safetensors")}),
        "pickled weights": _swap(good, "weights.safetensors", pickle.dumps(Evil())),
        "torch.save weights": _swap(good, "weights.safetensors", _torch_saved()),
        "config not json": _swap(good, "config.json", b"{not json"),
        "config a list": _swap(good, "config.json", b"[1, 2]"),
        "huge model": _swap(good, "config.json", _config(good, hidden_size=4096, num_layers=16)),
        "zip bomb": bomb,
        "broken crc": bytes(crc_broken),
        "symlink member": symlink.getvalue(),
        "garbage in the middle": bytes(lying[:40]) + b"\x00" * 100 + bytes(lying[140:]),
    }


def _torch_saved() -> bytes:
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buf)
    return buf.getvalue()


def _config(good: bytes, **model) -> bytes:
    import json

    cfg = json.loads(members(good)[f"{SOURCE}/config.json"])
    cfg["model"].update(model)
    return json.dumps(cfg).encode()


HOSTILE = ["not a zip", "empty", "text", "too big", "path traversal", "absolute path", "deep path", "foreign file",
           "two runs", "missing weights", "pickled weights", "torch.save weights", "config not json", "config a list",
           "huge model", "zip bomb", "broken crc", "symlink member", "garbage in the middle"]


@pytest.fixture(scope="module")
def hostile(good) -> dict[str, bytes]:
    return _hostile(good)


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_archive_is_refused_and_leaves_nothing(hostile, tmp_path, case):
    marker = Path("/tmp/unrolled-pickle-ran")
    marker.unlink(missing_ok=True)
    with pytest.raises(RunError) as info:
        import_run(hostile[case], root=tmp_path)
    message = str(info.value)
    assert "import" in message or "archive" in message, message
    assert len(message) < 400 and "Traceback" not in message
    assert not marker.exists(), "a pickle ran"
    assert list(tmp_path.iterdir()) == [], "an import that failed left files behind"


def test_a_bad_name_is_refused(good, tmp_path):
    for bad in ("../escape", "/etc", "a/b", "", "x" * 200):
        with pytest.raises(ValueError):
            import_run(good, name=bad, root=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_default_root_is_the_runs_folder(good):
    path = import_run(good, name="archive-default-root")
    try:
        assert path.parent == runs_dir()
    finally:
        for p in path.iterdir():
            p.unlink()
        path.rmdir()
