"""Watch the gates learn: a ``fit`` callback that replays one fixed probe input through the model at the
start of training and after every epoch, keeping every activation, so a page can show how the hidden
state and gates changed as the network learned. Also the readers that turn saved probe tensors back
into per-epoch caches.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import Tensor

from .callbacks import Callback, EpochEnd, TrainBegin, TrainEnd
from .model import RecurrentModel
from .tasks.base import SeqData, Task

PROBE_X = "probe/x"
PROBE_LENGTHS = "probe/lengths"
PROBE_Y = "probe/y"
GRAD_PREFIX = "grad/"  # grad/epoch{k}/<hook_h name>: d loss / d h_t on the probe at epoch k
RADIUS_PREFIX = "radius/"  # radius/epoch{k}/layers.{l}.{d}: spectral radius of each W_hh block at epoch k
_EPOCH_KEY = re.compile(r"^epoch(\d+)/(.+)$")


class ProbeRecorder(Callback):
    """A ``fit`` callback that records ``model.run_with_cache(probe)``.

    At the start of training it fixes the probe input: ``example`` (a SeqData holding one example; only its first
    is used) or, when None, the first validation example of ``task.load()`` (or of ``splits.val``).
    It records the untrained network there as epoch 0, then once per epoch end — one replay of one
    sequence per epoch, so it costs next to nothing next to the epoch itself. ``names`` limits which
    activations are kept (None = all of ``model.activation_names()`` but ``hook_input``, which is the
    probe input itself and never changes); ``every`` > 1 records only every
    k-th epoch (the last one is always recorded when training ends). Values are detached CPU tensors of
    ``dtype`` (float32 by default; float16 halves the file for long probes).
    """

    def __init__(
        self,
        task: Task,
        example: SeqData | None = None,
        names: Iterable[str] | None = None,
        every: int = 1,
        dtype: torch.dtype = torch.float32,
        splits: Any = None,
    ):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a whole number ≥ 1, not {every!r}")
        if example is not None and len(example) == 0:
            raise ValueError("the probe example is empty; pass a SeqData holding one example (data.subset([i]))")
        self.task = task
        self.example = example
        self.names = None if names is None else list(names)
        self.every = every
        self.dtype = dtype
        self.splits = splits
        self.x: Tensor | None = None  # [1, seq] ids or [1, seq, features]
        self.lengths: Tensor | None = None  # [1]
        self.y: Tensor | None = None  # the probe's target: [1] label, [1, seq] tags or [1, seq, out] values
        self.labels: list[str] = []
        self.records: dict[int, dict[str, Tensor]] = {}  # epoch -> activation name -> [1, seq, units]
        self.memory: dict[int, dict[str, Tensor]] = {}  # epoch -> GRAD_/RADIUS_ key tail -> tensor (memory_record)
        # A RecurrentModel or a Tagger: both name their activations and offer run_with_cache.
        self._model: Any = None
        self._last_epoch = 0

    # ------------------------------------------------------------------------------------- callback
    def on_train_begin(self, event: TrainBegin) -> None:
        self._model = event.model
        self._pick_probe()
        self.records.clear()
        self.memory.clear()
        self._record(0)

    def on_epoch_end(self, event: EpochEnd) -> None:
        self._model = event.model
        self._last_epoch = event.epoch
        if event.epoch % self.every == 0:
            self._record(event.epoch)

    def on_train_end(self, event: TrainEnd) -> None:
        if self._model is not None and self._last_epoch > 0 and self._last_epoch not in self.records:
            self._record(self._last_epoch)

    def _pick_probe(self) -> None:
        data = self.example
        if data is None:
            splits = self.splits if self.splits is not None else self.task.load()
            data = splits.val if len(splits.val) else splits.train
        one = data.subset([0])
        n = int(one.lengths[0])
        self.x = one.x[:, :n].detach().cpu().clone()  # [1, seq] or [1, seq, features]
        self.lengths = one.lengths.detach().cpu().clone().long()  # [1]
        self.y = one.y[:, :n].detach().cpu().clone() if one.y.dim() >= 2 else one.y.detach().cpu().clone()
        self.labels = list(self.task.step_labels(one, 0))

    @torch.no_grad()
    def _record(self, epoch: int) -> None:
        model = self._model
        if model is None or self.x is None:
            return  # nothing to record before training begins
        device = next(model.parameters()).device
        names = self.names
        if names is None:
            names = [n for n in model.activation_names() if n != "hook_input"]
        else:
            unknown = [n for n in names if n not in model.activation_names()]
            if unknown:
                raise ValueError(f"no activation named {unknown[0]!r}; see model.activation_names()")
        _, cache = model.run_with_cache(self.x.to(device), self.lengths, names_filter=names)
        self.records[epoch] = {k: v.to(self.dtype).clone() for k, v in cache.items()}  # each [1, seq, units]
        # The char + word tagger has its own layout: its memory record is left out.
        if self.y is not None and self.lengths is not None and isinstance(model, RecurrentModel):
            self.memory[epoch] = memory_record(model, self.task.kind, self.x.to(device), self.y, self.lengths)

    # ---------------------------------------------------------------------------------------- output
    @property
    def epochs(self) -> list[int]:
        """The recorded epochs, ascending (0 = before training)."""
        return sorted(self.records)

    def tensors(self) -> dict[str, Tensor]:
        """Everything recorded, flat for safetensors: ``probe/x``, ``probe/lengths``, ``probe/y`` (the
        target) and ``epoch{k}/<activation name>`` for every recorded epoch k."""
        if self.x is None or self.lengths is None or self.y is None:
            return {}
        out = {PROBE_X: self.x.contiguous(), PROBE_LENGTHS: self.lengths.contiguous(), PROBE_Y: self.y.contiguous()}
        for epoch in self.epochs:
            for name, t in self.records[epoch].items():
                out[f"epoch{epoch}/{name}"] = t.contiguous()
            for key, t in self.memory.get(epoch, {}).items():
                prefix, rest = key.split("/", 1)
                out[f"{prefix}/epoch{epoch}/{rest}"] = t.contiguous()
        return out

    def meta(self) -> dict[str, Any]:
        """What the tensors don't say: the step labels, the task and the recorded epochs."""
        return {"labels": list(self.labels), "task": self.task.name, "epochs": self.epochs}

    def for_save(self) -> dict[str, Any]:
        """The ``probe=`` argument of ``save_run``: ``{"tensors": ..., "meta": ...}``."""
        return {"tensors": self.tensors(), "meta": self.meta()}


