"""RecurrentModel: embedding or feature input → torch's fused nn.RNN / nn.LSTM / nn.GRU → linear head, and its
public API: the fused ``forward``, the hook points and their names, and ``run_with_cache`` / ``run_with_hooks``,
which hand over to the read-only fast path (``fast_cache.py``) or the step replay (``replay.py``).

Padding convention: sequences are right-padded; ``lengths`` (or, for token input, the count of
non-padding ids) says where each one ends, and nothing past that end changes any result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from . import fast_cache, replay
from .batching import step_mask
from .cells import CELL_ACTIVATIONS
from .config import ModelConfig
from .hooks import (
    LOGITS,
    HookFn,
    HookPoint,
    NamePredicate,
    NamesFilter,
    any_attached,
    attached,
    directions,
    input_name,
    make_filter,
    recurrent_names,
)

_FUSED = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentModel(nn.Module):
    """The network of a ModelConfig. ``forward`` is the fast fused path used for training."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg.validate()
        in_size = cfg.embed_dim if cfg.token_input else cfg.input_size
        self.embed = (
            nn.Embedding(cfg.vocab_size, cfg.embed_dim, padding_idx=cfg.padding_idx) if cfg.token_input else None
        )
        self.rnn = _FUSED[cfg.cell](
            input_size=in_size,
            hidden_size=cfg.hidden_size,
            num_layers=cfg.num_layers,
            bidirectional=cfg.bidirectional,
            dropout=cfg.dropout if cfg.num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.head = nn.Linear(cfg.hidden_size * cfg.num_directions, cfg.output_size)
        self.input_dropout = nn.Dropout(cfg.input_dropout)  # training only; replay runs in eval mode like Keras
        self.hook_points: dict[str, HookPoint] = {n: HookPoint(n) for n in self.activation_names()}
        reset_parameters(self, cfg.init)
        if cfg.memory_bias:  # 0 keeps the init's own biases
            set_memory_bias(self.rnn, cfg.cell, float(cfg.memory_bias))

    # ----------------------------------------------------------------------------------------- names
    def directions(self) -> tuple[str, ...]:
        """``("fwd",)`` or, bidirectional, ``("fwd", "bwd")``."""
        return directions(self.cfg.bidirectional)

    def activation_names(self) -> list[str]:
        """Every hook point name, in the order DESIGN.md lists them."""
        cfg = self.cfg
        per_step = recurrent_names(CELL_ACTIVATIONS[cfg.cell], cfg.num_layers, cfg.bidirectional)
        return [input_name(cfg.token_input), *per_step, LOGITS]

    # ----------------------------------------------------------------------------------- fused path
    def lengths_of(self, x: Tensor, lengths: Tensor | Sequence[int] | None) -> Tensor | None:
        """Per-sequence lengths as a CPU int64 tensor, or None when every sequence fills the batch."""
        if lengths is None and self.cfg.token_input:
            lengths = (x != self.cfg.padding_idx).sum(dim=1)  # [batch]
        if lengths is None:
            return None
        lengths = torch.as_tensor(lengths, dtype=torch.long).cpu().clamp(1, x.shape[1])  # [batch]
        return None if bool((lengths == x.shape[1]).all()) else lengths

    def _inputs(self, x: Tensor) -> Tensor:
        if self.embed is not None:
            return self.embed(x.long())  # [batch, seq, embed]
        x = x.float()
        return x.unsqueeze(-1) if x.dim() == 2 else x  # [batch, seq, features]

    def forward(self, x: Tensor, lengths: Tensor | Sequence[int] | None = None) -> Tensor:
        """x: token ids [batch, seq] or features [batch, seq, features] (or [batch, seq] for 1 feature).

        Returns logits [batch, output] (head="last") or [batch, seq, output] (head="every").
        """
        lengths = self.lengths_of(x, lengths)
        inp = self.input_dropout(self._inputs(x))  # [batch, seq, in]
        if lengths is None:
            out, _ = self.rnn(inp)  # [batch, seq, dirs*hidden]
        elif not self.cfg.bidirectional:
            # A forward-only network never looks ahead, so steps before each sequence's end are exact
            # without packing; torch's packed kernels are ~10x slower on CPU. Padded steps are zeroed
            # to match what packing returns.
            out, _ = self.rnn(inp)
            out = out * step_mask(lengths, inp.shape[1], out.device)[..., None]
        else:
            # The backward direction must start at each sequence's own end: packing does that.
            packed = pack_padded_sequence(inp, lengths, batch_first=True, enforce_sorted=False)
            out, _ = self.rnn(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=inp.shape[1])
        if self.cfg.head == "every":
            return self.head(out)  # [batch, seq, output]
        return self.head(self._last(out, lengths))  # [batch, output]

    def _last(self, out: Tensor, lengths: Tensor | None) -> Tensor:
        """The sequence summary: forward state at each sequence's last real step, and (bidirectional)
        the backward state at step 0, which has read the whole sequence — what Keras's return_sequences=False gives."""
        hid = self.cfg.hidden_size
        b = out.shape[0]
        if lengths is None:
            last_idx = torch.full((b,), out.shape[1] - 1, dtype=torch.long, device=out.device)
        else:
            last_idx = (lengths - 1).to(out.device)
        fwd = out[torch.arange(b, device=out.device), last_idx, :hid]  # [batch, hidden]
        if not self.cfg.bidirectional:
            return fwd
        return torch.cat([fwd, out[:, 0, hid:]], dim=-1)  # [batch, 2*hidden]

    # ---------------------------------------------------------------------------------- replay path
    def run_with_cache(
        self,
        x: Tensor,
        lengths: Tensor | Sequence[int] | None = None,
        names_filter: NamesFilter = None,
        incl_grad: bool = False,
        grad_target: Callable[[Tensor], Tensor] | None = None,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Run the network and record its activations (in eval mode: dropout off).

        Returns ``(logits, cache)``: logits as ``forward`` gives them, and ``cache[name]`` a detached CPU tensor
        ``[batch, seq, units]`` for every name in ``activation_names()`` that passes ``names_filter`` (None = all;
        a name; a list; or a predicate). Steps past a sequence's length are zero. With ``incl_grad=True`` the
        cache also holds ``<name>_grad``: d target / d activation, where target is ``grad_target(logits)``
        (default: the sum over the batch of each output's largest logit — the predicted class's score, or the
        regression value itself).

        Two paths give the same numbers (a parity test holds them within 1e-5): with hooks attached (``hooks()``)
        or ``incl_grad``, the step-by-step replay (``replay.py``), where hooks fire and gradients flow through
        every step; otherwise the read-only fast path (``fast_cache.py``): h from the fused kernels, every gate
        in a few batched operations.
        """
        keep = make_filter(names_filter)
        if incl_grad or any_attached(self.hook_points):
            return replay.cache_by_steps(self, x, lengths, keep=keep, incl_grad=incl_grad, grad_target=grad_target)
        return fast_cache.cache_fast(self, x, lengths, keep=keep)

    def run_with_hooks(
        self,
        x: Tensor,
        lengths: Tensor | Sequence[int] | None = None,
        fwd_hooks: Iterable[tuple[str | NamePredicate, HookFn]] = (),
    ) -> Tensor:
        """Replay step by step with interventions: each ``fn(activation, hook)`` may return a replacement, which
        then flows through the rest of the recurrence. Per-step points get ``[batch, units]`` with ``hook.step``
        set; hook_embed / hook_input / hook_logits get the whole ``[batch, seq, units]``. Each pair names a hook
        point or gives a predicate over names (like ``names_filter``), which attaches ``fn`` to every matching
        point. The hooks are removed when the call ends, also when it raises; hooks of an enclosing ``hooks()``
        block stay attached and fire too."""
        with self.hooks(fwd_hooks):
            return replay.run_hooked(self, x, lengths)

    @contextmanager
    def hooks(self, fwd_hooks: Iterable[tuple[str | NamePredicate, HookFn]]) -> Iterator["RecurrentModel"]:
        """Attach hooks (pairs of a name or predicate and ``fn``) for the duration of a ``with`` block.

        Blocks nest: leaving one detaches exactly the hooks it attached, so an enclosing block's stay.
        """
        with attached(self.hook_points, fwd_hooks):
            yield self

    def reset_hooks(self) -> None:
        """Detach every hook (also those of enclosing ``hooks()`` blocks)."""
        for hp in self.hook_points.values():
            hp.hooks.clear()


def reset_parameters(model: RecurrentModel, init: str) -> None:
    """Initialise weights. ``torch``: torch's own defaults (uniform ±1/√hidden, N(0,1) embedding).
    ``keras``: glorot-uniform input weights, orthogonal recurrent weights, zero biases with the LSTM
    forget-gate bias at 1, uniform ±0.05 embedding, glorot-uniform head — Keras's layer defaults."""
    if init == "torch":
        model.rnn.reset_parameters()
        model.head.reset_parameters()
        if model.embed is not None:
            model.embed.reset_parameters()
        return
    hid = model.cfg.hidden_size
    with torch.no_grad():
        for name, p in model.rnn.named_parameters():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(p)  # fan_in = inputs, fan_out = gates*hidden, as Keras's kernel
            elif name.startswith("weight_hh"):
                nn.init.orthogonal_(p)  # [gates*hidden, hidden] with orthonormal columns, as Keras
            elif name.startswith("bias"):
                p.zero_()
                if model.cfg.cell == "lstm" and name.startswith("bias_ih"):
                    p[hid : 2 * hid] = 1.0  # unit_forget_bias: start by remembering
        nn.init.xavier_uniform_(model.head.weight)
        model.head.bias.zero_()
        if model.embed is not None:
            nn.init.uniform_(model.embed.weight, -0.05, 0.05)
            model.embed.weight[model.cfg.padding_idx].zero_()


def set_memory_bias(rnn: nn.RNNBase, cell: str, value: float) -> None:
    """Start every layer's memory gate (LSTM forget gate f, GRU update gate z) at σ(value): its slice of ``bias_ih``
    set to ``value`` and of ``bias_hh`` to 0 (the gate sees their sum). A plain RNN has no memory gate: unchanged."""
    block = {"lstm": 1, "gru": 1}.get(cell)  # torch's gate order: LSTM i, f, g, o; GRU r, z, n
    if block is None:
        return
    hid = rnn.hidden_size
    with torch.no_grad():
        for name, p in rnn.named_parameters():
            if name.startswith("bias_"):
                p[block * hid : (block + 1) * hid] = value if name.startswith("bias_ih") else 0.0


def build_model(cfg: ModelConfig, seed: int | None = None) -> RecurrentModel:
    """Build the network of a config — a RecurrentModel, or for ``char_vocab_size > 0`` the char + word
    TaggerModel (same public API); ``seed`` makes the initial weights reproducible."""
    from .tagger import TaggerModel  # the tagger is built from RecurrentModels: import it lazily

    cls = TaggerModel if cfg.tagger else RecurrentModel
    if seed is None:
        return cls(cfg)  # type: ignore[return-value]
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        return cls(cfg)  # type: ignore[return-value]
    finally:
        torch.random.set_rng_state(state)
