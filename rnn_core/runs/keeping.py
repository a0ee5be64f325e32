"""Nothing learned is lost: where a run will be saved is checked before training starts, the run folder is
rewritten (atomically) at the end of every epoch while training, and the temporary folders of a save that was
killed half-way are cleaned up — or put back — at the next start."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..callbacks import BatchEnd, Callback, EpochEnd, TrainBegin
from ..config import TrainConfig
from ..tasks import Task
from ..train import History
from .files import _root, safe_run_dir

MIN_SECONDS_BETWEEN_SAVES = 1.0  # epochs shorter than this are saved at most once a second
_LEFTOVER = re.compile(r"^\.(saving|replaced)-(\d+)-(?:([0-9a-f]{8})-)?")
# This process's own mark beside its pid: a server restarted in a container gets the same pid (often 1) as the one
# that was killed, and its dead predecessor's leftovers must not look like saves of its own still in progress.
_PROCESS_TOKEN = secrets.token_hex(4)


def temp_prefix(kind: str) -> str:
    """The hidden name prefix of a save's temporary folder: ``.saving-<pid>-<token>-`` or ``.replaced-…``, so
    ``clean_leftovers`` can tell a save still in progress (its process alive) from one that was killed."""
    return f".{kind}-{os.getpid()}-{_PROCESS_TOKEN}-"


def check_run_target(name: str | None, root: str | Path | None = None, overwrite: bool = False) -> Path:
    """The runs folder a save will write to, checked now so that training can't be thrown away at the end.

    ValueError when ``name`` is not a plain run name (empty, ``/``, ``..``, control characters, too long, a link
    out of the folder), is taken (unless ``overwrite``), or the folder can't be created or written to."""
    base = _root(root)
    if name is not None:
        target = safe_run_dir(name, base)
        if os.path.lexists(target) and not overwrite:
            raise ValueError(f"a run named {target.name!r} already exists in {base}; choose another name")
    try:
        base.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=temp_prefix("saving"), dir=base))  # the way save_run will begin
    except OSError as e:
        raise ValueError(f"can't save runs in {base} ({e.strerror or e}); choose a folder you can write to") from None
    return base


def clean_leftovers(root: str | Path | None = None) -> list[str]:
    """Remove the temporary folders of saves whose process is gone; a run that was moved aside to be replaced
    and never was is put back first. Returns what was done, one line each (nothing for a clean folder)."""
    base = _root(root)
    done: list[str] = []
    if not base.is_dir():
        return done
    for d in base.iterdir():
        m = _LEFTOVER.match(d.name)
        if not m or d.is_symlink() or not d.is_dir() or _alive(int(m.group(2)), m.group(3)):
            continue
        if m.group(1) == "replaced":
            for old in d.iterdir():
                if not os.path.lexists(base / old.name):
                    os.rename(old, base / old.name)
                    done.append(f"put back run {old.name!r}, moved aside by a save that did not finish")
        shutil.rmtree(d, ignore_errors=True)
        done.append(f"removed {d.name}, left by a save that did not finish")
    return done


def _alive(pid: int, token: str | None) -> bool:
    """Whether the process that made a save's folder may still be saving: its pid is running and, when the pid is
    this process's own, the folder carries this process's token (else it is a dead predecessor's)."""
    if pid == os.getpid():
        return token == _PROCESS_TOKEN
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _so_far(epochs: list[dict[str, Any]], batches: list[dict[str, Any]], metric: str, total: int) -> History:
    """A History of the epochs finished so far, saying the training was interrupted after the last of them."""
    n = len(epochs)
    message = (f"Training was interrupted after epoch {n} of {total} (the process ended before training did); "
               f"the weights after epoch {n} are kept.")
    return History(metric=metric, epochs=epochs, batches=batches, message=message,
                   seconds=sum(float(r.get("seconds") or 0) for r in epochs))


def checkpoint_for(task: Task, train_cfg: TrainConfig, probe: Any = None, root: str | Path | None = None,
                   name: str | None = None, preset: str | None = None) -> EpochCheckpoint:
    """The EpochCheckpoint a training run uses: ``save_run`` of this task and config into ``root`` (the probe as
    recorded so far); list it after the probe recorder among ``fit``'s callbacks."""
    from .folder import save_run  # folder.py uses temp_prefix from here

    def save(model, history, name, overwrite):
        return save_run(model, task, train_cfg, history, name=name, root=root, preset=preset, status="interrupted",
                        probe=probe.for_save() if probe is not None else None, overwrite=overwrite)

    return EpochCheckpoint(save, train_cfg, task, name)


class EpochCheckpoint(Callback):
    """Rewrites the run folder at the end of every epoch (status "interrupted", the finished epochs' curves and
    weights), so killing the process loses at most the epoch in progress. The final ``save_run`` with
    ``name=checkpoint.name, overwrite=True`` replaces it with the real outcome. Epochs shorter than
    MIN_SECONDS_BETWEEN_SAVES are saved at most that often (a kill then loses at most about a second).

    ``save(model, history, name, overwrite)`` is ``save_run`` with the task, configs and probe bound in."""

    def __init__(self, save: Callable[..., Path], train_cfg: TrainConfig, task: Task, name: str | None = None):
        self._save = save
        self.train_cfg, self.task = train_cfg, task
        self.name = name  # fixed by the first save when None (a fresh automatic name)
        self.saved: Path | None = None
        self._epochs: list[dict[str, Any]] = []
        self._batches: list[dict[str, Any]] = []
        self._last = 0.0

    def on_train_begin(self, event: TrainBegin) -> None:
        self._epochs, self._batches, self._last = [], [], 0.0

    def on_batch_end(self, event: BatchEnd) -> None:
        self._batches.append(event.row())

    def on_epoch_end(self, event: EpochEnd) -> None:
        self._epochs.append({"epoch": event.epoch, **event.metrics, "seconds": event.seconds,
                             "tokens_per_s": event.tokens_per_s})
        last_epoch = event.epoch >= self.train_cfg.epochs  # saved too: scoring the test split may take long
        if not last_epoch and time.monotonic() - self._last < MIN_SECONDS_BETWEEN_SAVES:
            return
        history = _so_far(list(self._epochs), list(self._batches), event.metric, self.train_cfg.epochs)
        self.saved = self._save(event.model, history, name=self.name, overwrite=self.saved is not None)
        self.name = self.saved.name
        self._last = time.monotonic()
