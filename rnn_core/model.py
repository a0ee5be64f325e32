"""RecurrentModel: embedding or feature input → torch's fused nn.RNN / nn.LSTM / nn.GRU → linear head,
plus a step-by-step replay of the same parameters (``run_with_cache`` / ``run_with_hooks``) that exposes
every gate through named hook points.

Padding convention: sequences are right-padded; ``lengths`` (or, for token input, the count of
non-padding ids) says where each one ends, and nothing past that end changes any result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .cells import CELL_ACTIVATIONS, gru_step, lstm_step, rnn_step
from .config import ModelConfig

HookFn = Callable[[Tensor, "HookPoint"], "Tensor | None"]

_FUSED = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


@dataclass
class HookPoint:
    """A named place in the replay. ``step`` is the time index while a per-step hook runs
    (None for whole-sequence points: hook_embed / hook_input / hook_logits)."""

    name: str
    hooks: list[HookFn] = field(default_factory=list)
    step: int | None = None

    def __call__(self, t: Tensor, step: int | None = None) -> Tensor:
        self.step = step
        for fn in self.hooks:
            out = fn(t, self)
            if out is not None:
                if out.shape != t.shape:
                    raise ValueError(
                        f"hook on {self.name} returned shape {tuple(out.shape)}, expected {tuple(t.shape)}"
                    )
                t = out
        return t


def _make_filter(names_filter) -> Callable[[str], bool]:
    if names_filter is None:
        return lambda _n: True
    if callable(names_filter):
        return names_filter
    if isinstance(names_filter, str):
        return lambda n: n == names_filter
    wanted = set(names_filter)
    return lambda n: n in wanted


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

    # ----------------------------------------------------------------------------------------- names
    def directions(self) -> tuple[str, ...]:
        return ("fwd", "bwd") if self.cfg.bidirectional else ("fwd",)

    def activation_names(self) -> list[str]:
        """Every hook point name, in the order DESIGN.md lists them."""
        names = ["hook_embed" if self.cfg.token_input else "hook_input"]
        for layer in range(self.cfg.num_layers):
            for d in self.directions():
                names += [f"layers.{layer}.{d}.hook_{a}" for a in CELL_ACTIVATIONS[self.cfg.cell]]
        return names + ["hook_logits"]

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
            out = out * _step_mask(lengths, inp.shape[1], out.device)[..., None]
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
        names_filter=None,
        incl_grad: bool = False,
        grad_target: Callable[[Tensor], Tensor] | None = None,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Replay the network step by step through ``cells.py`` and record activations.

        Returns ``(logits, cache)``: logits as ``forward`` gives them (computed by the replay, in eval
        mode: dropout off), and ``cache[name]`` a detached CPU tensor ``[batch, seq, units]`` for every
        name in ``activation_names()`` that passes ``names_filter`` (None = all; a name; a list; or a
        predicate). Steps past a sequence's length are zero. With ``incl_grad=True`` the cache also
        holds ``<name>_grad``: d target / d activation, where target is ``grad_target(logits)``
        (default: the sum over the batch of each output's largest logit — the predicted class's score,
        or the regression value itself).
        """
        keep = _make_filter(names_filter)
        store: dict[str, list[Tensor] | Tensor] = {}
        logits = self._replay(x, lengths, store, keep, track_grad=incl_grad, inference=not incl_grad)
        grads: dict[str, Tensor] = {}
        if incl_grad:
            target = grad_target(logits) if grad_target else logits.max(dim=-1).values.sum()
            parts = {n: (v if isinstance(v, list) else [v]) for n, v in store.items()}
            # A hook may have replaced an activation by a constant: it has no gradient (zero), and
            # autograd refuses to differentiate with respect to it.
            wanted = [t for ts in parts.values() for t in ts if t.requires_grad]
            found = iter(torch.autograd.grad(target, wanted, allow_unused=True) if wanted else ())
            for n, ts in parts.items():
                gs = [next(found) if t.requires_grad else None for t in ts]
                gs = [torch.zeros_like(t) if g is None else g for g, t in zip(gs, ts)]
                grads[n] = torch.stack(gs, dim=1) if isinstance(store[n], list) else gs[0]
        # The store holds the very tensors the computation used (so gradients reach them); steps past
        # each sequence's end are zeroed only now, for values and gradients alike.
        lens = self.lengths_of(x, lengths)
        mask = None if lens is None else _step_mask(lens, x.shape[1], logits.device)[..., None]  # [batch, seq, 1]
        cache: dict[str, Tensor] = {}
        for n, v in store.items():  # DESIGN.md's order: each value, then its grad
            cache[n] = _masked(torch.stack(v, dim=1) if isinstance(v, list) else v, mask)
            if n in grads:
                cache[f"{n}_grad"] = _masked(grads[n], mask)
        if not incl_grad:  # inference tensors refuse in-place edits and autograd: hand out ordinary ones
            cache = {n: v.clone() if v.is_inference() else v for n, v in cache.items()}
            logits = logits.clone()
        return logits.detach(), cache

    def run_with_hooks(
        self,
        x: Tensor,
        lengths: Tensor | Sequence[int] | None = None,
        fwd_hooks: Iterable[tuple[str, HookFn]] = (),
    ) -> Tensor:
        """Replay with interventions: each ``fn(activation, hook)`` may return a replacement, which then
        flows through the rest of the recurrence. Per-step points get ``[batch, units]`` with
        ``hook.step`` set; hook_embed / hook_input / hook_logits get the whole ``[batch, seq, units]``.
        Hooks are removed when the call ends, also when it raises."""
        with self.hooks(fwd_hooks):
            with torch.no_grad():
                return self._replay(x, lengths, None, lambda _n: False, track_grad=False)

    @contextmanager
    def hooks(self, fwd_hooks: Iterable[tuple[str, HookFn]]) -> Iterator["RecurrentModel"]:
        """Attach hooks for the duration of a ``with`` block; always detached afterwards."""
        try:
            for name, fn in fwd_hooks:
                if name not in self.hook_points:
                    raise KeyError(f"no hook point named {name!r}; see model.activation_names()")
                self.hook_points[name].hooks.append(fn)
            yield self
        finally:
            self.reset_hooks()

    def reset_hooks(self) -> None:
        for hp in self.hook_points.values():
            hp.hooks.clear()

    def _replay(
        self,
        x: Tensor,
        lengths,
        store: dict | None,
        keep: Callable[[str], bool],
        track_grad: bool,
        inference: bool = False,
    ) -> Tensor:
        """``inference``: run under torch.inference_mode — ~15 % less per-op overhead, which dominates a step of
        a small batch; what it produces is cloned into ordinary tensors before it leaves ``run_with_cache``."""
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode() if inference else torch.set_grad_enabled(track_grad):
                return self._replay_inner(x, lengths, store, keep)
        finally:
            self.train(was_training)

    def _replay_inner(self, x: Tensor, lengths, store: dict | None, keep: Callable[[str], bool]) -> Tensor:
        cfg = self.cfg
        device = self.head.weight.device
        x = x.to(device)
        lengths = self.lengths_of(x, lengths)
        bsz, seq = x.shape[0], x.shape[1]
        mask = None if lengths is None else _step_mask(lengths, seq, device)  # [batch, seq]

        in_name = "hook_embed" if cfg.token_input else "hook_input"
        inp = self._inputs(x)  # [batch, seq, in]
        if torch.is_grad_enabled() and not inp.requires_grad:
            inp = inp.detach().requires_grad_()  # feature input: incl_grad needs d target / d input
        layer_in = self.hook_points[in_name](inp)  # [batch, seq, in]
        if store is not None and keep(in_name):
            store[in_name] = layer_in

        for layer in range(cfg.num_layers):
            outs = []
            for d, direction in enumerate(self.directions()):
                sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
                w_ih = getattr(self.rnn, f"weight_ih{sfx}")
                w_hh = getattr(self.rnn, f"weight_hh{sfx}")
                b_ih = getattr(self.rnn, f"bias_ih{sfx}")
                b_hh = getattr(self.rnn, f"bias_hh{sfx}")
                xi_all = torch.nn.functional.linear(layer_in, w_ih, b_ih)  # [batch, seq, gates*hidden]
                outs.append(self._run_direction(layer, direction, xi_all, w_hh, b_hh, mask, store, keep, bsz, seq))
            layer_in = torch.cat(outs, dim=-1) if len(outs) > 1 else outs[0]  # [batch, seq, dirs*hidden]
            # Inter-layer dropout is off in eval mode, as in the fused path.

        per_step = self.hook_points["hook_logits"](self.head(layer_in))  # [batch, seq, output]
        if store is not None and keep("hook_logits"):
            store["hook_logits"] = per_step
        if cfg.head == "every":
            return per_step  # padded steps hold head(0), as in the fused path
        return self.head(self._last(layer_in, lengths))  # [batch, output]

    def _run_direction(self, layer, direction, xi_all, w_hh, b_hh, mask, store, keep, bsz, seq) -> Tensor:
        """Loop one direction of one layer over time; returns its h sequence [batch, seq, hidden]."""
        cfg = self.cfg
        prefix = f"layers.{layer}.{direction}."
        points = {a: self.hook_points[prefix + "hook_" + a] for a in CELL_ACTIVATIONS[cfg.cell]}
        kept = {a: [] for a in points if store is not None and keep(prefix + "hook_" + a)}
        active = {a for a, hp in points.items() if hp.hooks} | set(kept)
        zero = xi_all.new_zeros(bsz, cfg.hidden_size)  # [batch, hidden]
        h = zero
        c = zero if cfg.cell == "lstm" else None
        hs: list[Tensor | None] = [None] * seq
        order = range(seq - 1, -1, -1) if direction == "bwd" else range(seq)
        step_vals: dict[str, Tensor] = {}

        for t in order:
            m = None if mask is None else mask[:, t : t + 1]  # [batch, 1]

            def hook(name: str, value: Tensor, _t=t) -> Tensor:
                if name not in active:
                    return value
                value = points[name](value, _t)
                if name in kept:
                    step_vals[name] = value
                return value

            xi = xi_all[:, t]  # [batch, gates*hidden]
            if cfg.cell == "lstm":
                h_new, c_new = lstm_step(xi, h, c, w_hh, b_hh, hook)
            elif cfg.cell == "gru":
                h_new, c_new = gru_step(xi, h, w_hh, b_hh, hook), None
            else:
                h_new, c_new = rnn_step(xi, h, w_hh, b_hh, hook), None
            if m is None:
                h, c = h_new, c_new
                hs[t] = h
            else:
                # Outside a sequence the state stays as it was: for the backward direction that keeps the
                # zero initial state until the sequence's last real step, as packed sequences do.
                h = torch.where(m.bool(), h_new, h)
                if c is not None:
                    c = torch.where(m.bool(), c_new, c)
                hs[t] = h_new * m
            for a in kept:
                v = step_vals.get(a)
                kept[a].append(v)  # unmasked: run_with_cache zeroes padded steps after taking gradients
            step_vals.clear()

        if store is not None:
            for a, vals in kept.items():
                store[prefix + "hook_" + a] = vals if direction == "fwd" else vals[::-1]
        return torch.stack(hs, dim=1)  # [batch, seq, hidden]


def _masked(v: Tensor, mask: Tensor | None) -> Tensor:
    """A detached CPU copy of ``v`` [batch, seq, units] with steps outside each sequence zeroed."""
    return (v if mask is None else v * mask).detach().cpu()


def _step_mask(lengths: Tensor, seq: int, device: torch.device) -> Tensor:
    """[batch, seq] float: 1 at steps inside each sequence."""
    return (torch.arange(seq)[None, :] < lengths[:, None]).to(device).float()


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


def build_model(cfg: ModelConfig, seed: int | None = None) -> RecurrentModel:
    """Build a RecurrentModel from a config; ``seed`` makes the initial weights reproducible."""
    if seed is None:
        return RecurrentModel(cfg)
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        return RecurrentModel(cfg)
    finally:
        torch.random.set_rng_state(state)
