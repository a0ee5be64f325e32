"""Benchmarks behind ``python -m rnn_core bench``: what ``fit`` costs over a bare torch loop on the
same model and batches, and what one replay through ``run_with_cache`` costs.

Figures, not assertions: speed goals are checked by reading this output, never by a timed test.
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections.abc import Callable

import torch
from torch import nn

from .batching import iterate_batches
from .callbacks import BatchEnd, Callback
from .config import ModelConfig, TrainConfig
from .denormals import flushed_denormals
from .hooks import make_filter
from .model import build_model
from .replay import cache_by_steps
from .tasks.base import SeqData, Splits, Task
from .train import fit, make_optimizer


class _SyntheticTokens(Task):
    """IMDB-shaped stand-in: random token ids, binary labels, every sequence full length."""

    name = "bench"
    kind = "classify"

    @property
    def labels(self) -> list[str]:
        return ["neg", "pos"]


def synthetic_splits(n: int, seq: int, vocab: int, seed: int = 0) -> Splits:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(1, vocab, (n, seq), generator=g)  # [n, seq]
    y = torch.randint(0, 2, (n,), generator=g)  # [n]
    train = SeqData(x, y, torch.full((n,), seq))
    val = train.subset(slice(0, 8))  # tiny: the bench times training, not validation
    return Splits(train, val)


def _bare_epoch(model: nn.Module, train: SeqData, cfg: TrainConfig, flush: bool = True) -> float:
    """The plainest correct torch loop over the same batches fit draws; returns seconds. ``flush``: flush denormals
    as fit does, so that the ratio measures fit's own overhead rather than a floating-point mode."""
    opt = make_optimizer(model.parameters(), cfg)
    model.train()
    start = time.perf_counter()
    batches = iterate_batches(train, cfg.batch_size, torch.device("cpu"), cfg.seed, cfg.bucket, cfg.bucket_pool)
    with flushed_denormals() if flush else contextlib.nullcontext():
        for x, y, lengths in batches:
            out = model(x, lengths)
            loss = nn.functional.cross_entropy(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.clip_grad > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad)
            opt.step()
    return time.perf_counter() - start


class _Losses(Callback):
    """Keeps every batch's loss: a callback as cheap as the app's progress updates."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_batch_end(self, event: BatchEnd) -> None:
        self.losses.append(event.loss)


def bench_fit_overhead(
    hidden: int = 100,
    batch: int = 64,
    seq: int = 500,
    batches: int = 12,
    repeats: int = 3,
    log: Callable[[str], None] = print,
) -> dict[str, float]:
    """Train LSTM(hidden) on ``batches`` batches of [batch, seq] tokens through ``fit`` (with a progress
    callback like the app's) and through a bare loop, after a warm-up of each, alternating which goes first, best of
    ``repeats`` each."""
    mcfg = ModelConfig(cell="lstm", vocab_size=5000, embed_dim=32, hidden_size=hidden, output_size=2)
    tcfg = TrainConfig(epochs=1, batch_size=batch, lr=1e-3, seed=0)
    splits = synthetic_splits(batch * batches, seq, 5000)
    task = _SyntheticTokens()
    tokens = batch * batches * seq
    fit_s, bare_s = [], []
    seen = _Losses()

    def time_fit() -> None:
        model = build_model(mcfg, seed=0)
        start = time.perf_counter()
        fit(model, task, tcfg, callbacks=[seen], splits=splits)
        fit_s.append(time.perf_counter() - start)

    def time_bare() -> None:
        bare_s.append(_bare_epoch(build_model(mcfg, seed=0), splits.train, tcfg))

    # Unmeasured warm-up of both paths (allocator, thread pool, kernels), then alternate which goes first
    # so drift on a shared machine does not favour either.
    time_fit()
    time_bare()
    fit_s.clear()
    bare_s.clear()
    for r in range(repeats):
        for run in (time_fit, time_bare) if r % 2 == 0 else (time_bare, time_fit):
            run()
        log(f"  repeat {r + 1}/{repeats}: fit {tokens / fit_s[-1]:,.0f} tok/s, bare {tokens / bare_s[-1]:,.0f} tok/s")
    fit_tps, bare_tps = tokens / min(fit_s), tokens / min(bare_s)
    # What flushing denormals buys (rnn_core/denormals.py): the bare loop on a thread of its own, as the app's
    # training jobs run, without the flush and with it.
    on_thread: dict[bool, float] = {}
    for flush in (False, True):
        worker = threading.Thread(target=lambda f=flush: on_thread.__setitem__(
            f, _bare_epoch(build_model(mcfg, seed=0), splits.train, tcfg, flush=f)))
        worker.start()
        worker.join()
    return {"fit_tokens_per_s": fit_tps, "bare_tokens_per_s": bare_tps, "ratio": fit_tps / bare_tps,
            "thread_unflushed_tokens_per_s": tokens / on_thread[False],
            "thread_flushed_tokens_per_s": tokens / on_thread[True]}


def _median_ms(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(wall, CPU) milliseconds of ``fn()``, medians of ``repeats`` after a warm-up. CPU time counts this
    process only, so it stays readable when other processes crowd a shared machine; wall time is what a person waits."""
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - w) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def bench_replay(hidden: int = 100, seq: int = 500, repeats: int = 10) -> dict[str, float]:
    """Milliseconds for one ``seq``-step sequence through ``run_with_cache`` (median of ``repeats``):
    ``replay_ms`` is the plain call (the read-only fast path), ``replay_step_ms`` the step-by-step replay that
    hooks and gradients use, ``fused_ms`` the fused forward; each with torch's current thread count and with one
    thread (``*_1thread``) — what the app's job manager sets on a 2-core machine (one job per core, one thread
    each); a batch of one is too small to gain from more threads. ``*_cpu_ms``: this process's CPU time."""
    model = build_model(
        ModelConfig(cell="lstm", vocab_size=5000, embed_dim=32, hidden_size=hidden, output_size=2), seed=0
    )
    x = torch.randint(1, 5000, (1, seq))  # [1, seq]
    keep_all = make_filter(None)
    paths: dict[str, Callable[[], object]] = {
        "replay": lambda: model.run_with_cache(x),
        "replay_step": lambda: cache_by_steps(model, x, keep=keep_all),
        "fused": lambda: model.eval()(x),
    }
    res: dict[str, float] = {}
    threads = torch.get_num_threads()
    for suffix, n_threads in (("", threads), ("_1thread", 1)):
        torch.set_num_threads(n_threads)
        try:
            with torch.no_grad():
                for name, fn in paths.items():
                    res[f"{name}_ms{suffix}"], res[f"{name}_cpu_ms{suffix}"] = _median_ms(fn, repeats)
        finally:
            torch.set_num_threads(threads)
    return res


