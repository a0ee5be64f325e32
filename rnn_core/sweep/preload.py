"""Imported once in the local backend's forkserver, so every worker forks with the work already done:
torch, rnn_core and the tasks imported, and torch's optimizer machinery loaded (the first optimizer a
process builds imports torch's compiler stack, ~1 s on a quiet core and 10 s on a busy one)."""

from __future__ import annotations

import torch

from . import worker  # noqa: F401 - imported for its imports

torch.optim.Adam([torch.zeros(1, requires_grad=True)])
