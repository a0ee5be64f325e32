"""What one sweep worker does, wherever it runs (a local process or a Ray task): build the task from its
own data dir, train one ``RunSpec``, and hand back the finished run as plain data — configs, metric rows
and the weights as safetensors bytes — so the caller saves it; nothing here writes a run folder."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import torch
from safetensors.torch import save as safetensors_bytes

from ..callbacks import BatchEnd, Callback, EpochEnd, TrainBegin
from ..config import ModelConfig, TrainConfig
from ..model import build_model
from ..probe import recorder_for_run
from ..tasks import get_task
from ..train import add_test_metrics, fit
from .spec import RunSpec

Report = Callable[[dict[str, Any]], None]
PROGRESS_EVERY = 0.5  # seconds between progress messages of one run (epoch ends are always sent)


class ProgressReporter(Callback):
    """A ``fit`` callback that turns training events into small progress dicts for ``report``
    (``{"phase", "epoch", "epochs", "batch", "batches", "loss", "metric"}``), at most one per
    PROGRESS_EVERY seconds between epoch ends, so a queue between processes never floods."""

    def __init__(self, report: Report):
        self.report = report
        self.last = 0.0
        self.epochs = self.batches = 0

    def on_train_begin(self, event: TrainBegin) -> None:
        self.epochs, self.batches = event.epochs, event.batches_per_epoch
        self.report({"phase": "training", "epoch": 0, "epochs": self.epochs, "batch": 0, "batches": self.batches})

    def on_batch_end(self, event: BatchEnd) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY:
            self.last = now
            self.report({"phase": "training", "epoch": event.epoch, "epochs": self.epochs, "batch": event.batch,
                         "batches": event.batches, "loss": event.loss, "metric": event.value})

    def on_epoch_end(self, event: EpochEnd) -> None:
        self.last = time.monotonic()
        self.report({"phase": "training", "epoch": event.epoch, "epochs": self.epochs,
                     "batch": self.batches, "batches": self.batches, "metrics": event.metrics})


def _fault(run: RunSpec) -> None:
    """The test hook: fail the way a real worker can (an exception, or the process vanishing)."""
    if run.fault == "raise":
        raise RuntimeError(f"test fault: run {run.index} raised on purpose")
    if run.fault == "exit":
        os._exit(17)  # a worker that dies without a word, as after an OOM kill


def train_run(
    run: RunSpec,
    report: Report | None = None,
    data_dir: str | None = None,
    num_threads: int = 0,
    stop_event: threading.Event | None = None,
) -> dict[str, Any]:
    """Train ``run`` and return it as plain data (see ``payload``). ``num_threads`` > 0 sets torch's
    intra-op threads for this process; ``data_dir`` None means the worker's own default."""
    if num_threads > 0:
        torch.set_num_threads(num_threads)
    send = report or (lambda _msg: None)
    send({"phase": "loading data"})
    _fault(run)
    task = get_task(run.task, **run.task_options)
    mcfg = ModelConfig.from_dict(run.model).validate()
    tcfg = TrainConfig.from_dict(run.train).validate()
    splits = task.load(data_dir=data_dir, limit=tcfg.limit, seed=tcfg.seed)
    mcfg = task.fit_to_data(mcfg)  # sizes only the loaded data knows (the tagger's vocabularies)
    model = build_model(mcfg, seed=tcfg.seed)
    probe = recorder_for_run(task, splits, tcfg.epochs)  # the Inside page's "how the gates learned"
    hist = fit(model, task, tcfg, callbacks=[ProgressReporter(send), probe], splits=splits, stop_event=stop_event)
    status = hist.status
    if status == "finished":
        send({"phase": "scoring the test split"})
        add_test_metrics(model, task, splits, hist)
    probe_saved = probe.for_save()
    return {
        "status": status,
        "task_state": task.state(),
        "model": mcfg.to_dict(),
        "train": tcfg.to_dict(),
        "epochs": hist.epochs,
        "batches": hist.batches,
        "final_metrics": hist.final_metrics(),
        "message": hist.message,
        "seconds": hist.seconds,
        "tokens": hist.tokens,
        "tokens_per_s": hist.tokens_per_s,
        "best_epoch": hist.best_epoch,
        "weights": safetensors_bytes({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}),
        "probe": safetensors_bytes(probe_saved["tensors"]) if probe_saved and probe_saved.get("tensors") else None,
        "probe_meta": (probe_saved or {}).get("meta") or {},
    }
