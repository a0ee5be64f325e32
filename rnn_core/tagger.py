"""The word tagger: a character-level RecurrentModel reads each word, its final states join the word's
embedding, and a word-level RecurrentModel tags every word. Both parts are the core's own RecurrentModel,
so their fused path, replay and hook points are the ones every other task uses; the character part's hook
names carry the prefix ``chars.`` (``chars.layers.0.fwd.hook_h``), the word part's names are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from .config import ModelConfig
from .hooks import HookFn, HookPoint, NamePredicate, attached, make_filter
from .model import RecurrentModel

PAD, UNK = 0, 1  # word ids and char ids alike: 0 pads, 1 stands for anything the vocabulary lacks
CHARS_PREFIX = "chars."  # hook-name prefix of the character-level network (DESIGN.md)


def char_config(cfg: ModelConfig) -> ModelConfig:
    """The character network: same cell and directions as the word network, one layer, and a square linear
    head on its final states (forward state after the last character; backward state after reading back to
    the first). The head is linear and so is the word network's input projection, so it adds no expressive
    power; it makes the character part a plain RecurrentModel whose "logits" are the word's character vector."""
    width = cfg.char_hidden * cfg.num_directions
    return ModelConfig(
        cell=cfg.cell, vocab_size=cfg.char_vocab_size, embed_dim=cfg.char_embed_dim, hidden_size=cfg.char_hidden,
        num_layers=1, bidirectional=cfg.bidirectional, output_size=width, head="last", init=cfg.init,
        padding_idx=PAD,
    )


def word_config(cfg: ModelConfig) -> ModelConfig:
    """The word network: reads [word embedding ; character vector] as features, tags at every step."""
    width = cfg.embed_dim + cfg.char_hidden * cfg.num_directions
    return ModelConfig(
        cell=cfg.cell, input_size=width, hidden_size=cfg.hidden_size, num_layers=cfg.num_layers,
        bidirectional=cfg.bidirectional, dropout=cfg.dropout, input_dropout=cfg.input_dropout,
        output_size=cfg.output_size, head="every", init=cfg.init,
    )