def run_bench(quick: bool = False, log: Callable[[str], None] = print) -> dict[str, float]:
    """All core benchmarks; ``quick`` shrinks them for smoke tests."""
    threads = torch.get_num_threads()
    log(f"bench: torch {torch.__version__}, {threads} threads, LSTM(100), batch 64, 500 steps")
    res = bench_fit_overhead(batches=2 if quick else 12, repeats=1 if quick else 4, log=log)
    res.update(bench_replay(repeats=3 if quick else 10))
    res["threads"] = threads
    log(f"  ratio fit/bare {res['ratio']:.3f} (goal >= 0.95)")
    log(f"  bare loop on a job thread: {res['thread_flushed_tokens_per_s']:,.0f} tok/s with denormals flushed to zero, "
        f"{res['thread_unflushed_tokens_per_s']:,.0f} tok/s without "
        f"(x{res['thread_flushed_tokens_per_s'] / res['thread_unflushed_tokens_per_s']:.2f})")
    for name, what in (("replay", "run_with_cache (fast path)"), ("replay_step", "step replay (hooks, gradients)"),
                       ("fused", "fused forward")):
        log(f"  500 steps through {what}: {res[f'{name}_ms']:.1f} ms with {threads} threads, "
            f"{res[f'{name}_ms_1thread']:.1f} ms with 1 (CPU {res[f'{name}_cpu_ms_1thread']:.1f} ms)")
    log("  goal: run_with_cache under 10 ms")
    return res


def bench_init(
    tasks: tuple[str, ...] = ("letters", "sine"),
    seeds: int = 3,
    data_dir: str | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, dict[str, float]]:
    """Train each task's seed preset with Keras's and torch's initialisation over ``seeds`` seeds and
    report the mean final validation metric of each — the measurement behind ModelConfig's default."""
    from .tasks import get_task

    out: dict[str, dict[str, float]] = {}
    for name in tasks:
        base = get_task(name)
        preset = "quick" if "quick" in base.presets else "seed"
        task = get_task(name, **base.presets[preset].task)
        for init in ("keras", "torch"):
            scores = []
            for seed in range(seeds):
                mcfg, tcfg = task.configs(preset, init=init, seed=seed)
                splits = task.load(data_dir=data_dir, limit=tcfg.limit, seed=seed)
                hist = fit(build_model(mcfg, seed=seed), task, tcfg, splits=splits)
                scores.append(hist.epochs[-1][f"val_{hist.metric}"])
            key = f"{name}/{preset}/{init}"
            out[key] = {"mean": statistics.mean(scores), "min": min(scores), "max": max(scores)}
            log(
                f"  {key}: val {hist.metric} mean {out[key]['mean']:.4f} (min {min(scores):.4f}, max {max(scores):.4f})"
            )
    return out


def fixed_length(data: SeqData, maxlen: int) -> SeqData:
    """Keras-style input: every sequence pre-padded to ``maxlen`` and read in full (no lengths) — what
    ``pad_sequences`` + an LSTM without masking computes."""
    n = len(data)
    x = torch.zeros(n, maxlen, dtype=data.x.dtype)  # [n, maxlen]
    for i, length in enumerate(data.lengths.tolist()):
        x[i, maxlen - length :] = data.x[i, :length]
    return SeqData(x, data.y, torch.full((n,), maxlen), data.meta)


def bench_bucketing(
    data_dir: str | None = None, limit: int = 0, log: Callable[[str], None] = print
) -> dict[str, float]:
    """One training epoch of the IMDB seed model (Embedding(5000,32)+LSTM(100), batch 64, maxlen 500)
    fed length-bucketed batches vs fixed 500-step batches, from one run. ``limit`` trims train."""
    from .tasks import get_task

    task = get_task("imdb", **get_task("imdb").presets["seed"].task)
    mcfg, tcfg = task.configs("seed")
    tcfg = tcfg.replace(epochs=1, limit=limit)
    splits = task.load(data_dir=data_dir, limit=limit, seed=0)
    tiny_val = splits.val.subset(slice(0, 8))  # time the training epoch, not validation
    res: dict[str, float] = {"reviews": float(len(splits.train))}
    for label, train, bucket in (
        ("bucketed", splits.train, True),
        ("fixed500", fixed_length(splits.train, 500), False),
    ):
        model = build_model(mcfg, seed=0)
        start = time.perf_counter()
        fit(model, task, tcfg.replace(bucket=bucket), splits=Splits(train, tiny_val))
        res[f"epoch_s_{label}"] = time.perf_counter() - start
        log(f"  {label}: {res[f'epoch_s_{label}']:.1f} s for {len(train)} reviews")
    res["speedup"] = res["epoch_s_fixed500"] / res["epoch_s_bucketed"]
    return res
