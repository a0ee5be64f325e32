"""The numbers behind the Memory page's diagnostics for one run, as plain arrays: gradient flow on a batch of
validation examples, per-epoch records from the training probe, connectivity for one example, gate statistics,
and an intervention's comparison. Everything comes from ``rnn_core.analysis``; nothing here draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnn_core.analysis.connectivity import connectivity
from rnn_core.analysis.gate_stats import BLOCKS, MEMORY_GATE, gate_saturation, memory_gate_over_time
from rnn_core.analysis.gradient_flow import gradient_flow
from rnn_core.analysis.interventions import Comparison, Intervention, compare
from rnn_core.hooks import hook_name
from rnn_core.probe import probe_cache, probe_epochs, probe_grads, probe_input, probe_radii
from rnn_core.runs import Run
from rnn_core.tasks.base import SeqData

from ..inside.examples import validation_split

BATCH = 32  # validation examples the gradient flow is averaged over
MAX_STEPS = 400  # longer examples are cut: a replay with gradients steps through every one


def _batch(data: SeqData, n: int = BATCH) -> SeqData:
    """The first ``n`` validation examples, cut to their first MAX_STEPS steps (the loss is then that of the
    cut input: what the network would say had the example ended there)."""
    part = data.subset(slice(0, min(n, len(data))))
    if part.x.shape[1] <= MAX_STEPS:
        return part
    y = part.y[:, :MAX_STEPS] if part.y.dim() >= 2 else part.y
    return SeqData(x=part.x[:, :MAX_STEPS], y=y, lengths=part.lengths.clamp(max=MAX_STEPS), meta=part.meta)


@dataclass(frozen=True)
class Flow:
    """Gradient flow of one run on a validation batch: mean norm per step [seq], magnitude [seq, units]."""

    mean_norm: np.ndarray
    magnitude: np.ndarray
    span: float  # orders of magnitude lost from the last step back to the first


def flow_on_validation(run: Run, layer: int | None = None, n: int = BATCH) -> Flow:
    """d loss / d h_t of ``run`` (its last layer by default) on its first ``n`` validation examples."""
    data = _batch(validation_split(run), n)
    f = gradient_flow(run.model, run.task.kind, data.x, data.y, data.lengths, layer=layer)
    return Flow(mean_norm=f.mean_norm().numpy(), magnitude=f.unit_magnitude().numpy(), span=f.span())


def probe_flow(run: Run, layer: int = 0) -> dict[int, np.ndarray]:
    """‖d loss / d h_t‖ per step on the probe, per recorded epoch ({} for runs trained before it was recorded)."""
    name = hook_name(layer, "fwd", "h")
    out = {}
    for epoch in probe_epochs(run.probe):
        grads = probe_grads(run.probe, epoch).get(name)
        if grads is not None:
            out[epoch] = grads[0].norm(dim=-1).numpy()  # [seq]
    return out


def radius_history(run: Run, layer: int = 0) -> tuple[list[int], dict[str, list[float]]]:
    """(epochs, {block: spectral radius per epoch}) from the probe; empty when the run has no such record."""
    per_epoch = probe_radii(run.probe)
    where = f"layers.{layer}.fwd"
    epochs = [e for e, r in per_epoch.items() if where in r]
    blocks = BLOCKS[run.model_cfg.cell]
    return epochs, {b: [float(per_epoch[e][where][k]) for e in epochs] for k, b in enumerate(blocks)}


@dataclass(frozen=True)
class GateStats:
    """Gate statistics of the probe at one epoch: saturation per gate [units] and the memory gate per step."""

    shut: dict[str, np.ndarray]
    open: dict[str, np.ndarray]
    memory: dict[int, np.ndarray]  # epoch -> mean forget / update gate per step [seq]


def gate_stats(run: Run, epoch: int, layer: int = 0) -> GateStats:
    """Saturation at ``epoch`` and the memory gate over time at every recorded epoch, from the training probe."""
    cell = run.model_cfg.cell
    _, lengths = probe_input(run.probe)
    sat = gate_saturation(probe_cache(run.probe, epoch), cell, layer, "fwd", lengths)
    memory: dict[int, np.ndarray] = {}
    if cell in MEMORY_GATE:
        for e in probe_epochs(run.probe):
            line = memory_gate_over_time(probe_cache(run.probe, e), cell, layer)
            if line is not None:
                memory[e] = line.numpy()
    return GateStats(shut={g: s.shut.numpy() for g, s in sat.items()},
                     open={g: s.open.numpy() for g, s in sat.items()}, memory=memory)


@dataclass(frozen=True)
class Influence:
    """Connectivity of one example: each input step's share of the influence on ``step``'s output."""

    step: int
    shares: np.ndarray  # [seq]
    curve: np.ndarray | None  # the input itself when it is one number per step


def influence(run: Run, x: torch.Tensor, step: int) -> Influence:
    """Connectivity of x [1, seq, ...] for the output at ``step``."""
    conn = connectivity(run.model, x, step=step)
    one_feature = not run.model_cfg.token_input and (x.dim() == 2 or x.shape[-1] == 1)
    curve = x[0].reshape(x.shape[1], -1)[:, 0].float().numpy() if one_feature else None
    return Influence(step=conn.step, shares=conn.shares()[0].numpy(), curve=curve)


def intervene(run: Run, x: torch.Tensor, interventions: list[Intervention]) -> Comparison:
    """The example replayed with and without ``interventions`` (ValueError for an impossible one)."""
    return compare(run.model, x, interventions)
