"""Small builders shared by the model tests: a model for a configuration and a padded batch to feed it."""

from __future__ import annotations

import torch

from rnn_core import ModelConfig, build_model

FEATURES = 3
VOCAB = 11
EMBED = 4
HIDDEN = 6
OUTPUTS = 3
LENGTHS = (7, 4, 1, 6)  # a full-length sequence, two shorter ones and a single step


def make_model(cell="lstm", layers=1, bidirectional=False, head="last", token=False, init="torch", seed=0, **kw):
    """A small model in eval mode. ``init="torch"`` by default: its biases are non-zero, so a mix-up
    between b_ih and b_hh (or GRU's b_hn inside r ⊙ (...)) would show in the parity checks."""
    cfg = ModelConfig(
        cell=cell,
        input_size=FEATURES,
        vocab_size=VOCAB if token else 0,
        embed_dim=EMBED,
        hidden_size=HIDDEN,
        num_layers=layers,
        bidirectional=bidirectional,
        output_size=kw.pop("output_size", OUTPUTS),
        head=head,
        init=init,
        **kw,
    )
    return build_model(cfg, seed=seed).eval()


def make_batch(token: bool, lengths=LENGTHS, seed=1):
    """A right-padded batch and the ``lengths`` argument to pass with it.

    Token input: ids 1..VOCAB-1, padding id 0 (the model derives lengths itself, so None is returned).
    Feature input: padded steps hold large random values, so any leak of padding into a result shows.
    """
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    seq = int(lengths.max())
    valid = torch.arange(seq)[None, :] < lengths[:, None]  # [batch, seq]
    if token:
        x = torch.randint(1, VOCAB, (len(lengths), seq), generator=g)  # [batch, seq]
        return x * valid, None
    x = torch.randn(len(lengths), seq, FEATURES, generator=g)  # [batch, seq, features]
    garbage = 50 * torch.randn(x.shape, generator=g)
    return torch.where(valid[..., None], x, garbage), lengths


def valid_mask(lengths, seq: int) -> torch.Tensor:
    """[batch, seq] bool: True at steps inside each sequence."""
    return torch.arange(seq)[None, :] < torch.as_tensor(lengths)[:, None]
