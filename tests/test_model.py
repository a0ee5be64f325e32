"""The paths over one set of weights agree: fused nn.RNN/LSTM/GRU, the read-only fast cache and the step replay.

Also: the cached activations obey each cell's equations, padding never changes a result, every
activation name is cached with the documented shape, and Keras-style initialisation is what it claims.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from model_helpers import EMBED, FEATURES, HIDDEN, LENGTHS, OUTPUTS, make_batch, make_model, valid_mask
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnn_core import replay
from rnn_core.hooks import make_filter
from rnn_core.replay import cache_by_steps

# Both paths run in float32 and do the same arithmetic in a different order (fused gate matmuls and
# packed sequences vs. one addmm per step, sums regrouped), so they differ by rounding only: the largest
# difference measured over all configurations below is ~1e-7 on logits of size ~1 (the terminal summary
# prints it per cell). 1e-5 leaves ~100x headroom; a real mismatch (a wrong gate order, a bias in the
# wrong place, a padded step leaking in) is orders of magnitude larger.
PARITY_ATOL = 1e-5
CELLS = ("rnn", "lstm", "gru")
# Tiny tensors: a second intra-op thread only adds synchronisation (45 s vs 6 s for this file on a busy 2-core box).
pytestmark = pytest.mark.usefixtures("single_thread")
CONFIGS = list(itertools.product(CELLS, (1, 2, 3), (False, True), ("last", "every"), (False, True)))


def _max_valid_diff(a, b, head, lengths):
    if head == "every":  # padded steps carry head(0) on both paths by convention; only real steps count
        m = valid_mask(lengths, a.shape[1])
        return (a - b)[m].abs().max().item()
    return (a - b).abs().max().item()


@pytest.mark.parametrize(
    "cell,layers,bidirectional,head,token",
    CONFIGS,
    ids=[f"{c}-L{n}-{'bi' if b else 'uni'}-{h}-{'tok' if t else 'feat'}" for c, n, b, h, t in CONFIGS],
)
def test_fused_fast_cache_and_step_replay_agree(cell, layers, bidirectional, head, token, record_figure):
    """Three paths, one set of weights, a padded batch: the fused forward, the read-only fast cache (plain
    run_with_cache) and the step-by-step replay give the same logits, and the two caches the same activations."""
    model = make_model(cell, layers, bidirectional, head, token)
    x, lengths = make_batch(token)
    with torch.no_grad():
        fused = model(x, lengths)
    fast, fast_cache = model.run_with_cache(x, lengths)
    step, step_cache = cache_by_steps(model, x, lengths, keep=make_filter(None))
    assert fused.shape == fast.shape == step.shape
    diffs = {"fused - step": _max_valid_diff(fused, step, head, LENGTHS),
             "fused - fast": _max_valid_diff(fused, fast, head, LENGTHS)}
    assert list(fast_cache) == list(step_cache) == model.activation_names()
    diffs["fast - step cache"] = max((fast_cache[n] - step_cache[n]).abs().max().item() for n in fast_cache)
    for what, diff in diffs.items():
        record_figure(f"parity max |{what}| ({cell})", diff)
    print(diffs)
    assert max(diffs.values()) <= PARITY_ATOL, diffs


@pytest.mark.parametrize("cell", CELLS)
def test_fast_cache_stays_with_the_step_replay_over_a_long_sequence(cell, record_figure):
    """300 steps with Keras's initialisation (forget bias 1: the LSTM cell state grows and rounding could build
    up along the element-wise c loop) — every cached value still within 1e-5 of the replay's, relative to its size."""
    model = make_model(cell, layers=2, bidirectional=True, init="keras")
    x, lengths = make_batch(token=False, lengths=(300, 170))
    _, fast_cache = model.run_with_cache(x, lengths)
    _, step_cache = cache_by_steps(model, x, lengths, keep=make_filter(None))
    worst = max(((fast_cache[n] - step_cache[n]).abs() / (1 + step_cache[n].abs())).max().item() for n in fast_cache)
    record_figure(f"parity max relative |fast - step| over 300 steps ({cell})", worst)
    assert worst <= PARITY_ATOL


