"""Where datasets live and how they get there: data-directory resolution, finding a file placed by hand,
and a download that streams to ``<name>.part``, checks size and SHA-256, then renames into place.

A failed download never leaves a partial file behind; its DownloadError says how to place the file by hand.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from tqdm import tqdm

from ..atomic import atomic_path

ENV_DATA_DIR = "UNROLLED_DATA_DIR"
ENV_CACHE_DIR = "UNROLLED_CACHE_DIR"
TIMEOUT_S = 30.0  # per connect and per socket read: a stalled server fails instead of hanging forever
CHUNK = 1 << 16

Progress = Callable[[int, int], None]


class DownloadError(RuntimeError):
    """A dataset could not be found or fetched; the message says what happened and what to do."""


def _user_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "unrolled"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The dataset folder: ``override``, else env UNROLLED_DATA_DIR, else ``$XDG_CACHE_HOME/unrolled/data``
    (``~/.cache/unrolled/data`` when XDG_CACHE_HOME is unset). Not created here."""
    if override not in (None, ""):
        return Path(override).expanduser()
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    return _user_cache() / "data"


def _meant_for_writing(path: Path) -> bool:
    """An existing folder we may write AND whose mode has a write bit: root passes os.access everywhere,
    so the mode bits carry the owner's intent (e.g. a read-only shared data folder stays untouched)."""
    try:
        st = path.stat()
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and bool(st.st_mode & 0o222) and os.access(path, os.W_OK | os.X_OK)


