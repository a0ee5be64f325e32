"""Flushing denormal floats to zero while training on the CPU.

A recurrent network's backward pass multiplies many saturated gate derivatives (σ'(x) = σ(x)(1 − σ(x)) for
|x| ≫ 0, and 1 − tanh²), so its gradients fill with denormals: floats below 2⁻¹²⁶ ≈ 1.2e-38, which x86 CPUs
handle in microcode at up to a hundred times the cost of a normal multiply. Flushing them to zero (FTZ/DAZ) changes
no value above 1.2e-38, far below anything a loss or an update can resolve. What it saves depends on how saturated
the gates get: an epoch of the IMDB ``default`` GRU takes 24.8 s instead of 30.1 s here, the ``seed`` LSTM 42 s
either way, the benchmark's LSTM on random tokens half the time (``python -m rnn_core bench``).

The setting belongs to the CPU thread that makes it (the MXCSR register), so a job thread's choice never leaks
to another thread. torch offers no way to read it back, so :func:`flushed_denormals` counts its own nesting per
thread and turns flushing off again (torch's default) when the outermost use ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

_depth = threading.local()


@contextmanager
def flushed_denormals() -> Iterator[bool]:
    """Within the block, this thread flushes denormal floats to zero; yields whether the CPU supports it (where it
    does not, the block runs unchanged). Nested uses keep it on until the outermost one ends."""
    depth = getattr(_depth, "n", 0)
    if depth == 0:
        _depth.supported = torch.set_flush_denormal(True)
    _depth.n = depth + 1
    try:
        yield _depth.supported
    finally:
        _depth.n = depth
        if depth == 0:
            torch.set_flush_denormal(False)