def memory_record(model: RecurrentModel, kind: str, x: Tensor, y: Tensor, lengths: Tensor) -> dict[str, Tensor]:
    """What the Memory page reads per epoch: d loss / d h_t of every layer and direction on the probe
    (``grad/<hook name>``, [1, seq, units]) and the spectral radius of each recurrent weight block
    (``radius/layers.{l}.{d}``, [blocks] in the cell's block order, see ``analysis.gate_stats.BLOCKS``)."""
    from .analysis.gate_stats import recurrent_radii  # analysis imports the model; keep probe import-light
    from .analysis.gradient_flow import gradient_flow

    out: dict[str, Tensor] = {}
    for layer in range(model.cfg.num_layers):
        for direction in model.directions():
            flow = gradient_flow(model, kind, x, y.to(x.device), lengths, layer=layer, direction=direction)
            out[f"grad/{flow.name}"] = flow.grads.float()
    for where, blocks in recurrent_radii(model.rnn, model.cfg.cell).items():
        out[f"radius/{where}"] = torch.tensor(list(blocks.values()), dtype=torch.float32)
    return out


# ------------------------------------------------------------------------------------------ reading
def probe_epochs(probe: Mapping[str, Tensor]) -> list[int]:
    """The epochs a saved probe holds, ascending."""
    found = {int(m.group(1)) for k in probe if (m := _EPOCH_KEY.match(k))}
    return sorted(found)


def probe_cache(probe: Mapping[str, Tensor], epoch: int) -> dict[str, Tensor]:
    """The activations recorded at ``epoch`` as a cache like ``run_with_cache`` returns (name → tensor
    [1, seq, units], float32). ValueError when that epoch was not recorded."""
    prefix = f"epoch{epoch}/"
    out = {k[len(prefix) :]: probe[k].float() for k in probe if k.startswith(prefix)}
    if not out:
        have = probe_epochs(probe)
        raise ValueError(f"the probe holds no epoch {epoch}; recorded epochs: {have or 'none'}")
    return out


def probe_grads(probe: Mapping[str, Tensor], epoch: int) -> dict[str, Tensor]:
    """d loss / d h_t on the probe at ``epoch``: hook name → [1, seq, units] ({} for runs saved without it)."""
    prefix = f"{GRAD_PREFIX}epoch{epoch}/"
    return {k[len(prefix):]: probe[k].float() for k in probe if k.startswith(prefix)}


def probe_radii(probe: Mapping[str, Tensor]) -> dict[int, dict[str, Tensor]]:
    """Spectral radii per recorded epoch: ``{epoch: {"layers.0.fwd": [blocks]}}`` ({} without a record)."""
    out: dict[int, dict[str, Tensor]] = {}
    for k in probe:
        if k.startswith(RADIUS_PREFIX) and (m := _EPOCH_KEY.match(k[len(RADIUS_PREFIX):])):
            out.setdefault(int(m.group(1)), {})[m.group(2)] = probe[k].float()
    return dict(sorted(out.items()))


def probe_target(probe: Mapping[str, Tensor]) -> Tensor | None:
    """The probe example's target as saved (None for probes saved without one)."""
    return probe.get(PROBE_Y, None)


def probe_input(probe: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
    """The probe's model input x [1, seq, ...] and lengths [1]."""
    if PROBE_X not in probe:
        raise ValueError("this run has no probe input saved; train it again with a ProbeRecorder")
    x = probe[PROBE_X]
    lengths = probe[PROBE_LENGTHS] if PROBE_LENGTHS in probe else torch.tensor([x.shape[1]])
    return x, lengths.long()


MAX_PROBE_RECORDS = 100  # probe snapshots kept per run; long runs record every k-th epoch


def recorder_for_run(task: Task, splits: Any, epochs: int, max_records: int = MAX_PROBE_RECORDS) -> ProbeRecorder:
    """The probe a training run keeps: at most about ``max_records`` epochs (plus the untrained start and
    the last epoch), so a 10,000-epoch run's probe file stays small."""
    return ProbeRecorder(task, splits=splits, every=max(1, math.ceil(epochs / max_records)))
