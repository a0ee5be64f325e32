"""MNIST's idx files read with numpy: the official four files, where to fetch them, and a reader that checks the
magic number, the header and the byte count, so a damaged or truncated file fails with its name, not garbage.

Format (big-endian): magic (0x0803 images / 0x0801 labels), the item count, for images the row and column
counts, then one unsigned byte per pixel or label. Files may be gzip-compressed (``.gz``, as published) or not.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .data import RemoteFile

# torchvision's mirror of Yann LeCun's files (the original address, http://yann.lecun.com/exdb/mnist/, often
# refuses downloads now); any mirror that serves the same four files works through the ``base_url`` option.
MNIST_BASE_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
IMAGES_MAGIC, LABELS_MAGIC = 0x0803, 0x0801
ROWS = COLS = 28
# name -> (md5 of the official .gz, its size in bytes, the item count): MD5 is what the source publishes.
MNIST_FILES: dict[str, tuple[str, int, int]] = {
    "train-images-idx3-ubyte.gz": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422, 60_000),
    "train-labels-idx1-ubyte.gz": ("d53e105ee54ea40749a09fcbcd1e9432", 28_881, 60_000),
    "t10k-images-idx3-ubyte.gz": ("9fb629c4189551a2d022fa330f9573f3", 1_648_877, 10_000),
    "t10k-labels-idx1-ubyte.gz": ("ec29112dd5afa0611ce80d1b7f02629c", 4_542, 10_000),
}
TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
MAX_BYTES = 64 * 1024 * 1024  # more than the largest official file holds unpacked (47 MB): refuse gzip bombs


class IdxError(ValueError):
    """An idx file that is not what it should be; the message names the file and what is wrong with it."""


def remote_file(name: str, base_url: str = MNIST_BASE_URL) -> RemoteFile:
    """The official file ``name`` under ``<data dir>/mnist/``, fetched from ``base_url`` + name when missing.
    An unpacked copy (the same name without ``.gz``) placed by hand is used too."""
    md5, size, _n = MNIST_FILES[name]
    url = base_url if base_url.endswith("/") else base_url + "/"
    return RemoteFile(name=name, url=url + name, checksum=f"md5:{md5}", size=size, subdir="mnist",
                      alternatives=(f"mnist/{name.removesuffix('.gz')}",))


def _read_bytes(path: Path) -> bytes:
    """The file's contents, gunzipped when it starts with gzip's magic bytes."""
    with open(path, "rb") as f:
        head = f.read(2)
    if head != b"\x1f\x8b":
        if path.stat().st_size > MAX_BYTES:
            raise IdxError(f"{path}: {path.stat().st_size:,} bytes is far more than an MNIST idx file holds")
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except EOFError:
        raise IdxError(f"{path}: the gzip stream ends early — the file is truncated (an interrupted download?); "
                       "delete it and download it again") from None
    except (OSError, zlib.error) as exc:
        raise IdxError(f"{path}: not a readable gzip file ({exc}); delete it and download it again") from None
    if len(raw) > MAX_BYTES:
        raise IdxError(f"{path}: unpacks to more than {MAX_BYTES:,} bytes, far more than an MNIST idx file holds")
    return raw


def read_idx(path: str | os.PathLike, expect_magic: int) -> np.ndarray:
    """One idx file → uint8 array: images [n, rows, cols] (magic 0x0803) or labels [n] (magic 0x0801).

    Raises IdxError naming the file when the magic number is not ``expect_magic``, the header is cut short,
    or the data holds fewer or more bytes than the header promises."""
    path = Path(path)
    raw = _read_bytes(path)
    kind = "images" if expect_magic == IMAGES_MAGIC else "labels"
    dims = 3 if expect_magic == IMAGES_MAGIC else 1
    header = 4 + 4 * dims
    if len(raw) < header:
        raise IdxError(f"{path}: only {len(raw)} bytes, too short for an idx {kind} header; the file is damaged")
    (magic,) = struct.unpack(">i", raw[:4])
    if magic != expect_magic:
        raise IdxError(f"{path}: magic number {magic:#06x}, but an idx {kind} file starts with {expect_magic:#06x}; "
                       "this is not an MNIST " + kind + " file (or it is damaged)")
    shape = struct.unpack(f">{dims}i", raw[4:header])
    if any(s < 0 for s in shape):
        raise IdxError(f"{path}: negative sizes {shape} in the header; the file is damaged")
    want = int(np.prod(shape))
    got = len(raw) - header
    if got != want:
        raise IdxError(f"{path}: the header promises {want:,} bytes of {kind} {tuple(shape)} but the file holds "
                       f"{got:,}; it is truncated or damaged — delete it and download it again")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def read_pair(images: str | os.PathLike, labels: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Images [n, 28, 28] and labels [n] (uint8, 0–9) from a matching pair of files, checked against each other."""
    x = read_idx(images, IMAGES_MAGIC)
    y = read_idx(labels, LABELS_MAGIC)
    if x.shape[1:] != (ROWS, COLS):
        raise IdxError(f"{images}: images of {x.shape[1]}×{x.shape[2]} pixels; MNIST's are {ROWS}×{COLS}")
    if len(x) != len(y):
        raise IdxError(f"{images} holds {len(x):,} images but {labels} holds {len(y):,} labels; use a matching pair")
    if len(y) and int(y.max()) > 9:
        raise IdxError(f"{labels}: label {int(y.max())} found; MNIST labels are the digits 0–9")
    return x, y