def cache_dir(data_root: str | os.PathLike | None = None) -> Path:
    """Folder for derived files (parsed datasets): env UNROLLED_CACHE_DIR, else ``<data dir>/cache`` when the
    data dir is writable (or does not exist yet), else the per-user ``$XDG_CACHE_HOME/unrolled/cache`` —
    shared data folders are often read-only and are never written to. Not created here."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    root = data_dir(data_root)
    preferred = root / "cache"
    if preferred.is_dir():
        if _meant_for_writing(preferred):
            return preferred
    elif not root.exists() or _meant_for_writing(root):
        return preferred
    return _user_cache() / "cache"


def how_to_place(name: str, url: str, folder: Path) -> str:
    """One paragraph telling a person how to put the file in place themselves."""
    return (
        f"To place it by hand: download {url} in a browser (or with curl -L -o {name} {url}) and save it as "
        f"{folder / name} — exact file name {name!r} in folder {folder}. Or point {ENV_DATA_DIR} (or --data-dir) "
        f"at a folder that already holds it."
    )


def download(
    url: str,
    dest: str | os.PathLike,
    sha256: str,
    size: int,
    progress: Progress | None = None,
    timeout: float = TIMEOUT_S,
) -> Path:
    """Fetch ``url`` to ``dest`` and return ``dest``.

    Streams into ``dest + ".part"`` with a tqdm bar on stderr and calls ``progress(done_bytes, total_bytes)``
    after every chunk (raising from it cancels). Then checks the byte count against ``size`` and the SHA-256
    against ``sha256`` and only then renames (``os.replace``, atomic) into place. On any failure — network or
    HTTP error, timeout, wrong size or checksum, cancellation — the .part file is removed and DownloadError
    explains what happened and how to place the file by hand. Ctrl-C also removes the .part, then propagates.
    """
    dest = Path(dest)
    manual = how_to_place(dest.name, url, dest.parent)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the data folder {dest.parent}: {exc}. {manual}") from exc
    got = _Received()
    try:
        with atomic_path(dest, temp=dest.with_suffix(dest.suffix + ".part")) as part:
            request = urllib.request.Request(url, headers={"User-Agent": "unrolled-data/1"})
            with urllib.request.urlopen(request, timeout=timeout) as response, open(part, "wb") as out:
                announced = response.headers.get("Content-Length")
                if announced is not None and announced.isdigit() and int(announced) != size:
                    raise DownloadError(
                        f"the server at {url} offers {int(announced):,} bytes but {dest.name} should be {size:,} "
                        f"bytes (a different or changed file); nothing was kept. {manual}"
                    )
                _stream(response, out, got, dest.name, size, progress, manual)
            _check(got, dest.name, size, sha256, manual)
        return dest
    except DownloadError:
        raise
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"the server answered HTTP {exc.code} ({exc.reason}) for {url}. {manual}") from exc
    except urllib.error.URLError as exc:
        raise DownloadError(f"could not reach {url}: {exc.reason}. {manual}") from exc
    except TimeoutError as exc:
        raise DownloadError(f"the server at {url} stopped answering (timeout after {timeout:g} s). {manual}") from exc
    except Exception as exc:  # connection resets, IncompleteRead, disk full, a cancelling callback, ...
        raise DownloadError(
            f"the download of {dest.name} failed after {got.done:,} of {size:,} bytes: {type(exc).__name__}: "
            f"{exc}. Nothing was kept. {manual}"
        ) from exc


@dataclass
class _Received:
    """What has arrived so far: the byte count and the running SHA-256."""

    done: int = 0
    digest: Any = field(default_factory=hashlib.sha256)


def _stream(
    response: BinaryIO, out: BinaryIO, got: _Received, name: str, size: int, progress: Progress | None, manual: str
) -> None:
    """Copy the response body to ``out`` chunk by chunk, hashing it, and refuse more than ``size`` bytes."""
    with tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=name, file=sys.stderr,
              mininterval=0.5, leave=False) as bar:
        while chunk := response.read(CHUNK):
            got.done += len(chunk)
            if got.done > size:
                raise DownloadError(f"the server sent more than the expected {size:,} bytes for {name}; "
                                    f"nothing was kept. {manual}")
            got.digest.update(chunk)
            out.write(chunk)
            bar.update(len(chunk))
            if progress is not None:
                progress(got.done, size)


def _check(got: _Received, name: str, size: int, sha256: str, manual: str) -> None:
    """DownloadError unless exactly ``size`` bytes with the expected SHA-256 arrived."""
    if got.done != size:
        raise DownloadError(
            f"the download of {name} stopped after {got.done:,} of {size:,} bytes (the connection was closed "
            f"early); nothing was kept — try again. {manual}"
        )
    digest = got.digest.hexdigest()
    if digest != sha256.lower():
        raise DownloadError(
            f"checksum mismatch for {name}: expected sha256 {sha256}, got {digest} (a damaged or different "
            f"file); nothing was kept. {manual}"
        )


def find_existing(root: Path, candidates: Sequence[str]) -> Path | None:
    """The first of ``candidates`` (paths relative to ``root``; files or folders) that exists, else None."""
    for rel in candidates:
        path = root / rel
        if path.is_file() or path.is_dir():
            return path
    return None


def ensure_file(
    name: str,
    url: str,
    sha256: str,
    size: int,
    subdir: str,
    data_dir: str | os.PathLike | None = None,
    download_ok: bool = True,
    alternatives: Sequence[str] = (),
    progress: Progress | None = None,
    timeout: float = TIMEOUT_S,
) -> Path:
    """Path to a dataset file, downloading it only when nothing usable is there yet.

    Looks for ``<data dir>/<subdir>/<name>``, then each of ``alternatives`` (paths relative to the data dir:
    other archive names or an unpacked folder). A file placed by hand is trusted as is: the size and checksum
    only guard downloads. When nothing is found and ``download_ok`` is False, DownloadError says where to put it.
    """
    root = _resolve_data_dir(data_dir)
    found = find_existing(root, [f"{subdir}/{name}", *alternatives])
    if found is not None:
        return found
    folder = root / subdir
    if not download_ok:
        looked = ", ".join(str(root / rel) for rel in [f"{subdir}/{name}", *alternatives])
        raise DownloadError(f"{name} is not in the data folder (looked for: {looked}) and downloading is off. "
                            + how_to_place(name, url, folder))
    return download(url, folder / name, sha256, size, progress=progress, timeout=timeout)


@dataclass(frozen=True)
class RemoteFile:
    """A dataset file's official source: where it goes under the data dir and what it must be."""

    name: str  # file name, e.g. "aclImdb_v1.tar.gz"
    url: str  # official download address
    sha256: str  # checksum of the official file (checked on download only)
    size: int  # bytes of the official file
    subdir: str  # folder under the data dir, e.g. "imdb"
    alternatives: tuple[str, ...] = ()  # other accepted paths under the data dir (files or unpacked folders)

    def ensure(self, data_dir: str | os.PathLike | None = None, download_ok: bool = True,
               progress: Progress | None = None, timeout: float = TIMEOUT_S) -> Path:
        """``ensure_file`` for this file."""
        return ensure_file(self.name, self.url, self.sha256, self.size, self.subdir, data_dir=data_dir,
                           download_ok=download_ok, alternatives=self.alternatives, progress=progress, timeout=timeout)


def _resolve_data_dir(override: str | os.PathLike | None) -> Path:
    # The parameter of ensure_file shadows the function's name; keep the call in one place.
    return data_dir(override)