def test_plain_run_with_cache_needs_no_step_loop(monkeypatch):
    """Without hooks or gradients the cache comes from the fused kernels and batched gates; hooks bring the
    step replay back (they must fire at every step)."""
    model = make_model("lstm", layers=2, bidirectional=True)
    x, lengths = make_batch(token=False)
    expected = cache_by_steps(model, x, lengths, keep=make_filter(None))[1]

    def no_loop(**_kw):
        raise AssertionError("the step loop ran")

    monkeypatch.setattr(replay, "run_direction", no_loop)
    _, cache = model.run_with_cache(x, lengths)
    torch.testing.assert_close(cache, expected, atol=PARITY_ATOL, rtol=0)
    with pytest.raises(AssertionError, match="step loop ran"), model.hooks([("hook_logits", lambda t, _h: None)]):
        model.run_with_cache(x, lengths)
    with pytest.raises(AssertionError, match="step loop ran"):
        model.run_with_cache(x, lengths, incl_grad=True)


def test_parity_holds_with_interlayer_dropout_in_eval_mode():
    model = make_model("lstm", layers=3, bidirectional=True, dropout=0.5)
    x, lengths = make_batch(token=False)
    model.train()  # run_with_cache must switch dropout off by itself and restore the mode afterwards
    replay, _ = model.run_with_cache(x, lengths)
    assert model.training
    with torch.no_grad():
        fused = model.eval()(x, lengths)
    assert (fused - replay).abs().max().item() <= PARITY_ATOL


def test_input_dropout_acts_only_while_training_and_replay_ignores_it():
    model = make_model("gru", token=True, input_dropout=0.5)
    x, lengths = make_batch(token=True)
    with torch.no_grad():
        eval_a, eval_b = model(x, lengths), model(x, lengths)
        model.train()
        train_out = model(x, lengths)
    assert torch.equal(eval_a, eval_b) and not torch.allclose(train_out, eval_a)  # it does drop while training
    replay, _ = model.run_with_cache(x, lengths)
    assert (model.eval()(x, lengths) - replay).abs().max().item() <= PARITY_ATOL


# ---------------------------------------------------------------------------------- cell equations
def _prev(seq_vals: torch.Tensor, direction: str) -> torch.Tensor:
    """The state each step started from: the previous step (fwd) or the next one (bwd), zero at the start.
    Cached values past a sequence's end are zero, which is exactly the backward direction's initial state."""
    z = torch.zeros_like(seq_vals[:, :1])
    if direction == "fwd":
        return torch.cat([z, seq_vals[:, :-1]], dim=1)
    return torch.cat([seq_vals[:, 1:], z], dim=1)


@pytest.mark.parametrize("cell", CELLS)
def test_cached_activations_obey_the_cell_equations(cell):
    model = make_model(cell, layers=2, bidirectional=True)
    x, lengths = make_batch(token=False)
    _, cache = model.run_with_cache(x, lengths)
    m = valid_mask(lengths, x.shape[1])  # [batch, seq]
    for layer, d in itertools.product(range(2), ("fwd", "bwd")):
        a = {
            k: cache[f"layers.{layer}.{d}.hook_{k}"]
            for k in ("h", "c", "i", "f", "g", "o", "r", "z", "n", "pre")
            if f"layers.{layer}.{d}.hook_{k}" in cache
        }
        if cell == "lstm":
            c_expect = a["f"] * _prev(a["c"], d) + a["i"] * a["g"]
            torch.testing.assert_close(a["c"][m], c_expect[m], atol=1e-6, rtol=0)
            torch.testing.assert_close(a["h"][m], (a["o"] * torch.tanh(a["c"]))[m], atol=1e-6, rtol=0)
        elif cell == "gru":
            h_expect = (1 - a["z"]) * a["n"] + a["z"] * _prev(a["h"], d)
            torch.testing.assert_close(a["h"][m], h_expect[m], atol=1e-6, rtol=0)
        else:
            torch.testing.assert_close(a["h"][m], torch.tanh(a["pre"])[m], atol=1e-6, rtol=0)


