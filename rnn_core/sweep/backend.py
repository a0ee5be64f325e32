"""The small interface every sweep backend offers, and the messages a backend hands its caller.

A backend is given the runs once (``start``), then polled: each ``poll`` returns what happened since the last
one — a run started, a run's progress, a run's finished payload, a run's failure with its message.
``cancel`` stops every pending and running run at once; what finished before stays finished.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .spec import RunSpec

Kind = Literal["started", "progress", "done", "failed"]
RAY_ADDRESS_ENV = "UNROLLED_RAY_ADDRESS"  # a Ray cluster's address: sweeps run there by default when it is set


@dataclass(frozen=True)
class Message:
    """``started`` / ``progress`` (``data``: phase, epoch, epochs, batch, batches, loss, metric) / ``done``
    (``data``: the worker's payload) / ``failed`` (``data["message"]``) for run ``index``."""

    kind: Kind
    index: int
    data: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    name: str
    workers: int  # runs at once

    def start(self, runs: list[RunSpec]) -> None: ...

    def poll(self, timeout: float) -> list[Message]:
        """Messages since the last poll, waiting up to ``timeout`` seconds for the first."""
        ...

    def busy(self) -> bool:
        """Whether any run is pending or running."""
        ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...


def error_text(exc: BaseException) -> str:
    """An exception as one line a person reads: ``ValueError: lr must be ...``."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def cpu_count() -> int:
    """Cores this process may use (the affinity mask when the OS offers one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def make_backend(name: str = "local", workers: int | None = None, data_dir: str | None = None,
                 address: str | None = None) -> Backend:
    """``local`` (a process pool on this machine) or ``ray`` (a Ray cluster; ``address`` or env
    UNROLLED_RAY_ADDRESS, else a local Ray instance). ``ray`` needs the optional ``ray`` package."""
    if name == "local":
        from .local import LocalBackend

        return LocalBackend(workers=workers, data_dir=data_dir)
    if name == "ray":
        from .ray_backend import RayBackend

        return RayBackend(workers=workers, data_dir=data_dir, address=address)
    raise ValueError(f"backend must be 'local' or 'ray', not {name!r}")
