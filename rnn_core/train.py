"""Training and evaluation: ``fit`` with named callback events, a stop Event and divergence guard,
and ``evaluate`` over a split. Losses per task kind:

    classify  cross-entropy of the head on the last step vs the label        metric: accuracy
    tag       cross-entropy at every real step vs its tag (padding ignored)   metric: accuracy
    regress   mean squared error at every real step                           metric: mse after task.warmup steps
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from .config import TrainConfig
from .tasks.base import IGNORE_INDEX, SeqData, Splits, Task

Callback = Callable[[str, dict[str, Any]], None]
EVENTS = ("fit_start", "epoch_start", "batch_end", "epoch_end", "fit_end")


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` → CUDA when present, else CPU. Asking for CUDA where there is none is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no CUDA GPU is available; use 'auto' or 'cpu'")
    return torch.device(device)


# ---------------------------------------------------------------------------------------- batching
def batch_indices(
    lengths: Tensor,
    batch_size: int,
    shuffle: bool,
    bucket: bool,
    generator: torch.Generator | None,
    pool_batches: int = 50,
) -> list[Tensor]:
    """Split example indices into batches. With ``bucket``, examples of similar length go together
    (shuffle, sort within pools of ``pool_batches`` batches, shuffle the batches) so a batch is padded only
    to its own longest member — the order stays random from epoch to epoch while padding nearly vanishes.
    Smaller pools mix lengths more (batches closer to random ones) at the cost of more padding."""
    n = len(lengths)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    if bucket:
        pool = batch_size * pool_batches
        chunks = []
        for start in range(0, n, pool):
            part = order[start : start + pool]
            part = part[torch.argsort(lengths[part], descending=True, stable=True)]
            chunks.append(part)
        order = torch.cat(chunks) if chunks else order
    batches = list(order.split(batch_size))
    if bucket and shuffle and len(batches) > 1:
        perm = torch.randperm(len(batches), generator=generator).tolist()
        batches = [batches[i] for i in perm]
    return batches


def make_batch(data: SeqData, idx: Tensor, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """x, y, lengths for ``idx``, trimmed to the longest sequence in the batch."""
    lengths = data.lengths[idx]  # [batch]
    t = int(lengths.max())
    x = data.x[idx, :t]  # [batch, t] or [batch, t, features]
    y = data.y[idx]
    if y.dim() >= 2:
        y = y[:, :t]  # [batch, t] (tags) or [batch, t, out] (values)
    return x.to(device, non_blocking=True), y.to(device, non_blocking=True), lengths


# ------------------------------------------------------------------------------------ loss, metric
def step_mask(lengths: Tensor, t: int, device: torch.device, warmup: int = 0) -> Tensor:
    """[batch, t] bool: steps inside each sequence (and at or after ``warmup``)."""
    steps = torch.arange(t, device=device)[None, :]  # [1, t]
    return (steps < lengths.to(device)[:, None]) & (steps >= warmup)


def loss_and_stats(
    kind: str, out: Tensor, y: Tensor, lengths: Tensor, warmup: int = 0, double_softmax: bool = False
) -> tuple[Tensor, float, float, int]:
    """(loss, metric sum, metric count, tokens) for one batch. The metric sum is correct predictions
    (classify, tag) or the squared error after warm-up (regress); dividing by its count gives the metric.

    ``double_softmax`` (ModelConfig.double_softmax, classification): the loss is CE(softmax(out), y) =
    −log softmax(softmax(out))_y — probabilities in 0..1 treated as logits, so the loss can never fall below
    −log(e / (e + 9)) ≈ 1.46 for 10 classes and its gradients shrink; the accuracy still reads argmax(out)."""
    tokens = int(lengths.sum())
    if kind == "classify":
        scores = torch.softmax(out, dim=-1) if double_softmax else out  # [batch, classes]
        loss = nn.functional.cross_entropy(scores, y)  # y [batch]
        with torch.no_grad():
            correct = float((out.argmax(-1) == y).sum())
        return loss, correct, float(y.shape[0]), tokens
    if kind == "tag":
        loss = nn.functional.cross_entropy(out.flatten(0, 1), y.flatten(), ignore_index=IGNORE_INDEX)
        with torch.no_grad():
            valid = y != IGNORE_INDEX  # [batch, t]
            correct = float(((out.argmax(-1) == y) & valid).sum())
        return loss, correct, float(valid.sum()), tokens
    # regress: out, y [batch, t, out]
    mask = step_mask(lengths, out.shape[1], out.device)  # [batch, t]
    sq = (out - y).pow(2).mean(-1)  # [batch, t]
    loss = (sq * mask).sum() / mask.sum().clamp(min=1)
    with torch.no_grad():
        m_mask = step_mask(lengths, out.shape[1], out.device, warmup)
        return loss, float((sq * m_mask).sum()), float(m_mask.sum()), tokens


def _double_softmax(model: nn.Module) -> bool:
    """Whether the model's config asks for the notes' double softmax (see loss_and_stats)."""
    return bool(getattr(getattr(model, "cfg", None), "double_softmax", False))


def metric_name(task: Task) -> str:
    return "mse" if task.kind == "regress" else "accuracy"


@torch.no_grad()
def evaluate(
    model: nn.Module,
    task: Task,
    data: SeqData,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    stop_event: threading.Event | None = None,
) -> dict[str, float] | None:
    """Loss and metric over a whole split (eval mode, length-sorted batches). Keys: loss,
    accuracy or mse, n, seconds, tokens_per_s. Returns None when ``stop_event`` is set part-way
    (a large validation split must not hold up a Stop)."""
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    was = model.training
    model.eval()
    start = time.perf_counter()
    loss_sum = m_sum = m_count = 0.0
    tokens = 0
    try:
        for idx in batch_indices(data.lengths, batch_size, shuffle=False, bucket=True, generator=None):
            if stop_event is not None and stop_event.is_set():
                return None
            x, y, lengths = make_batch(data, idx, dev)
            out = model(x, lengths)
            loss, s, c, tok = loss_and_stats(task.kind, out, y, lengths, task.warmup, _double_softmax(model))
            loss_sum += float(loss.detach()) * len(idx)
            m_sum, m_count, tokens = m_sum + s, m_count + c, tokens + tok
    finally:
        model.train(was)
    seconds = time.perf_counter() - start
    n = len(data)
    return {
        "loss": loss_sum / max(n, 1),
        metric_name(task): m_sum / max(m_count, 1),
        "n": n,
        "seconds": seconds,
        "tokens_per_s": tokens / max(seconds, 1e-9),
    }


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
        n_val = max(1, int(round(len(train) * cfg.val_fraction)))
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

    Callbacks get ``(event, info)`` for the events in ``EVENTS`` (see module docs of train.py).
    ``stop_event.set()`` ends training after the current batch; what was trained is kept and the
    history says ``stopped``. A NaN / infinite loss or gradient ends training with ``diverged`` and a
    message that says what to change; the offending step is not applied. Same seed and settings give
    identical curves (on CPU).
    """
    cfg = train_cfg.validate()
    callbacks = list(callbacks)
    stop_event = stop_event or threading.Event()
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
    optimizer = make_optimizer(model.parameters(), cfg)
    gen = torch.Generator().manual_seed(cfg.seed)
    double_softmax = _double_softmax(model)
    bucket = cfg.bucket and bool((train.lengths != train.lengths.max()).any())
    hist = History(metric=metric_name(task))
    lower_is_better = task.kind == "regress"
    best_value, best_state = None, None  # keep_best: validation metric and a CPU copy of those weights

    def emit(event: str, **info: Any) -> None:
        for cb in callbacks:
            cb(event, info)

    n_batches = math.ceil(len(train) / cfg.batch_size)
    emit(
        "fit_start",
        model=model,
        task=task,
        train_cfg=cfg,
        epochs=cfg.epochs,
        batches_per_epoch=n_batches,
        n_train=len(train),
        n_val=len(val),
    )
    fit_start = time.perf_counter()
    step = 0
    for epoch in range(1, cfg.epochs + 1):
        emit("epoch_start", epoch=epoch)
        ep_start = time.perf_counter()
        loss_sum = m_sum = m_count = 0.0
        seen = ep_tokens = 0
        batches = batch_indices(train.lengths, cfg.batch_size, True, bucket, gen, cfg.bucket_pool)
        for b, idx in enumerate(batches, start=1):
            x, y, lengths = make_batch(train, idx, device)
            out = model(x, lengths)
            loss, s, c, tok = loss_and_stats(task.kind, out, y, lengths, task.warmup, double_softmax)
            loss_value = float(loss.detach())
            if not math.isfinite(loss_value):
                hist.diverged, hist.message = True, _divergence_message(epoch, b, cfg)
                break
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.clip_grad > 0:
                norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad)
                if not torch.isfinite(norm):
                    hist.diverged, hist.message = True, _divergence_message(epoch, b, cfg)
                    break
            optimizer.step()
            step += 1
            loss_sum += loss_value * len(idx)
            m_sum, m_count, seen, ep_tokens = m_sum + s, m_count + c, seen + len(idx), ep_tokens + tok
            elapsed = time.perf_counter() - ep_start
            running = m_sum / max(m_count, 1)
            row = {"step": step, "epoch": epoch, "batch": b, "loss": loss_value, hist.metric: running}
            hist.batches.append(row)
            emit(
                "batch_end",
                epoch=epoch,
                batch=b,
                batches=n_batches,
                step=step,
                loss=loss_value,
                accuracy=None if task.kind == "regress" else running,
                mse=running if task.kind == "regress" else None,
                tokens_per_s=ep_tokens / max(elapsed, 1e-9),
                elapsed=time.perf_counter() - fit_start,
            )
            if stop_event.is_set():
                hist.stopped = True
                hist.message = (
                    f"Stopped by request at epoch {epoch}, batch {b} of {n_batches}; the model trained so far is kept."
                )
                break
        ep_seconds = time.perf_counter() - ep_start
        hist.seconds += ep_seconds
        hist.tokens += ep_tokens
        if seen:
            row = {"epoch": epoch, "train_loss": loss_sum / seen, f"train_{hist.metric}": m_sum / max(m_count, 1)}
            # A stop or divergence skips validation so the run ends within a batch.
            ev = (
                None
                if hist.stopped or hist.diverged
                else evaluate(model, task, val, device=device, stop_event=stop_event)
            )
            if ev is not None:
                row.update({"val_loss": ev["loss"], f"val_{hist.metric}": ev[hist.metric]})
            else:
                if not (hist.stopped or hist.diverged):
                    hist.stopped = True
                    hist.message = (
                        f"Stopped by request while validating epoch {epoch}; the model trained so far is kept."
                    )
                row.update({"val_loss": None, f"val_{hist.metric}": None, "partial": True})
            row.update({"seconds": ep_seconds, "tokens_per_s": ep_tokens / max(ep_seconds, 1e-9)})
            hist.epochs.append(row)
            value = row.get(f"val_{hist.metric}")
            if cfg.keep_best and value is not None and math.isfinite(value) and (
                best_value is None or (value < best_value if lower_is_better else value > best_value)
            ):
                best_value, hist.best_epoch = value, epoch
                best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            emit(
                "epoch_end",
                epoch=epoch,
                metrics={k: v for k, v in row.items() if k.startswith(("train_", "val_"))},
                model=model,
                seconds=ep_seconds,
                tokens_per_s=row["tokens_per_s"],
            )
        if hist.stopped or hist.diverged:
            break
    if best_state is not None and hist.best_epoch != len(hist.epochs):
        # Keras's EarlyStopping(restore_best_weights=True): later epochs overfitted (or were cut short).
        model.load_state_dict(best_state)
        note = f"Kept the weights of epoch {hist.best_epoch}, the best on validation ({hist.metric} {best_value:.4g})."
        hist.message = f"{hist.message} {note}" if hist.message else note
    model.eval()
    emit("fit_end", history=hist, stopped=hist.stopped, diverged=hist.diverged, message=hist.message)
    return hist


def add_test_metrics(
    model: nn.Module, task: Task, splits: Splits, hist: History, stop_event: threading.Event | None = None
) -> dict[str, float]:
    """Score the trained model on the task's held-out test split and file ``test_loss`` / ``test_<metric>``
    under the kept epoch (so ``hist.final_metrics()`` and a saved run carry them). Nothing for a task without a
    test split, a diverged run, or when ``stop_event`` interrupts the pass."""
    if splits.test is None or hist.diverged or hist.kept is None:
        return {}
    device = next(model.parameters()).device
    ev = evaluate(model, task, splits.test, device=device, stop_event=stop_event)
    if ev is None:
        return {}
    found = {f"test_{k}": v for k, v in ev.items() if k in ("loss", hist.metric)}
    hist.kept.update(found)
    return found


def iterate_batches(
    data: SeqData, batch_size: int, device: torch.device, seed: int = 0, bucket: bool = True
) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
    """One shuffled epoch of (x, y, lengths) batches, exactly as ``fit`` draws them (used by the benchmark)."""
    gen = torch.Generator().manual_seed(seed)
    for idx in batch_indices(data.lengths, batch_size, True, bucket, gen):
        yield make_batch(data, idx, device)
