"""What ``fit`` tells the code watching it: one typed event per moment of training, and a ``Callback`` base
class with one method per event (modelled on Keras's ``on_epoch_begin``, ``on_batch_end``, ...).

Subclasses override only the methods they need: the CLI's progress bar, the probe recorder and the app's
training jobs are callbacks. Batch and epoch events carry the task's metric under its own name
(``event.metric`` is that name, e.g. ``"accuracy"`` or ``"mse"``), never a slot per possible metric.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from torch import nn

from .config import TrainConfig
from .tasks.base import Task

if TYPE_CHECKING:  # train.py imports this module; History is only named in annotations here
    from .train import History


@dataclass(frozen=True)
class TrainBegin:
    """Training is about to start: what is trained, on what, and how much work lies ahead."""

    model: nn.Module
    task: Task
    train_cfg: TrainConfig
    epochs: int
    batches_per_epoch: int
    n_train: int
    n_val: int

    @property
    def metric(self) -> str:
        return self.task.metric


@dataclass(frozen=True)
class EpochBegin:
    """Epoch ``epoch`` (1-based) is about to start."""

    epoch: int
    model: nn.Module


@dataclass(frozen=True)
class BatchEnd:
    """One optimiser step is done. ``value`` is the running ``metric`` over this epoch's batches so far."""

    epoch: int
    batch: int  # 1-based within the epoch
    batches: int  # batches in this epoch
    step: int  # optimiser steps since training began
    loss: float
    metric: str
    value: float
    tokens_per_s: float  # this epoch's pace so far
    elapsed: float  # seconds since training began

    def row(self) -> dict[str, Any]:
        """The per-batch curve point: ``{step, epoch, batch, loss, <metric>}`` (a row of batches.csv)."""
        return {"step": self.step, "epoch": self.epoch, "batch": self.batch, "loss": self.loss, self.metric: self.value}


@dataclass(frozen=True)
class EpochEnd:
    """An epoch is done and validated. ``metrics`` holds ``train_loss``, ``train_<metric>``, ``val_loss`` and
    ``val_<metric>`` (the val_* ones None when a stop cut validation short)."""

    epoch: int
    metric: str
    metrics: dict[str, float | None]
    model: nn.Module
    seconds: float
    tokens_per_s: float


@dataclass(frozen=True)
class TrainEnd:
    """Training is over (finished, stopped or diverged: ``history.status`` says which)."""

    history: History
    model: nn.Module


class Callback:
    """Base class for what watches ``fit``: every method does nothing until a subclass overrides it.

    Methods run on the training thread between batches, so they should be cheap; a callback that needs
    the model (to replay a probe, say) finds it on the event.
    """

    def on_train_begin(self, event: TrainBegin) -> None:
        """Before the first epoch."""

    def on_epoch_begin(self, event: EpochBegin) -> None:
        """Before each epoch's first batch."""

    def on_batch_end(self, event: BatchEnd) -> None:
        """After each optimiser step."""

    def on_epoch_end(self, event: EpochEnd) -> None:
        """After each epoch's validation."""

    def on_train_end(self, event: TrainEnd) -> None:
        """After the last epoch, a stop or a divergence (the model is back in eval mode)."""


class CallbackList(Callback):
    """Several callbacks as one: each event goes to each of them, in order."""

    def __init__(self, callbacks: Iterable[Callback] = ()):
        self.callbacks = list(callbacks)
        wrong = [c for c in self.callbacks if not isinstance(c, Callback)]
        if wrong:
            raise TypeError(f"fit callbacks must subclass rnn_core.callbacks.Callback; got {wrong[0]!r}")

    def on_train_begin(self, event: TrainBegin) -> None:
        for c in self.callbacks:
            c.on_train_begin(event)

    def on_epoch_begin(self, event: EpochBegin) -> None:
        for c in self.callbacks:
            c.on_epoch_begin(event)

    def on_batch_end(self, event: BatchEnd) -> None:
        for c in self.callbacks:
            c.on_batch_end(event)

    def on_epoch_end(self, event: EpochEnd) -> None:
        for c in self.callbacks:
            c.on_epoch_end(event)

    def on_train_end(self, event: TrainEnd) -> None:
        for c in self.callbacks:
            c.on_train_end(event)
