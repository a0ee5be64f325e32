"""A ``fit`` callback that draws a tqdm progress bar on stderr (the CLI's progress display)."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


class TqdmProgress:
    """One bar per epoch, showing loss, the running metric and tokens/s; epoch results as a line."""

    def __init__(self, file=sys.stderr):
        self.file = file
        self.bar: tqdm | None = None
        self.epochs = 0

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        if event == "fit_start":
            self.epochs = info["epochs"]
            self.batches = info["batches_per_epoch"]
        elif event == "epoch_start":
            self.bar = tqdm(
                total=self.batches,
                desc=f"epoch {info['epoch']}/{self.epochs}",
                file=self.file,
                leave=False,
                dynamic_ncols=True,
                mininterval=0.5,
            )
        elif event == "batch_end" and self.bar is not None:
            metric = info["accuracy"] if info["accuracy"] is not None else info["mse"]
            name = "acc" if info["accuracy"] is not None else "mse"
            self.bar.set_postfix(
                {"loss": f"{info['loss']:.4f}", name: f"{metric:.4f}", "tok/s": f"{info['tokens_per_s']:,.0f}"},
                refresh=False,
            )
            self.bar.update(1)
        elif event == "epoch_end":
            if self.bar is not None:
                self.bar.close()
                self.bar = None
            parts = ", ".join(f"{k} {v:.4f}" for k, v in info["metrics"].items() if v is not None)
            tqdm.write(f"epoch {info['epoch']}/{self.epochs}: {parts} ({info['seconds']:.1f}s)", file=self.file)
        elif event == "fit_end" and self.bar is not None:
            self.bar.close()
