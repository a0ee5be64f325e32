"""The digits task's data: scikit-learn's 8×8 digits, MNIST's real test files (shapes, value range, label
counts, the fixed test-files-only split), damaged idx files (an error naming the file) and the MNIST download
through a local HTTP server (md5 checked, nothing left behind on failure)."""

from __future__ import annotations

import gzip
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from localhttp import serve

from rnn_core.data import DownloadError
from rnn_core.mnist_idx import IMAGES_MAGIC, LABELS_MAGIC, IdxError, read_idx, read_pair
from rnn_core.tasks import get_task

MNIST = Path(os.environ["UNROLLED_DATA_DIR"]) / "mnist"
IMAGES, LABELS = MNIST / "t10k-images-idx3-ubyte.gz", MNIST / "t10k-labels-idx1-ubyte.gz"
# The official t10k label counts for the digits 0..9.
T10K_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_test_files_read_with_numpy():
    x, y = read_pair(IMAGES, LABELS)
    assert x.shape == (10_000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10_000,) and np.bincount(y).tolist() == T10K_COUNTS
    assert x.min() == 0 and x.max() == 255
    # Every image has ink, and the border stays nearly dark, as MNIST's 20×20-in-28×28 layout leaves it.
    assert (x.reshape(len(x), -1).max(axis=1) > 128).all()
    assert x[:, 0, :].mean() < 0.5 and x[:, :, 0].mean() < 0.5 and x[:, 10:18, 10:18].mean() > 50


def test_sklearn_source_is_the_default_and_split_is_fixed_and_stratified():
    task = get_task("digits")
    s = task.load()
    assert task.source == "sklearn" and task.default_preset == "default"
    assert s.train.x.shape == (1437, 8, 8) and s.test.x.shape == (360, 8, 8) and s.val is s.test
    assert float(s.train.x.min()) == 0.0 and float(s.train.x.max()) == 1.0
    assert torch.equal(s.train.x * 16, (s.train.x * 16).round())  # 16 grey levels (0..16 counts)
    counts = torch.bincount(s.test.y, minlength=10).tolist()
    assert all(35 <= c <= 37 for c in counts), counts  # 20% of each of the ~180 per class
    assert not set(s.train.meta["index"]) & set(s.test.meta["index"])
    again = get_task("digits").load(seed=5)  # the held-out images do not follow the training seed
    assert again.test.meta["index"] == s.test.meta["index"]
    assert task.step_labels(s.test, 0) == [f"row {i}" for i in range(1, 9)]


def test_mnist_test_files_only_split():
    task = get_task("digits", source="mnist", split="test-files-only")
    s = task.load()
    assert s.train.x.shape == (8000, 28, 28) and s.test.x.shape == (2000, 28, 28)
    assert s.train.y.dtype == torch.int64 and float(s.train.x.max()) == 1.0 and float(s.train.x.min()) == 0.0
    test_counts = torch.bincount(s.test.y, minlength=10)
    expected = torch.tensor(T10K_COUNTS) * 0.2
    assert (test_counts - expected).abs().max() <= 1  # stratified: each digit's share kept
    tr, te = set(s.train.meta["index"]), set(s.test.meta["index"])
    assert not tr & te and len(tr | te) == 10_000
    x, y = read_pair(IMAGES, LABELS)  # the split's images are the file's, scaled to 0..1
    i = s.test.meta["index"][7]
    assert torch.equal(s.test.x[7], torch.from_numpy(x[i].astype(np.float32)) / 255) and int(s.test.y[7]) == y[i]
    assert "TEST images" in task.data_label() and "8,000" in task.data_label() and "2,000" in task.data_label()
    assert get_task("digits", source="mnist", split="test-files-only").load(seed=3).test.meta["index"] == sorted(te)


def test_columns_read_left_to_right():
    rows = get_task("digits").load().test
    cols_task = get_task("digits", read="columns")
    cols = cols_task.load().test
    assert torch.equal(cols.x, rows.x.transpose(1, 2))
    assert torch.equal(cols_task.input_to_image(cols.x), rows.x)
    assert cols_task.step_labels(cols, 0)[:2] == ["col 1", "col 2"]


def test_limit_keeps_a_stratified_sample():
    s = get_task("digits").load(limit=200, seed=1)
    assert len(s.train) == 200 and len(s.test) == 360
    assert torch.bincount(s.train.y, minlength=10).min() >= 19


@pytest.mark.parametrize("opts, words", [
    ({"source": "emnist"}, "source must be one of sklearn, mnist"),
    ({"read": "diagonal"}, "read must be one of rows, columns"),
    ({"split": "test-files-only"}, "for source='mnist'"),
    ({"colour": 1}, "unknown digits option"),
    ({"source": "mnist", "base_url": "ftp://x"}, "base_url"),
])
def test_bad_options_are_refused(opts, words):
    with pytest.raises(ValueError, match=words):
        get_task("digits", **opts)