class TaggerModel(nn.Module):
    """Char + word tagger of a ModelConfig with ``char_vocab_size > 0``.

    Input x: int ids [batch, seq, 1 + chars] — ``x[..., 0]`` the word id (PAD past a sentence's end, UNK for a
    word the vocabulary lacks), ``x[..., 1:]`` its character ids, right-padded with PAD. Output: tag logits
    [batch, seq, tags]. Per word w with characters c_1..c_n::

        v_chars(w) = W_c [h_fwd(c_n) ; h_bwd(c_1)] + b_c        (character network, final states)
        x_t        = [E[w] ; v_chars(w)]                           (word network input, hook_input)
        logits_t   = head(h_t)                                     (word network, every step)
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg.validate()
        if not cfg.tagger:
            raise ValueError("TaggerModel needs char_vocab_size > 0")
        self.chars = RecurrentModel(char_config(cfg))
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed_dim, padding_idx=PAD)
        self.words = RecurrentModel(word_config(cfg))
        with torch.no_grad():
            if cfg.init == "keras":
                nn.init.uniform_(self.embed.weight, -0.05, 0.05)
            self.embed.weight[PAD].zero_()
        for hp in self.chars.hook_points.values():  # a hook function sees the name the caller used
            hp.name = CHARS_PREFIX + hp.name
        self.hook_points: dict[str, HookPoint] = {
            **{CHARS_PREFIX + n: hp for n, hp in self.chars.hook_points.items()},
            **self.words.hook_points,
        }

    # ----------------------------------------------------------------------------------------- names
    @property
    def rnn(self) -> nn.Module:
        """The word-level fused network (what pages showing "the" recurrence read)."""
        return self.words.rnn

    @property
    def head(self) -> nn.Linear:
        return self.words.head

    def directions(self) -> tuple[str, ...]:
        return self.words.directions()

    def activation_names(self) -> list[str]:
        """Character names (prefixed) first, then the word network's names in DESIGN.md's order."""
        return [CHARS_PREFIX + n for n in self.chars.activation_names()] + self.words.activation_names()

    def lengths_of(self, x: Tensor, lengths: Tensor | Sequence[int] | None) -> Tensor | None:
        """Words per sentence (from the word ids when not given), None when every sentence fills the batch."""
        if lengths is None:
            lengths = (x[..., 0] != PAD).sum(dim=1)  # [batch]
        return self.words.lengths_of(x[..., 0], lengths)

    # ----------------------------------------------------------------------------------- fused path
    def _word_ids(self, x: Tensor) -> Tensor:
        ids = x[..., 0].long()  # [batch, seq]
        p = self.cfg.word_dropout
        if self.training and p > 0:
            drop = (torch.rand(ids.shape, device=ids.device) < p) & (ids > UNK)  # [batch, seq]
            ids = ids.masked_fill(drop, UNK)
        return ids

    def char_vectors(self, chars: Tensor) -> Tensor:
        """Fused character network over words chars [n, max_chars] → [n, char width]. Each distinct spelling
        is read once (a batch repeats "the" and "," many times)."""
        chars = chars.long()
        n_chars = (chars != PAD).sum(dim=1).clamp(min=1)  # [n]
        chars = chars[:, : int(n_chars.max())]  # [n, c]
        uniq, inverse = torch.unique(chars, dim=0, return_inverse=True)  # [u, c], [n]
        return self.chars(uniq)[inverse]  # [n, width]

    def forward(self, x: Tensor, lengths: Tensor | Sequence[int] | None = None) -> Tensor:
        """x [batch, seq, 1 + chars] → tag logits [batch, seq, tags]."""
        x = x.to(self.embed.weight.device)
        ids = self._word_ids(x)  # [batch, seq]
        inp = torch.cat([self.embed(ids), self._word_char_vectors(x)], dim=-1)  # [batch, seq, embed + width]
        if lengths is None:
            lengths = (x[..., 0] != PAD).sum(dim=1)  # [batch]
        return self.words(inp, lengths)

    def _word_char_vectors(self, x: Tensor) -> Tensor:
        """Character vectors of every real word of x [batch, seq, 1 + chars] → [batch, seq, width], 0 at padding."""
        real = x[..., 0] != PAD  # [batch, seq]
        vec = torch.zeros(*real.shape, self.chars.cfg.output_size, dtype=self.embed.weight.dtype, device=x.device)
        if bool(real.any()):
            vec[real] = self.char_vectors(x[..., 1:][real])  # [words, width] into [batch, seq, width]
        return vec

    # ---------------------------------------------------------------------------------- replay path
    @contextmanager
    def hooks(self, fwd_hooks: Iterable[tuple[str | NamePredicate, HookFn]]) -> Iterator["TaggerModel"]:
        """Attach hooks (a name or a predicate; ``chars.`` names reach the character network) for a ``with``
        block. The merged hook points are the two networks' own, so the core's ``attached`` does the work."""
        with attached(self.hook_points, fwd_hooks):
            yield self

    def reset_hooks(self) -> None:
        self.chars.reset_hooks()
        self.words.reset_hooks()

    @torch.no_grad()
    def _char_vectors_fused(self, x: Tensor) -> Tensor:
        was = self.chars.training
        self.chars.eval()  # the replay runs in eval mode; so does its shortcut
        try:
            return self._word_char_vectors(x)
        finally:
            self.chars.train(was)

    def _char_replay(self, x: Tensor, keep: Callable[[str], bool]) -> tuple[Tensor, dict[str, Tensor]]:
        """Replay the character network over every word position: (vectors [batch, seq, width], cache with
        ``chars.`` names, each [batch, seq, chars, units]; positions past a sentence's end are zero)."""
        bsz, seq = x.shape[0], x.shape[1]
        chars = x[..., 1:].long().reshape(bsz * seq, -1)  # [batch*seq, max_chars]
        n_chars = (chars != PAD).sum(dim=1).clamp(min=1)  # [batch*seq]
        chars = chars[:, : int(n_chars.max())]
        want = [n for n in self.chars.activation_names() if keep(CHARS_PREFIX + n)]
        vec, cache = self.chars.run_with_cache(chars, n_chars, names_filter=want)  # [batch*seq, width]
        real = (x[..., 0] != PAD).reshape(bsz * seq, 1).to(vec.dtype).cpu()  # [batch*seq, 1]
        out = {
            CHARS_PREFIX + n: (v * real[:, :, None]).reshape(bsz, seq, *v.shape[1:]) for n, v in cache.items()
        }
        vec = vec * real.to(vec.device)
        return vec.reshape(bsz, seq, -1), out

    def run_with_cache(
        self,
        x: Tensor,
        lengths: Tensor | Sequence[int] | None = None,
        names_filter=None,
        incl_grad: bool = False,
        grad_target: Callable[[Tensor], Tensor] | None = None,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Replay both networks step by step through the core's replay (``RecurrentModel.run_with_cache``).

        Word-level names are cached ``[batch, seq, units]`` as for any model; ``chars.*`` names
        ``[batch, seq, chars, units]`` (word position, then character). With ``incl_grad`` the gradients
        cover the word-level names (``hook_input_grad`` includes the character vectors' share)."""
        keep = make_filter(names_filter)
        x = x.to(self.embed.weight.device)
        wanted = any(keep(CHARS_PREFIX + n) for n in self.chars.activation_names())
        hooked = any(hp.hooks for hp in self.chars.hook_points.values())
        if wanted or hooked:
            vec, cache = self._char_replay(x, keep)
        else:  # nothing to record or edit in the character network: its fused path gives the same vectors
            vec, cache = self._char_vectors_fused(x), {}
        with torch.no_grad():
            inp = torch.cat([self.embed(x[..., 0].long()), vec], dim=-1)  # [batch, seq, embed + width]
        if lengths is None:
            lengths = (x[..., 0] != PAD).sum(dim=1)
        word_names = [n for n in self.words.activation_names() if keep(n)]
        logits, words = self.words.run_with_cache(
            inp, lengths, names_filter=word_names, incl_grad=incl_grad, grad_target=grad_target
        )
        return logits, {**cache, **words}

    def run_with_hooks(
        self,
        x: Tensor,
        lengths: Tensor | Sequence[int] | None = None,
        fwd_hooks: Iterable[tuple[str, HookFn]] = (),
    ) -> Tensor:
        """Replay with interventions on either network (see ``RecurrentModel.run_with_hooks``)."""
        with self.hooks(fwd_hooks):
            logits, _ = self.run_with_cache(x, lengths, names_filter=[])
        return logits


def word_char_cache(cache: dict[str, Tensor], position: int, n_chars: int, batch: int = 0) -> dict[str, Tensor]:
    """The character network's activations for one word of a tagger's ``run_with_cache`` output, unprefixed and
    shaped like any model's cache (``[1, n_chars, units]`` per name), so the usual per-layer views can read them."""
    out = {}
    for name, v in cache.items():
        if name.startswith(CHARS_PREFIX) and v.dim() == 4:
            out[name[len(CHARS_PREFIX):]] = v[batch, position, :n_chars][None]  # [1, chars, units]
    return out
