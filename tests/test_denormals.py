"""Flushing denormals while training: on inside fit and its block only, per thread, nested safely; and the
benchmark's bare loop draws the very batches fit draws."""

from __future__ import annotations

import threading

import torch

from rnn_core import ModelConfig, TrainConfig, build_model, fit
from rnn_core.batching import iterate_batches
from rnn_core.bench import _SyntheticTokens, synthetic_splits
from rnn_core.callbacks import Callback
from rnn_core.denormals import flushed_denormals

TINY = 1e-39  # a float32 denormal: below 2**-126


def flushing() -> bool:
    """Whether this thread now flushes denormals: a denormal times one comes out as zero."""
    return float(torch.tensor([TINY], dtype=torch.float32)[0] * 1.0) == 0.0


def test_denormals_are_kept_outside_the_block_and_flushed_inside_it_even_nested():
    assert not flushing()
    with flushed_denormals() as supported:
        assert supported, "this x86 CPU supports FTZ/DAZ"
        assert flushing()
        with flushed_denormals():
            assert flushing()
        assert flushing(), "the inner block's end must not turn flushing off for the outer one"
    assert not flushing()


def test_flushing_on_one_thread_leaves_the_others_alone():
    seen: dict[str, bool] = {}
    inside, release = threading.Event(), threading.Event()

    def job():
        with flushed_denormals():
            seen["job"] = flushing()
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=job)
    worker.start()
    inside.wait(10)
    seen["main"] = flushing()
    release.set()
    worker.join()
    assert seen == {"job": True, "main": False}


class Flushing(Callback):
    def __init__(self):
        self.seen: list[bool] = []

    def on_batch_end(self, event):
        self.seen.append(flushing())


def test_fit_trains_with_denormals_flushed_and_leaves_the_thread_as_it_was():
    task = _SyntheticTokens()
    mcfg = ModelConfig(cell="lstm", vocab_size=50, embed_dim=4, hidden_size=8, output_size=2)
    cb = Flushing()
    hist = fit(build_model(mcfg, seed=0), task, TrainConfig(epochs=1, batch_size=16, seed=0), [cb],
               splits=synthetic_splits(64, 10, 50))
    assert len(hist.batches) == 4 and cb.seen == [True] * 4
    assert not flushing()


def test_the_benchmarks_bare_loop_draws_the_batches_fit_draws():
    """Equal lengths: fit does not bucket (nothing to save), so neither may the bare loop it is compared with."""
    splits = synthetic_splits(96, 12, 50)
    cfg = TrainConfig(epochs=1, batch_size=16, seed=3)
    drawn = [x for x, _, _ in iterate_batches(splits.train, cfg.batch_size, torch.device("cpu"), cfg.seed,
                                              cfg.bucket, cfg.bucket_pool)]
    trained: list[torch.Tensor] = []  # the inputs of fit's training steps
    model = build_model(ModelConfig(cell="gru", vocab_size=50, embed_dim=4, hidden_size=8, output_size=2), seed=0)
    model.register_forward_pre_hook(lambda m, args: trained.append(args[0].clone()) if m.training else None)
    fit(model, _SyntheticTokens(), cfg, splits=splits)
    assert len(trained) == len(drawn) == 6
    assert all(torch.equal(a, b) for a, b in zip(trained, drawn))
