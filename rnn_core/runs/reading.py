"""Reading one run file safely: only a regular file directly inside the run folder (never a link, FIFO, device or
directory), opened without following links and without blocking, and read up to its size limit by reading —
never trusting the size the file system reports. JSON, CSV and safetensors readers build on it, and each turns
any damage into a RunError naming the file."""

from __future__ import annotations

import errno
import io
import json
import math
import os
import stat
import struct
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from torch import Tensor

from .files import DAMAGED, RunError

MAX_JSON_BYTES = 10 * 2**20
MAX_CSV_BYTES = 64 * 2**20
MAX_WEIGHTS_BYTES = 64 * 2**20  # MAX_PARAMS float32 values (40 MB) and a header
MAX_PROBE_BYTES = 256 * 2**20
MAX_COLUMNS = 200  # a metrics table has a dozen; thousands mean the file is not one (and pandas would crawl)
MAX_HEADER_BYTES = 1 * 2**20  # a safetensors header: names, dtypes, shapes and offsets of a few hundred tensors
_CHUNK = 1 * 2**20
_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def read_bytes(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, at most ``limit`` of them; RunError when it is missing, not a regular file (a link,
    FIFO, device or directory), unreadable or longer than ``limit`` (found by reading, not by ``stat``)."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise RunError(f"{path}: is a symbolic link; a run file must be a regular file inside the run folder; "
                           f"{DAMAGED}") from None
        raise RunError(f"{path}: can't be read ({e.strerror}); {DAMAGED}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RunError(f"{path}: is not a regular file (a directory, FIFO or device); {DAMAGED}")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise RunError(f"{path}: more than the {limit / 2**20:g} MB a run file may hold; {DAMAGED}")
        return b"".join(chunks)
    except OSError as e:
        raise RunError(f"{path}: can't be read ({e.strerror}); {DAMAGED}") from None
    finally:
        os.close(fd)


def read_json(path: Path, limit: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """A JSON object from ``path``; NaN / Infinity (never written by Unrolled) read as null. RunError otherwise."""
    raw = read_bytes(path, limit)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=lambda _c: None)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise RunError(f"{path}: not valid JSON ({str(e)[:120]}); {DAMAGED}") from None
    if not isinstance(data, dict):
        raise RunError(f"{path}: expected a JSON object, found {type(data).__name__}; {DAMAGED}")
    return data


def read_csv(path: Path, limit: int = MAX_CSV_BYTES) -> pd.DataFrame:
    """A metrics table; an absent or empty file is an empty DataFrame (RunError for a damaged one)."""
    if not os.path.lexists(path):
        return pd.DataFrame()
    raw = read_bytes(path, limit)
    if not raw.strip():
        return pd.DataFrame()
    if raw.split(b"\n", 1)[0].count(b",") >= MAX_COLUMNS:
        raise RunError(f"{path}: more than {MAX_COLUMNS} columns is not a metrics table; {DAMAGED}")
    try:
        return pd.read_csv(io.BytesIO(raw))
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:  # EmptyDataError is a ValueError
        raise RunError(f"{path}: not a readable table ({str(e)[:120]}); {DAMAGED}") from None


def tensor_header(path: Path, raw: bytes) -> dict[str, tuple[str, tuple[int, ...]]]:
    """name → (dtype, shape) from a safetensors file's header, after checking that the header fits in the file
    and that every tensor's bytes lie inside it exactly (so nothing later trusts a lying header)."""
    if len(raw) < 8:
        raise RunError(f"{path}: too short to be a safetensors file; {DAMAGED}")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > min(MAX_HEADER_BYTES, len(raw) - 8):
        raise RunError(f"{path}: its header claims {n:,} bytes, more than the file holds; {DAMAGED}")
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise RunError(f"{path}: not a safetensors file (unreadable header); {DAMAGED}") from None
    if not isinstance(header, dict):
        raise RunError(f"{path}: not a safetensors file (header is not an object); {DAMAGED}")
    body = len(raw) - 8 - n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (start, end) = info["dtype"], tuple(info["shape"]), info["data_offsets"]
            if not all(isinstance(s, int) and 0 <= s for s in (*shape, start, end)) or not isinstance(dtype, str):
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise RunError(f"{path}: tensor {name[:60]!r} has a malformed header entry; {DAMAGED}") from None
        size = _ITEMSIZE.get(dtype, 1) * math.prod(shape)
        if end > body or end - start != size:
            raise RunError(f"{path}: tensor {name[:60]!r} claims bytes the file does not hold; {DAMAGED}")
        out[name] = (dtype, shape)
    return out


_ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def read_tensors(path: Path, limit: int, floats_only: bool = True) -> dict[str, Tensor]:
    """Every tensor of a safetensors file, refused (RunError) unless each floating tensor is float32 and finite.

    Weights of another dtype are refused rather than converted: a run's weights are always saved as float32,
    so another dtype means the file was not written by Unrolled. Integer tensors pass when ``floats_only`` is
    False (a probe keeps its input ids and lengths as int64)."""
    raw = read_bytes(path, limit)
    header = tensor_header(path, raw)
    odd = {k: d for k, (d, _) in header.items() if d != "F32" and (floats_only or d not in ("I64", "I32"))}
    if odd:
        name, dtype = next(iter(odd.items()))
        raise RunError(f"{path}: tensor {name[:60]!r} is {dtype}, not float32 (F32); only float32 is read; "
                       f"{DAMAGED}")
    try:
        tensors = load_safetensors(raw)
    except (SafetensorError, RuntimeError, ValueError) as e:
        raise RunError(f"{path}: not a readable safetensors file ({str(e)[:120]}); {DAMAGED}") from None
    for name, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise RunError(f"{path}: tensor {name[:60]!r} holds NaN or infinite values; {DAMAGED}")
    return tensors