def test_rnn_pre_activation_is_the_elman_sum():
    """pre_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh, checked on layer 0 from the weights themselves."""
    model = make_model("rnn")
    x, lengths = make_batch(token=False)
    _, cache = model.run_with_cache(x, lengths)
    r = model.rnn
    h_prev = _prev(cache["layers.0.fwd.hook_h"], "fwd")
    pre = x @ r.weight_ih_l0.T + r.bias_ih_l0 + h_prev @ r.weight_hh_l0.T + r.bias_hh_l0  # [batch, seq, hidden]
    m = valid_mask(lengths, x.shape[1])
    torch.testing.assert_close(cache["layers.0.fwd.hook_pre"][m], pre.detach()[m], atol=1e-5, rtol=0)


@pytest.mark.parametrize("cell", CELLS)
def test_cached_last_layer_h_equals_the_fused_output_sequence(cell):
    model = make_model(cell, layers=2, bidirectional=True, token=True)
    x, _ = make_batch(token=True)
    lengths = torch.tensor(LENGTHS)
    _, cache = model.run_with_cache(x)
    with torch.no_grad():
        packed = pack_padded_sequence(model.embed(x), lengths, batch_first=True, enforce_sorted=False)
        out, _ = pad_packed_sequence(model.rnn(packed)[0], batch_first=True)  # [batch, seq, 2*hidden]
    cached = torch.cat([cache["layers.1.fwd.hook_h"], cache["layers.1.bwd.hook_h"]], dim=-1)
    m = valid_mask(lengths, x.shape[1])
    torch.testing.assert_close(cached[m], out[m], atol=PARITY_ATOL, rtol=0)


# ------------------------------------------------------------------------------------------ padding
@pytest.mark.parametrize(
    "cell,bidirectional,head,token", list(itertools.product(CELLS, (False, True), ("last", "every"), (False, True)))
)
def test_padding_never_changes_a_sequences_logits(cell, bidirectional, head, token):
    model = make_model(cell, layers=2, bidirectional=bidirectional, head=head, token=token)
    x, lengths = make_batch(token)
    row, n = 1, LENGTHS[1]  # a length-4 sequence padded to 7 inside the batch
    alone = x[row : row + 1, :n]
    alone_len = None if token else [n]
    with torch.no_grad():
        fused_alone, fused_batch = model(alone, alone_len), model(x, lengths)[row : row + 1]
    replay_alone, cache_alone = model.run_with_cache(alone, alone_len)
    replay_batch, cache_batch = model.run_with_cache(x, lengths)
    replay_batch = replay_batch[row : row + 1]
    if head == "every":
        fused_batch, replay_batch = fused_batch[:, :n], replay_batch[:, :n]
    torch.testing.assert_close(fused_batch, fused_alone, atol=PARITY_ATOL, rtol=0)
    torch.testing.assert_close(replay_batch, replay_alone, atol=PARITY_ATOL, rtol=0)
    h = "layers.1.fwd.hook_h"
    torch.testing.assert_close(cache_batch[h][row : row + 1, :n], cache_alone[h], atol=PARITY_ATOL, rtol=0)


def test_cache_is_zero_past_each_sequences_end():
    model = make_model("lstm", layers=2, bidirectional=True, head="every")
    x, lengths = make_batch(token=False)
    _, cache = model.run_with_cache(x, lengths)
    pad = ~valid_mask(lengths, x.shape[1])  # [batch, seq]
    nonzero = [name for name, v in cache.items() if v[pad].abs().max().item() != 0]
    assert nonzero == [], f"these cached activations leak values past the sequence end: {nonzero}"


# ------------------------------------------------------------------------------------ names, shapes
@pytest.mark.parametrize("cell,token", list(itertools.product(CELLS, (False, True))))
def test_every_activation_name_is_cached_with_batch_seq_units(cell, token):
    model = make_model(cell, layers=2, bidirectional=True, head="last", token=token)
    x, lengths = make_batch(token)
    _, cache = model.run_with_cache(x, lengths)
    names = model.activation_names()
    assert list(cache) == names
    assert names[0] == ("hook_embed" if token else "hook_input") and names[-1] == "hook_logits"
    gates = {"rnn": {"pre", "h"}, "lstm": {"i", "f", "g", "o", "c", "h"}, "gru": {"r", "z", "n", "h"}}[cell]
    for layer, d in itertools.product(range(2), ("fwd", "bwd")):
        assert {n.rsplit("hook_", 1)[1] for n in names if n.startswith(f"layers.{layer}.{d}.")} == gates
    batch, seq = x.shape[:2]
    for name in names:
        units = {"hook_embed": EMBED, "hook_input": FEATURES, "hook_logits": OUTPUTS}.get(name, HIDDEN)
        assert tuple(cache[name].shape) == (batch, seq, units), name
        assert not cache[name].requires_grad and cache[name].device.type == "cpu"


