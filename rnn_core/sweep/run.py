"""Running a sweep: hand its runs to a backend, save each finished run into the sweep's folder as it
arrives, keep ``sweep.json`` current, and tell the caller what happens (``iter_sweep`` yields events;
``run_sweep`` calls ``on_event`` and returns the folder). A stop cancels what is pending and running."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .backend import Backend, error_text, make_backend
from .spec import RunSpec, SweepSpec
from .store import SweepFolder

POLL_SECONDS = 0.2


@dataclass(frozen=True)
class SweepEvent:
    """What happened: ``started`` (the sweep; ``index`` -1), ``run`` (a run's state or progress changed;
    ``record`` is its sweep.json record, ``progress`` its latest progress) or ``ended`` (the sweep; ``state``)."""

    kind: str
    folder: SweepFolder
    index: int = -1
    record: dict[str, Any] = field(default_factory=dict)
    progress: dict[str, Any] = field(default_factory=dict)
    state: str = ""


def iter_sweep(
    spec: SweepSpec,
    backend: str | Backend = "local",
    workers: int | None = None,
    root: str | Path | None = None,
    name: str | None = None,
    data_dir: str | None = None,
    stop_event: threading.Event | None = None,
    address: str | None = None,
) -> Iterator[SweepEvent]:
    """Run ``spec`` and yield events as runs start, progress, finish or fail. Checks the whole grid first
    (ValueError before anything trains). The sweep folder goes in ``root`` (default the runs dir).

    Leaving the loop early (or ``stop_event``) cancels every pending and running run; finished runs stay
    saved and the sweep's state becomes "stopped".
    """
    runs = spec.runs()
    engine = make_backend(backend, workers, data_dir, address) if isinstance(backend, str) else backend
    folder = SweepFolder.create(spec, runs, name=name, root=root)
    folder.spec.update(backend=engine.name, workers=engine.workers)
    folder.write()
    by_index: dict[int, RunSpec] = {r.index: r for r in runs}
    state = "stopped"
    try:
        yield SweepEvent("started", folder)
        engine.start(runs)
        while engine.busy():
            if stop_event is not None and stop_event.is_set():
                break
            for msg in engine.poll(POLL_SECONDS):
                record = folder.runs[msg.index]
                if msg.kind == "started":
                    folder.set_run(msg.index, state="running", pid=msg.data.get("pid"))
                    folder.write()
                elif msg.kind == "done":
                    _save(folder, by_index[msg.index], msg.data)
                elif msg.kind == "failed":
                    folder.set_run(msg.index, state="failed", message=msg.data.get("message"))
                    folder.write()
                yield SweepEvent("run", folder, msg.index, dict(record),
                                 msg.data if msg.kind == "progress" else {})
        else:
            state = "finished"
    finally:
        if state != "finished":
            engine.cancel()
            for rec in folder.runs:
                if rec["state"] in ("pending", "running"):
                    rec.update(state="cancelled", message="cancelled when the sweep was stopped")
        engine.close()
        folder.state = state
        folder.write()
    yield SweepEvent("ended", folder, state=state)


def _save(folder: SweepFolder, run: RunSpec, payload: dict[str, Any]) -> None:
    """Save a finished run; a run that can't be saved is marked failed with why (the sweep goes on)."""
    try:
        path = folder.save_payload(run, payload)
    except (ValueError, OSError, RuntimeError, KeyError, TypeError) as exc:
        folder.set_run(run.index, state="failed", message=f"could not save: {error_text(exc)}")
    else:
        folder.set_run(run.index, state=payload["status"], message=payload.get("message"),
                       final_metrics=payload["final_metrics"], seconds=payload["seconds"], path=str(path))
    folder.write()


def run_sweep(
    spec: SweepSpec,
    on_event: Callable[[SweepEvent], None] | None = None,
    **kwargs: Any,
) -> SweepFolder:
    """Run ``spec`` to the end (or until ``stop_event``), calling ``on_event`` for every event; returns the
    sweep's folder record. Keyword arguments as ``iter_sweep``."""
    folder: SweepFolder | None = None
    for event in iter_sweep(spec, **kwargs):
        folder = event.folder
        if on_event is not None:
            on_event(event)
    assert folder is not None
    return folder
