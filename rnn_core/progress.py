"""A ``fit`` callback that draws a tqdm progress bar on stderr (the CLI's progress display)."""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

from .callbacks import BatchEnd, Callback, EpochBegin, EpochEnd, TrainBegin, TrainEnd


class TqdmProgress(Callback):
    """One bar per epoch, showing loss, the running metric and tokens/s; epoch results as a line."""

    def __init__(self, file: TextIO = sys.stderr):
        self.file = file
        self.bar: tqdm | None = None
        self.epochs = 0
        self.batches = 0

    def on_train_begin(self, event: TrainBegin) -> None:
        self.epochs, self.batches = event.epochs, event.batches_per_epoch

    def on_epoch_begin(self, event: EpochBegin) -> None:
        self.bar = tqdm(
            total=self.batches,
            desc=f"epoch {event.epoch}/{self.epochs}",
            file=self.file,
            leave=False,
            dynamic_ncols=True,
            mininterval=0.5,
        )

    def on_batch_end(self, event: BatchEnd) -> None:
        if self.bar is None:
            return
        shown = {"loss": f"{event.loss:.4f}", event.metric: f"{event.value:.4f}", "tok/s": f"{event.tokens_per_s:,.0f}"}
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def on_epoch_end(self, event: EpochEnd) -> None:
        self._close()
        parts = ", ".join(f"{k} {v:.4f}" for k, v in event.metrics.items() if v is not None)
        tqdm.write(f"epoch {event.epoch}/{self.epochs}: {parts} ({event.seconds:.1f}s)", file=self.file)

    def on_train_end(self, event: TrainEnd) -> None:
        self._close()

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
