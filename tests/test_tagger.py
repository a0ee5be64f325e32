"""The char + word tagger: fused path and step replay agree for both networks, hook names carry the
``chars.`` prefix for the character network, interventions on either network change the tags, the summary
lists both networks, word dropout acts only while training, and a saved tagger run loads and predicts."""

from __future__ import annotations

import pytest
import torch

from rnn_core import ModelConfig, build_model
from rnn_core.summary import param_count, summary
from rnn_core.tagger import PAD, UNK, TaggerModel, word_char_cache

LENGTHS = (5, 3, 1)
CHARS = 7


def make_tagger(cell="lstm", bidirectional=True, layers=1, init="torch", **kw) -> TaggerModel:
    cfg = ModelConfig(cell=cell, vocab_size=13, embed_dim=5, char_vocab_size=9, char_embed_dim=3, char_hidden=4,
                      hidden_size=6, num_layers=layers, bidirectional=bidirectional, output_size=4, head="every",
                      init=init, **kw)
    model = build_model(cfg, seed=0)
    assert isinstance(model, TaggerModel)
    return model.eval()


def make_words(seed=1) -> torch.Tensor:
    """[batch, seq, 1 + CHARS]: word ids and right-padded character ids of varied lengths; padding words are 0."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(len(LENGTHS), max(LENGTHS), 1 + CHARS, dtype=torch.long)
    for b, n in enumerate(LENGTHS):
        for t in range(n):
            x[b, t, 0] = int(torch.randint(1, 13, (1,), generator=g))
            k = int(torch.randint(1, CHARS + 1, (1,), generator=g))
            x[b, t, 1 : 1 + k] = torch.randint(1, 9, (k,), generator=g)
    return x


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_fused_and_replay_agree_for_both_networks(cell, bidirectional, record_figure):
    model = make_tagger(cell, bidirectional, layers=2)
    x = make_words()
    fused = model(x).detach()  # [batch, seq, tags]
    replay, cache = model.run_with_cache(x)
    err = float((fused - replay).abs().max())
    record_figure("tagger parity max |fused - replay|", err)
    assert err < 1e-5
    # the character network's own parity: its replayed final vectors are the fused ones for every real word
    real = x[..., 0] != PAD
    fused_vec = model.char_vectors(x[..., 1:][real])  # [words, width]
    replay_vec = cache["hook_input"][..., model.cfg.embed_dim :][real]
    assert torch.allclose(fused_vec, replay_vec, atol=1e-5)


def test_hook_names_prefix_the_character_network_and_keep_the_word_names():
    model = make_tagger("lstm", True)
    names = model.activation_names()
    assert "chars.layers.0.fwd.hook_h" in names and "chars.layers.0.bwd.hook_c" in names
    assert "chars.hook_embed" in names and "layers.0.bwd.hook_h" in names and names[-1] == "hook_logits"
    _, cache = model.run_with_cache(make_words())
    assert set(cache) == set(names)
    b, s = len(LENGTHS), max(LENGTHS)
    assert cache["layers.0.fwd.hook_h"].shape == (b, s, 6)
    assert cache["chars.layers.0.fwd.hook_h"].shape[:2] == (b, s) and cache["chars.layers.0.fwd.hook_h"].shape[3] == 4
    assert (cache["chars.layers.0.fwd.hook_h"][2, 1:] == 0).all()  # padding words hold no character states
    with pytest.raises(KeyError, match="no hook point"):
        model.run_with_hooks(make_words(), fwd_hooks=[("chars.layers.0.up.hook_h", lambda t, h: t)])


def test_interventions_reach_each_network_and_are_removed_afterwards():
    model = make_tagger("lstm", True)
    x = make_words()
    base = model(x)
    seen = []

    def zero(t, hook):
        seen.append(hook.name)
        return torch.zeros_like(t)

    no_chars = model.run_with_hooks(x, fwd_hooks=[("chars.layers.0.fwd.hook_h", zero)])
    assert seen[0] == "chars.layers.0.fwd.hook_h" and not torch.allclose(no_chars, base)
    no_bwd = model.run_with_hooks(x, fwd_hooks=[("layers.0.bwd.hook_h", zero)])
    assert not torch.allclose(no_bwd, base)
    # zeroing the backward direction is exactly a model whose head ignores the backward half
    head = model.words.head
    _, cache = model.run_with_cache(x)
    fwd_only = cache["layers.0.fwd.hook_h"] @ head.weight[:, :6].T + head.bias
    real = x[..., 0] != PAD
    assert torch.allclose(no_bwd[real], fwd_only[real], atol=1e-5)
    assert all(not hp.hooks for hp in model.hook_points.values())
    assert torch.allclose(model(x), base)


def test_gradients_cover_the_word_network():
    model = make_tagger("gru", True)
    _, cache = model.run_with_cache(make_words(), incl_grad=True)
    assert "layers.0.fwd.hook_h_grad" in cache and cache["hook_input_grad"].abs().sum() > 0


def test_summary_lists_both_networks_and_adds_up():
    model = make_tagger("lstm", True)
    rows = summary(model)
    layers = [r["layer"] for r in rows]
    assert layers[0] == "chars/embedding" and "chars/bidirectional(lstm_0)" in layers
    assert "embedding" in layers and "bidirectional(lstm_0)" in layers and layers[-1] == "dense"
    total = sum(p.numel() for p in model.parameters())
    assert sum(r["params"] for r in rows) == total == param_count(model.cfg)


def test_word_dropout_only_while_training_and_never_on_padding():
    model = make_tagger("lstm", True, word_dropout=0.999)
    x = make_words()
    model.train()
    ids = model._word_ids(x)
    real = x[..., 0] > UNK
    assert (ids[real] == UNK).all() and (ids[x[..., 0] == PAD] == PAD).all()
    model.eval()
    assert torch.equal(model._word_ids(x), x[..., 0])


def test_a_tagger_config_must_tag_every_word():
    with pytest.raises(ValueError, match="head 'every'"):
        ModelConfig(vocab_size=5, char_vocab_size=5, head="last").validate()


def test_replay_without_character_names_takes_the_fused_character_vectors_and_agrees():
    model = make_tagger("lstm", True)
    x = make_words()
    full, _cache = model.run_with_cache(x)
    short, only = model.run_with_cache(x, names_filter=["hook_logits"])
    assert list(only) == ["hook_logits"] and torch.allclose(full, short, atol=1e-6)


def test_one_words_character_states_are_that_word_read_alone():
    model = make_tagger("lstm", True)
    x = make_words()
    _, cache = model.run_with_cache(x)
    n = int((x[0, 2, 1:] != PAD).sum())
    one = word_char_cache(cache, 2, n)
    _, alone = model.chars.run_with_cache(x[0, 2, 1 : 1 + n][None])  # [1, n] character ids
    for name in ("layers.0.fwd.hook_h", "layers.0.bwd.hook_h", "layers.0.bwd.hook_f"):
        assert one[name].shape == (1, n, 4) and torch.allclose(one[name], alone[name], atol=1e-6)
