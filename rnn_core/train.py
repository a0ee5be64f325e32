"""Training: ``fit`` (a few short helpers) with typed callbacks, a stop Event and a divergence guard, and the
``History`` it returns. The loss and metric per task kind, and ``evaluate``, live in scoring.py."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from .batching import batch_indices, bucketing, make_batch
from .callbacks import BatchEnd, Callback, CallbackList, EpochBegin, EpochEnd, TrainBegin, TrainEnd
from .config import TrainConfig
from .denormals import flushed_denormals
from .scoring import double_softmax, evaluate, loss_and_stats
from .tasks.base import SeqData, Splits, Task


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` → CUDA when present, else CPU. Asking for CUDA where there is none is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no CUDA GPU is available; use 'auto' or 'cpu'")
    return torch.device(device)


# -------------------------------------------------------------------------------------------- fit
@dataclass
class History:
    """What a training run produced: one row per epoch and per batch, and how it ended."""

    metric: str = "accuracy"
    epochs: list[dict[str, Any]] = field(default_factory=list)
    batches: list[dict[str, Any]] = field(default_factory=list)
    stopped: bool = False
    diverged: bool = False
    message: str | None = None
    seconds: float = 0.0
    tokens: int = 0
    best_epoch: int | None = None  # with keep_best: the epoch whose weights the model holds at the end

    @property
    def kept(self) -> dict[str, Any] | None:
        """The epoch row that describes the final weights: the best one under keep_best, else the last."""
        if self.best_epoch is not None:
            return next((r for r in self.epochs if r["epoch"] == self.best_epoch), None)
        return self.epochs[-1] if self.epochs else None

    @property
    def status(self) -> str:
        """How training ended: "diverged", "stopped" or "finished" (a saved run's status)."""
        return "diverged" if self.diverged else "stopped" if self.stopped else "finished"

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / max(self.seconds, 1e-9)

    def final_metrics(self) -> dict[str, float]:
        """The train_* / val_* (and test_* once added) values of the kept epoch (see ``kept``)."""
        row = self.kept
        if row is None:
            return {}
        return {k: v for k, v in row.items() if k.startswith(("train_", "val_", "test_")) and v is not None}


def make_optimizer(params: Iterable[nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    """Adam; RMSprop with Keras's defaults (rho 0.9, eps 1e-7 — torch's alpha 0.99 trains the seeds
    differently); SGD with momentum 0.9."""
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, alpha=0.9, eps=1e-7, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)


def split_validation(splits: Splits, cfg: TrainConfig) -> tuple[SeqData, SeqData]:
    """Train and validation data for this config: ``limit`` trims train (seeded), ``val_fraction``
    carves validation off train like Keras's validation_split (the last share, after a seeded shuffle)."""
    train = splits.train
    g = torch.Generator().manual_seed(cfg.seed)
    if cfg.val_fraction > 0:
        perm = torch.randperm(len(train), generator=g)
        n_val = max(1, round(len(train) * cfg.val_fraction))
        val, train = train.subset(perm[-n_val:]), train.subset(perm[:-n_val])
    else:
        val = splits.val
    if cfg.limit and cfg.limit < len(train):
        train = train.subset(torch.randperm(len(train), generator=g)[: cfg.limit])
    return train, val


def _divergence_message(epoch: int, batch: int, cfg: TrainConfig) -> str:
    return (
        f"Training stopped: the loss became NaN or infinite at epoch {epoch}, batch {batch}. "
        f"Lower the learning rate (now {cfg.lr:g}), turn on gradient clipping (clip_grad, now {cfg.clip_grad:g}), "
        "or use the keras initialisation. The weights from the last good step are kept."
    )


@dataclass
class _Fit:
    """What one call of ``fit`` shares between its helpers."""

    model: nn.Module
    task: Task
    cfg: TrainConfig
    train: SeqData
    val: SeqData
    device: torch.device
    optimizer: torch.optim.Optimizer
    callbacks: CallbackList
    stop_event: threading.Event
    history: History
    generator: torch.Generator
    bucket: bool  # length bucketing, when the training sequences differ in length at all
    started: float = field(default_factory=time.perf_counter)
    step: int = 0
    best_value: float | None = None  # keep_best: the best validation metric so far ...
    best_state: dict[str, Tensor] | None = None  # ... and a CPU copy of the weights that reached it
    reached: bool = False  # the validation metric reached cfg.stop_at: training ends as finished

    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(len(self.train) / self.cfg.batch_size)

    @property
    def over(self) -> bool:
        return self.history.stopped or self.history.diverged


@dataclass
class _EpochSums:
    """Running sums over one epoch's batches."""

    loss: float = 0.0  # loss x examples
    metric: float = 0.0  # correct predictions or squared error (see loss_and_stats)
    count: float = 0.0  # what the metric sum is divided by
    seen: int = 0  # examples
    tokens: int = 0


@flushed_denormals()
def fit(
    model: nn.Module,
    task: Task,
    train_cfg: TrainConfig,
    callbacks: Iterable[Callback] = (),
    stop_event: threading.Event | None = None,
    splits: Splits | None = None,
    data_dir: str | None = None,
) -> History:
    """Train ``model`` on ``task``. Loads the task's splits unless ``splits`` is given.

    Each ``Callback`` hears ``on_train_begin``, ``on_epoch_begin``, ``on_batch_end``, ``on_epoch_end`` and
    ``on_train_end`` (see rnn_core/callbacks.py). ``stop_event.set()`` ends training after the current batch;
    what was trained is kept and the history says ``stopped``. A NaN / infinite loss or gradient ends training
    with ``diverged`` and a message that says what to change; the offending step is not applied. Same seed and
    settings give identical curves (on CPU). The calling thread flushes denormal floats to zero meanwhile
    (rnn_core/denormals.py): the backward pass through saturated gates is full of them.
    """
    run = _start(model, task, train_cfg.validate(), CallbackList(callbacks), stop_event, splits, data_dir)
    run.callbacks.on_train_begin(
        TrainBegin(model, task, run.cfg, run.cfg.epochs, run.batches_per_epoch, len(run.train), len(run.val))
    )
    for epoch in range(1, run.cfg.epochs + 1):
        run.callbacks.on_epoch_begin(EpochBegin(epoch, model))
        _train_epoch(run, epoch)
        if run.over or run.reached:
            break
    _restore_best(run)
    model.eval()
    run.callbacks.on_train_end(TrainEnd(run.history, model))
    return run.history


def _start(
    model: nn.Module,
    task: Task,
    cfg: TrainConfig,
    callbacks: CallbackList,
    stop_event: threading.Event | None,
    splits: Splits | None,
    data_dir: str | None,
) -> _Fit:
    """Seed, load and split the data, put the model on its device in train mode, build the optimiser."""
    device = resolve_device(cfg.device)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    torch.manual_seed(cfg.seed)
    if splits is None:
        splits = task.load(data_dir=data_dir, limit=0, seed=cfg.seed)
    train, val = split_validation(splits, cfg)
    if len(train) == 0:
        raise ValueError("the training split is empty: raise limit or check the dataset")
    model.to(device).train()
    return _Fit(
        model=model,
        task=task,
        cfg=cfg,
        train=train,
        val=val,
        device=device,
        optimizer=make_optimizer(model.parameters(), cfg),
        callbacks=callbacks,
        stop_event=stop_event or threading.Event(),
        history=History(metric=task.metric),
        generator=torch.Generator().manual_seed(cfg.seed),
        bucket=bucketing(cfg.bucket, train.lengths),
    )


def _train_epoch(run: _Fit, epoch: int) -> None:
    """One pass over the training batches (cut short by a stop or a divergence), then the epoch's row."""
    hist, cfg = run.history, run.cfg
    start = time.perf_counter()
    sums = _EpochSums()
    batches = batch_indices(run.train.lengths, cfg.batch_size, True, run.bucket, run.generator, cfg.bucket_pool)
    for b, idx in enumerate(batches, start=1):
        # Checked before each step as well as after it: a Stop pressed while the callbacks ran (the probe's
        # replay, an epoch-end save) or during a forward pass ends training without another step.
        stats = None if run.stop_event.is_set() else _train_step(run, idx)
        if stats is None:
            _stopped(hist, epoch, b - 1, len(batches))
            break
        if isinstance(stats, str):  # DIVERGED
            hist.diverged, hist.message = True, _divergence_message(epoch, b, cfg)
            break
        loss, m_sum, m_count, tokens = stats
        run.step += 1
        sums.loss, sums.seen = sums.loss + loss * len(idx), sums.seen + len(idx)
        sums.metric, sums.count, sums.tokens = sums.metric + m_sum, sums.count + m_count, sums.tokens + tokens
        now = time.perf_counter()
        event = BatchEnd(
            epoch=epoch,
            batch=b,
            batches=len(batches),
            step=run.step,
            loss=loss,
            metric=hist.metric,
            value=sums.metric / max(sums.count, 1),
            tokens_per_s=sums.tokens / max(now - start, 1e-9),
            elapsed=now - run.started,
        )
        hist.batches.append(event.row())
        run.callbacks.on_batch_end(event)
        if run.stop_event.is_set():
            _stopped(hist, epoch, b, len(batches))
            break
    seconds = time.perf_counter() - start
    hist.seconds, hist.tokens = hist.seconds + seconds, hist.tokens + sums.tokens
    if sums.seen:
        _end_epoch(run, epoch, sums, seconds)


def _stopped(hist: History, epoch: int, done: int, batches: int) -> None:
    """File a Stop that came after ``done`` of this epoch's ``batches`` batches."""
    hist.stopped = True
    where = f"epoch {epoch}, batch {done} of {batches}" if done else f"the start of epoch {epoch}"
    hist.message = f"Stopped by request at {where}; the model trained so far is kept."


# Validation and test passes that a Stop may cut short go in batches of this size (not evaluate's 256): the stop
# is seen between batches, and an IMDB batch of 256 reviews x 500 words takes seconds on a busy CPU.
STOP_BATCH = 64
DIVERGED = "diverged"  # what _train_step returns for a step whose loss or gradient is not finite


def _train_step(run: _Fit, idx: Tensor) -> tuple[float, float, float, int] | str | None:
    """One optimiser step on the examples ``idx``: (loss, metric sum, metric count, tokens); DIVERGED without
    changing any weight when the loss or the gradient norm is not finite; None, also without changing any
    weight, when a Stop came during the forward pass (the backward pass, about two thirds of a step, is
    skipped so that Stop answers sooner)."""
    x, y, lengths = make_batch(run.train, idx, run.device)
    out = run.model(x, lengths)
    loss, m_sum, m_count, tokens = loss_and_stats(run.task.kind, out, y, lengths, run.task.warmup,
                                                  double_softmax(run.model))
    value = float(loss.detach())
    if not math.isfinite(value):
        return DIVERGED
    if run.stop_event.is_set():
        return None
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if run.cfg.clip_grad > 0:
        norm = torch.nn.utils.clip_grad_norm_(run.model.parameters(), run.cfg.clip_grad)
        if not torch.isfinite(norm):
            return DIVERGED
    run.optimizer.step()
    return value, m_sum, m_count, tokens


def _end_epoch(run: _Fit, epoch: int, sums: _EpochSums, seconds: float) -> None:
    """Validate (unless training is already over, so a stop ends within a batch), file the epoch's row,
    remember the weights under keep_best, and tell the callbacks."""
    hist, metric = run.history, run.history.metric
    row: dict[str, Any] = {"epoch": epoch, "train_loss": sums.loss / sums.seen}
    row[f"train_{metric}"] = sums.metric / max(sums.count, 1)
    ev = None if run.over else evaluate(run.model, run.task, run.val, batch_size=STOP_BATCH, device=run.device,
                                        stop_event=run.stop_event)
    if ev is not None:
        row.update({"val_loss": ev["loss"], f"val_{metric}": ev[metric]})
    else:
        if not run.over:
            hist.stopped = True
            hist.message = f"Stopped by request while validating epoch {epoch}; the model trained so far is kept."
        row.update({"val_loss": None, f"val_{metric}": None, "partial": True})
    row.update({"seconds": seconds, "tokens_per_s": sums.tokens / max(seconds, 1e-9)})
    hist.epochs.append(row)
    _remember_if_best(run, epoch, row.get(f"val_{metric}"))
    _check_reached(run, epoch, row.get(f"val_{metric}"))
    metrics = {k: v for k, v in row.items() if k.startswith(("train_", "val_"))}
    run.callbacks.on_epoch_end(EpochEnd(epoch, metric, metrics, run.model, seconds, row["tokens_per_s"]))


def _remember_if_best(run: _Fit, epoch: int, value: float | None) -> None:
    """Under keep_best, a CPU copy of the weights whenever validation reaches a new best."""
    if not run.cfg.keep_best or value is None or not math.isfinite(value):
        return
    if run.best_value is None or run.task.is_better(value, run.best_value):
        run.best_value, run.history.best_epoch = value, epoch
        run.best_state = {k: v.detach().to("cpu", copy=True) for k, v in run.model.state_dict().items()}


def _check_reached(run: _Fit, epoch: int, value: float | None) -> None:
    """With ``stop_at``: note when validation has reached it, so ``fit`` ends after this epoch."""
    target = run.cfg.stop_at
    if not target or value is None or not math.isfinite(value) or run.over:
        return
    if value == target or run.task.is_better(value, target):
        run.reached = True
        run.history.message = f"Reached val {run.history.metric} {value:.4g} (stop_at {target:g}) at epoch {epoch}."


def _restore_best(run: _Fit) -> None:
    """Keras's EarlyStopping(restore_best_weights=True): later epochs overfitted (or were cut short)."""
    hist = run.history
    if run.best_state is None or hist.best_epoch == len(hist.epochs):
        return
    run.model.load_state_dict(run.best_state)
    note = f"Kept the weights of epoch {hist.best_epoch}, the best on validation ({hist.metric} {run.best_value:.4g})."
    hist.message = f"{hist.message} {note}" if hist.message else note


def add_test_metrics(
    model: nn.Module, task: Task, splits: Splits, hist: History, stop_event: threading.Event | None = None
) -> dict[str, float]:
    """Score the trained model on the task's held-out test split and file ``test_loss`` / ``test_<metric>``
    under the kept epoch (so ``hist.final_metrics()`` and a saved run carry them). Nothing for a task without a
    test split, a diverged run, or when ``stop_event`` interrupts the pass."""
    if splits.test is None or hist.diverged or hist.kept is None:
        return {}
    device = next(model.parameters()).device
    ev = evaluate(model, task, splits.test, batch_size=STOP_BATCH, device=device, stop_event=stop_event)
    if ev is None:
        return {}
    found = {f"test_{k}": v for k, v in ev.items() if k in ("loss", hist.metric)}
    hist.kept.update(found)
    return found