def test_names_filter_keeps_only_the_requested_names():
    model = make_model("gru", layers=2)
    x, lengths = make_batch(token=False)
    full_logits, full = model.run_with_cache(x, lengths)
    one = "layers.1.fwd.hook_z"
    logits, cache = model.run_with_cache(x, lengths, names_filter=one)
    assert list(cache) == [one]
    torch.testing.assert_close(cache[one], full[one], atol=0, rtol=0)
    torch.testing.assert_close(logits, full_logits, atol=0, rtol=0)
    assert list(model.run_with_cache(x, lengths, names_filter=["hook_input", "hook_logits"])[1]) == [
        "hook_input",
        "hook_logits",
    ]
    _, only_h = model.run_with_cache(x, lengths, names_filter=lambda n: n.endswith("hook_h"))
    assert list(only_h) == ["layers.0.fwd.hook_h", "layers.1.fwd.hook_h"]


# --------------------------------------------------------------------------------------------- init
@pytest.mark.parametrize("cell", CELLS)
def test_keras_init_orthogonal_recurrent_weights_and_forget_bias(cell):
    model = make_model(cell, layers=2, bidirectional=True, token=True, init="keras")
    hid = HIDDEN
    for name, p in model.rnn.named_parameters():
        if name.startswith("weight_hh"):
            torch.testing.assert_close(p.T @ p, torch.eye(hid), atol=1e-5, rtol=0)  # orthonormal columns
    for sfx in ("_l0", "_l1", "_l0_reverse", "_l1_reverse"):
        bias = getattr(model.rnn, f"bias_ih{sfx}") + getattr(model.rnn, f"bias_hh{sfx}")  # what the gates see
        expect = torch.zeros_like(bias)
        if cell == "lstm":
            expect[hid : 2 * hid] = 1.0  # gate order i, f, g, o: start by remembering
        torch.testing.assert_close(bias, expect, atol=0, rtol=0)
    emb = model.embed.weight
    assert emb.abs().max().item() <= 0.05 and emb.std().item() > 0.01
    assert emb[model.cfg.padding_idx].abs().max().item() == 0


def test_torch_init_differs_from_keras_init():
    keras = make_model("lstm", token=True, init="keras")
    torch_init = make_model("lstm", token=True, init="torch")
    w = torch_init.rnn.weight_hh_l0
    assert (w.T @ w - torch.eye(HIDDEN)).abs().max().item() > 0.1  # not orthogonal
    assert torch_init.rnn.bias_hh_l0.abs().max().item() > 0  # torch's uniform biases
    assert torch_init.embed.weight.abs().max().item() > 0.05  # N(0, 1) embedding
    assert not torch.equal(keras.rnn.weight_ih_l0, torch_init.rnn.weight_ih_l0)
    assert keras.cfg.init == "keras"


def test_build_model_seed_reproduces_the_weights_and_leaves_the_global_rng_alone():
    state = torch.random.get_rng_state()
    a, b = make_model("gru", seed=3), make_model("gru", seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(make_model("gru", seed=4).rnn.weight_ih_l0, a.rnn.weight_ih_l0)


def test_run_with_cache_hands_out_ordinary_tensors():
    # The replay runs under inference mode for speed; what it returns must still take in-place edits.
    model = make_model("lstm")
    x, lengths = make_batch(token=False)
    logits, cache = model.run_with_cache(x, lengths)
    assert not logits.is_inference() and not any(v.is_inference() for v in cache.values())
    cache["layers.0.fwd.hook_f"].mul_(2)
    logits.add_(1)
