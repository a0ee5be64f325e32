"""Atomic file writing, once: write to a temporary file beside the target, then rename it into place
(``os.replace``), so a reader sees the old file or the new one and a crash never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEMP_PREFIX = ".tmp-"  # temporary files start with this (a run folder's checks skip them)


@contextmanager
def atomic_path(path: str | os.PathLike[str], temp: str | os.PathLike[str] | None = None) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder to write to; when the block ends normally it is renamed
    onto ``path``, and on any exception (Ctrl-C included) it is removed and ``path`` is left as it was.

    ``temp`` names the temporary file (e.g. ``<name>.part`` for a download a person may see); by default a
    fresh hidden name is made, so concurrent writers never share one."""
    path = Path(path)
    if temp is None:
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=f"-{path.name}", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
    else:
        tmp = Path(temp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """``path`` holds exactly ``text`` (UTF-8, newlines as given) or, after a failure, what it held before."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")