def test_missing_training_files_say_so_and_offer_test_files_only(tmp_path):
    (tmp_path / "mnist").mkdir()
    for f in (IMAGES, LABELS):
        shutil.copy(f, tmp_path / "mnist" / f.name)
    task = get_task("digits", source="mnist", download=False)
    with pytest.raises(DownloadError) as err:
        task.load(data_dir=str(tmp_path))
    msg = str(err.value)
    assert "training files are not in" in msg and "train-images-idx3-ubyte.gz" in msg
    assert "split=test-files-only" in msg and "8,000 / 2,000" in msg


# ----------------------------------------------------------------------------------- damaged files
def _idx(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(f">i{len(dims)}i", magic, *dims) + payload


@pytest.mark.parametrize("make, words", [
    (lambda raw: raw[: len(raw) // 2], "gzip stream ends early"),  # a download cut short
    (lambda raw: b"\x1f\x8b" + b"\x00" * 40, "not a readable gzip file"),
    (lambda raw: gzip.compress(_idx(IMAGES_MAGIC, (10, 28, 28), bytes(28 * 28 * 9))), "holds 7,056"),
    (lambda raw: gzip.compress(_idx(LABELS_MAGIC, (10,), bytes(10))), "magic number 0x0801"),
    (lambda raw: gzip.compress(b"\x00\x00\x08"), "too short"),
    (lambda raw: _idx(IMAGES_MAGIC, (2, 28, 28), bytes(28 * 28 * 3)), "promises 1,568 bytes"),  # not gzipped
])
def test_damaged_image_files_fail_with_the_file_named(tmp_path, make, words):
    bad = tmp_path / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(make(IMAGES.read_bytes()))
    with pytest.raises(IdxError, match=words) as err:
        read_idx(bad, IMAGES_MAGIC)
    assert str(bad) in str(err.value)


def test_a_damaged_file_in_the_data_folder_reaches_the_task_as_a_clear_error(tmp_path):
    (tmp_path / "mnist").mkdir()
    shutil.copy(IMAGES, tmp_path / "mnist" / IMAGES.name)
    (tmp_path / "mnist" / LABELS.name).write_bytes(LABELS.read_bytes()[:-100])
    task = get_task("digits", source="mnist", split="test-files-only", download=False)
    with pytest.raises(IdxError, match=r"t10k-labels-idx1-ubyte\.gz"):
        task.load(data_dir=str(tmp_path))


def test_mismatched_pair_is_refused(tmp_path):
    few = tmp_path / "few-labels.gz"
    few.write_bytes(gzip.compress(_idx(LABELS_MAGIC, (3,), bytes([1, 2, 3]))))
    with pytest.raises(IdxError, match="10,000 images but"):
        read_pair(IMAGES, few)


# ------------------------------------------------------------------------------------------ download
def test_mnist_download_from_a_mirror_checks_md5_and_lands_atomically(tmp_path):
    with serve() as srv:
        for f in (IMAGES, LABELS):
            srv.add(f"/mirror/{f.name}", f.read_bytes())
        task = get_task("digits", source="mnist", split="test-files-only", base_url=srv.url("/mirror/"))
        seen: list[tuple[int, int]] = []
        task.progress = lambda done, total: seen.append((done, total))
        s = task.load(data_dir=str(tmp_path))
        assert len(s.train) == 8000 and len(s.test) == 2000
        assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted([IMAGES.name, LABELS.name])
        assert (tmp_path / "mnist" / IMAGES.name).read_bytes() == IMAGES.read_bytes()
        assert seen[-1] == (LABELS.stat().st_size, LABELS.stat().st_size) and len(seen) > 2
        hits = len(srv.hits)
        task.load(data_dir=str(tmp_path))  # in place now: no second download
        assert len(srv.hits) == hits


def test_mnist_download_with_a_wrong_md5_keeps_nothing(tmp_path):
    body = bytearray(LABELS.read_bytes())
    body[100] ^= 0xFF  # same size, different bytes: only the checksum can tell
    with serve() as srv:
        srv.add(f"/m/{IMAGES.name}", IMAGES.read_bytes())
        srv.add(f"/m/{LABELS.name}", bytes(body))
        task = get_task("digits", source="mnist", split="test-files-only", base_url=srv.url("/m"))
        with pytest.raises(DownloadError, match=r"checksum mismatch .* expected md5 ec29112dd5afa0611ce80d1b7f02629c"):
            task.load(data_dir=str(tmp_path))
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == [IMAGES.name]  # no .part, no bad file
