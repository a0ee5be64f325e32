"""One run as one .zip archive: export a run folder whole (config, curves, weights, vocabulary, probe) and
import one back, checked like any run folder before it is placed: size-limited, plain names only, no links,
headers not trusted, nothing unpickled (weights are safetensors, the rest JSON and CSV)."""

from __future__ import annotations

import io
import shutil
import stat
import tempfile
import zipfile
import zlib
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from . import files  # pretrained_dir through the module: tests point it elsewhere
from .files import DAMAGED, REQUIRED, RUN_FILES, RunError, _root, safe_name
from .folder import _place, load_run, resolve_run
from .keeping import temp_prefix
from .reading import MAX_CSV_BYTES, MAX_JSON_BYTES, MAX_PROBE_BYTES, MAX_WEIGHTS_BYTES, read_bytes, read_json

MAX_ARCHIVE_BYTES = 64 * 2**20  # the archive as uploaded (Streamlit's server.maxUploadSize matches it)
MAX_UNPACKED_BYTES = 256 * 2**20  # all members together, as read (zip headers can lie about sizes)
LIMITS = {  # per member, the limits the run folder reader applies to the same files
    "weights.safetensors": MAX_WEIGHTS_BYTES,
    "probe.safetensors": MAX_PROBE_BYTES,
    "metrics.csv": MAX_CSV_BYTES,
    "batches.csv": MAX_CSV_BYTES,
}
REFUSED = "not a run archive Unrolled can import"


def export_run(path_or_name: str | Path) -> bytes:
    """The run folder as a .zip (its files under ``<run name>/``); RunError when the folder is damaged, so a
    broken run is never passed on."""
    path = resolve_run(path_or_name)
    load_run(path)  # every check a run folder gets on load: config, sizes, weights, task state
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for fname in RUN_FILES:
            f = path / fname
            if f.is_file() and not f.is_symlink():  # read as loading reads: a regular file, up to its limit
                zf.writestr(f"{path.name}/{fname}", read_bytes(f, LIMITS.get(fname, MAX_JSON_BYTES)))
    return buf.getvalue()


def _members(zf: zipfile.ZipFile) -> tuple[str, dict[str, zipfile.ZipInfo]]:
    """The archive's run files by name and the folder they sit in ("" for none); RunError for anything a
    run folder never holds: other names, paths, links, encrypted or duplicate members, oversized headers."""
    folder: str | None = None
    found: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        if len(parts) > 2 or ".." in parts or info.filename.startswith("/"):
            raise RunError(f"{REFUSED}: {info.filename[:80]!r} is a path, not a run file")
        where, fname = ("", parts[0]) if len(parts) == 1 else parts
        if fname not in RUN_FILES:
            raise RunError(f"{REFUSED}: it holds {fname[:80]!r}, which a run folder never has")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise RunError(f"{REFUSED}: {fname} is a symbolic link")
        if info.flag_bits & 0x1:
            raise RunError(f"{REFUSED}: {fname} is encrypted")
        if fname in found or (folder is not None and where != folder):
            raise RunError(f"{REFUSED}: it holds more than one run (or {fname} twice); export runs one at a time")
        if info.file_size > LIMITS.get(fname, MAX_JSON_BYTES):
            raise RunError(f"{REFUSED}: {fname} would unpack to {info.file_size / 2**20:.0f} MB, more than allowed")
        folder, found[fname] = where, info
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        raise RunError(f"{REFUSED}: {', '.join(missing)} missing (an archive from the Runs page has them all)")
    return folder or "", found


def _unpack(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], into: Path) -> None:
    """Write the members into ``into``, reading no more than each limit whatever the headers say."""
    total = 0
    for fname, info in members.items():
        limit = LIMITS.get(fname, MAX_JSON_BYTES)
        with zf.open(info) as src:
            blob = src.read(limit + 1)  # a lying header can't make us read more than the limit
        total += len(blob)
        if len(blob) > limit or total > MAX_UNPACKED_BYTES:
            raise RunError(f"{REFUSED}: it unpacks to more than allowed ({fname})")
        (into / fname).write_bytes(blob)


def import_run(data: bytes, name: str | None = None, root: str | Path | None = None) -> Path:
    """Place the run in archive ``data`` under ``root`` (default ``runs_dir()``) and return its folder.

    Named ``name``, else the archive's folder name (``-imported`` added to a bundled run's name), numbered
    ``-2``, ``-3``… when taken — an import never replaces a run. The files are unpacked into a hidden temporary folder, loaded there with every check a
    run folder gets, and only then renamed into place; anything wrong raises RunError (a ValueError) saying
    what, and leaves nothing behind.
    """
    if len(data) > MAX_ARCHIVE_BYTES:
        size, cap = len(data) / 2**20, MAX_ARCHIVE_BYTES // 2**20
        raise RunError(f"{REFUSED}: {size:.1f} MB is more than the {cap} MB allowed")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise RunError(f"{REFUSED}: it is not a .zip file (export one from the Runs page)") from None
    base = _root(root)
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix("saving"), dir=base))  # cleaned at start if killed
    try:
        with zf:
            folder, members = _members(zf)
            stem = safe_name(name if name is not None else (folder or "imported-run"))
            if (files.pretrained_dir() / stem).exists():  # a bundled run's name would list the run twice
                stem = safe_name(f"{stem[:70]}-imported")
            try:
                _unpack(zf, members, tmp)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError) as e:
                if isinstance(e, RunError):
                    raise
                raise RunError(f"{REFUSED}: it is damaged ({str(e)[:120]})") from None
        try:
            load_run(tmp)
        except RunError as e:
            raise RunError(str(e).replace(str(tmp), "the archive").replace(DAMAGED, REFUSED)) from None
        config: dict[str, Any] = read_json(tmp / "config.json")
        config["imported"] = {"from": folder or None, "at": datetime.now().astimezone().isoformat(timespec="seconds")}
        return _place(tmp, base, stem, config, unique=True, overwrite=False)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
