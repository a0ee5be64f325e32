"""Interventions and gradients on the replay path: hooks change what flows through the recurrence, are
always detached afterwards, and ``incl_grad`` gives the true derivative of the target."""

from __future__ import annotations

import pytest
import torch
from model_helpers import LENGTHS, make_batch, make_model, valid_mask

pytestmark = pytest.mark.usefixtures("single_thread")
F0 = "layers.0.fwd.hook_f"


def _ones(t, _hook):
    return torch.ones_like(t)


def _manual_lstm_logits_with_f_one(model, x, lengths):
    """A 1-layer unidirectional LSTM with the forget gate forced to 1, written from the weights alone:
    c_t = c_{t-1} + i ⊙ g, h_t = o ⊙ tanh(c_t); the head reads h at each sequence's last step."""
    r = model.rnn
    out = []
    for b in range(x.shape[0]):
        h = torch.zeros(model.cfg.hidden_size)
        c = torch.zeros(model.cfg.hidden_size)
        for t in range(int(lengths[b])):
            gates = r.weight_ih_l0 @ x[b, t] + r.bias_ih_l0 + r.weight_hh_l0 @ h + r.bias_hh_l0  # [4*hidden]
            i, _f, g, o = gates.chunk(4)
            c = c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        out.append(model.head(h))
    return torch.stack(out).detach()  # [batch, output]


def test_clamping_the_forget_gate_to_one_matches_a_hand_written_lstm():
    model = make_model("lstm")
    x, lengths = make_batch(token=False)
    plain = model.run_with_hooks(x, lengths)
    clamped = model.run_with_hooks(x, lengths, fwd_hooks=[(F0, _ones)])
    assert (clamped - plain).abs().max().item() > 1e-3  # the intervention matters
    torch.testing.assert_close(clamped, _manual_lstm_logits_with_f_one(model, x, lengths), atol=1e-5, rtol=0)

    # The hooked cache shows the replacement and the equation it implies: c_t = c_{t-1} + i ⊙ g.
    with model.hooks([(F0, _ones)]):
        logits, cache = model.run_with_cache(x, lengths)
    torch.testing.assert_close(logits, clamped, atol=0, rtol=0)
    m = valid_mask(lengths, x.shape[1])
    assert bool((cache[F0][m] == 1).all())
    c, i, g = cache["layers.0.fwd.hook_c"], cache["layers.0.fwd.hook_i"], cache["layers.0.fwd.hook_g"]
    c_prev = torch.cat([torch.zeros_like(c[:, :1]), c[:, :-1]], dim=1)
    torch.testing.assert_close(c[m], (c_prev + i * g)[m], atol=1e-6, rtol=0)


def test_zeroing_a_hidden_unit_flows_through_the_recurrence():
    model = make_model("gru", head="every")
    x, lengths = make_batch(token=False)
    unit = 2
    clean_logits, clean = model.run_with_cache(x, lengths)

    def zero_unit(h, _hook):
        h = h.clone()
        h[:, unit] = 0
        return h

    with model.hooks([("layers.0.fwd.hook_h", zero_unit)]):
        _, cache = model.run_with_cache(x, lengths)
    assert cache["layers.0.fwd.hook_h"][..., unit].abs().max().item() == 0

    # Zero it at step 0 only: steps 0 and 1 see a different state, so their outputs change.
    def zero_at_step0(h, hook):
        return zero_unit(h, hook) if hook.step == 0 else None

    hooked = model.run_with_hooks(x, lengths, fwd_hooks=[("layers.0.fwd.hook_h", zero_at_step0)])
    row = 0  # the full-length sequence
    assert (hooked[row, 1] - clean_logits[row, 1]).abs().max().item() > 1e-4
    with model.hooks([("layers.0.fwd.hook_h", zero_at_step0)]):
        _, later = model.run_with_cache(x, lengths)
    other = [u for u in range(clean["layers.0.fwd.hook_h"].shape[-1]) if u != unit]
    step1_change = (later["layers.0.fwd.hook_h"][row, 1, other] - clean["layers.0.fwd.hook_h"][row, 1, other]).abs()
    assert step1_change.max().item() > 1e-4


def test_a_hook_that_raises_leaves_no_hooks_attached():
    model = make_model("lstm", layers=2, bidirectional=True)
    x, lengths = make_batch(token=False)
    before = model.run_with_hooks(x, lengths)

    def boom(_t, hook):
        raise RuntimeError(f"boom at step {hook.step}")

    with pytest.raises(RuntimeError, match="boom at step"):
        model.run_with_hooks(x, lengths, fwd_hooks=[(F0, _ones), ("layers.1.bwd.hook_o", boom)])
    assert all(hp.hooks == [] for hp in model.hook_points.values())
    torch.testing.assert_close(model.run_with_hooks(x, lengths), before, atol=0, rtol=0)
    torch.testing.assert_close(model.run_with_cache(x, lengths)[0], before, atol=1e-5, rtol=0)  # the fast path


def test_unknown_hook_name_is_a_helpful_key_error_and_attaches_nothing():
    model = make_model("gru")
    x, lengths = make_batch(token=False)
    with pytest.raises(KeyError, match=r"hook_f.*activation_names"):
        model.run_with_hooks(x, lengths, fwd_hooks=[("layers.0.fwd.hook_h", _ones), ("layers.0.fwd.hook_f", _ones)])
    assert all(hp.hooks == [] for hp in model.hook_points.values())


def test_a_hook_returning_the_wrong_shape_is_a_value_error():
    model = make_model("lstm")
    x, lengths = make_batch(token=False)
    with pytest.raises(ValueError, match="returned shape"):
        model.run_with_hooks(x, lengths, fwd_hooks=[(F0, lambda t, _h: t[:, :1])])
    assert all(hp.hooks == [] for hp in model.hook_points.values())


# ------------------------------------------------------------------------------------------ gradients
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("padded", [False, True], ids=["full", "padded"])
def test_incl_grad_adds_a_grad_of_the_same_shape_for_every_name(cell, padded):
    model = make_model(cell, layers=2, bidirectional=True)
    x, lengths = make_batch(token=False, lengths=LENGTHS if padded else (7, 7, 7, 7))
    _, cache = model.run_with_cache(x, lengths, incl_grad=True)
    names = model.activation_names()
    assert set(cache) == set(names) | {f"{n}_grad" for n in names}
    for n in names:
        assert cache[f"{n}_grad"].shape == cache[n].shape, n
    # Every state on the path to the head has a non-zero gradient (hook_logits is not on it for head="last").
    for n in names[:-1]:
        assert cache[f"{n}_grad"].abs().max().item() > 0, f"{n}_grad is all zero"


@pytest.mark.parametrize("token", [False, True], ids=["feat", "tok"])
@pytest.mark.parametrize("padded", [False, True], ids=["full", "padded"])
def test_input_grad_matches_autograd_through_the_fused_path(token, padded):
    """d(sum of each row's top logit)/d input, from the replay cache and from the fused nn.LSTM."""
    model = make_model("lstm", layers=2, bidirectional=True, token=token)
    x, lengths = make_batch(token, lengths=LENGTHS if padded else (7, 7, 7, 7))
    name = "hook_embed" if token else "hook_input"
    _, cache = model.run_with_cache(x, lengths, incl_grad=True)

    inp = (model.embed(x) if token else x.float()).detach().requires_grad_(True)  # [batch, seq, in]
    # Feed the fused path the same input tensor by temporarily routing _inputs to it.
    original = model._inputs
    model._inputs = lambda _x: inp
    try:
        logits = model(x, lengths)
    finally:
        model._inputs = original
    (expected,) = torch.autograd.grad(logits.max(dim=-1).values.sum(), inp)
    torch.testing.assert_close(cache[f"{name}_grad"], expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("padded", [False, True], ids=["full", "padded"])
def test_gate_grad_matches_a_finite_difference(padded):
    """Nudge one forget-gate value by ±eps through a hook; the change in the target matches the cached grad."""
    model = make_model("lstm", layers=2, output_size=1)
    x, lengths = make_batch(token=False, lengths=(5, 3) if padded else (5, 5))
    _, cache = model.run_with_cache(x, lengths, incl_grad=True, grad_target=lambda y: y.sum())
    grad = cache[f"{F0}_grad"]  # [batch, seq, hidden]
    eps = 1e-2
    checked = 0
    for b, t, u in [(0, 0, 1), (0, 3, 4), (1, 1, 0), (1, 2, 5)]:

        def nudge(delta, b=b, t=t, u=u):
            def fn(f, hook):
                if hook.step != t:
                    return None
                f = f.clone()
                f[b, u] += delta
                return f

            return model.run_with_hooks(x, lengths, fwd_hooks=[(F0, fn)]).sum().item()

        numeric = (nudge(eps) - nudge(-eps)) / (2 * eps)
        assert abs(numeric - grad[b, t, u].item()) < 2e-3, (b, t, u, numeric, grad[b, t, u].item())
        checked += abs(numeric) > 1e-3
    assert checked >= 2  # the check compared real, non-zero derivatives


def test_incl_grad_under_a_hook_that_replaces_a_gate_by_a_constant():
    model = make_model("lstm")
    x, lengths = make_batch(token=False)
    with model.hooks([(F0, _ones)]):
        _, cache = model.run_with_cache(x, lengths, incl_grad=True)
    assert cache[f"{F0}_grad"].abs().max().item() == 0  # a constant does not depend on anything upstream
    assert cache["layers.0.fwd.hook_c_grad"].abs().max().item() > 0


# ------------------------------------------------------------------------------------- hook contexts
def test_leaving_an_inner_hooks_block_keeps_the_outer_blocks_hooks():
    model = make_model("lstm", layers=2)
    x, lengths = make_batch(token=False)
    plain = model.run_with_hooks(x, lengths)
    with model.hooks([(F0, _ones)]):
        outer_only = model.run_with_cache(x, lengths)[0]
        with model.hooks([("layers.1.fwd.hook_o", _ones), (F0, _ones)]):  # the same fn twice on F0 as well
            both = model.run_with_cache(x, lengths)[0]
            assert len(model.hook_points[F0].hooks) == 2
        assert model.hook_points[F0].hooks == [_ones] and model.hook_points["layers.1.fwd.hook_o"].hooks == []
        torch.testing.assert_close(model.run_with_cache(x, lengths)[0], outer_only, atol=0, rtol=0)
        # run_with_hooks is a block of its own inside this one: it adds to the outer hooks and leaves them.
        torch.testing.assert_close(model.run_with_hooks(x, lengths, [("layers.1.fwd.hook_o", _ones)]), both,
                                   atol=0, rtol=0)
        assert model.hook_points[F0].hooks == [_ones]
    assert all(hp.hooks == [] for hp in model.hook_points.values())
    assert (outer_only - plain).abs().max().item() > 1e-3 and (both - outer_only).abs().max().item() > 1e-3
    torch.testing.assert_close(model.run_with_hooks(x, lengths), plain, atol=0, rtol=0)


def test_an_inner_block_that_fails_to_attach_leaves_the_outer_hooks():
    model = make_model("gru")
    _x, _lengths = make_batch(token=False)
    with model.hooks([("layers.0.fwd.hook_z", _ones)]):
        with pytest.raises(KeyError, match="hook_f"), \
                model.hooks([("layers.0.fwd.hook_z", _ones), ("layers.0.fwd.hook_f", _ones)]):
            pass
        assert model.hook_points["layers.0.fwd.hook_z"].hooks == [_ones]


def test_fwd_hooks_take_a_predicate_like_names_filter():
    model = make_model("lstm", layers=2, bidirectional=True)
    x, lengths = make_batch(token=False)
    seen: set[str] = set()

    def record(t, hook):
        seen.add(hook.name)

    forget = [n for n in model.activation_names() if n.endswith(".hook_f")]
    assert len(forget) == 4
    by_name = model.run_with_hooks(x, lengths, fwd_hooks=[(n, _ones) for n in forget])
    by_predicate = model.run_with_hooks(
        x, lengths, fwd_hooks=[(lambda n: n.endswith(".hook_f"), _ones), (lambda n: "bwd" in n, record)]
    )
    torch.testing.assert_close(by_predicate, by_name, atol=0, rtol=0)
    assert seen == {n for n in model.activation_names() if ".bwd." in n}
    with pytest.raises(KeyError, match="matches no hook point"):
        model.run_with_hooks(x, lengths, fwd_hooks=[(lambda n: n.endswith("hook_z"), _ones)])
    assert all(hp.hooks == [] for hp in model.hook_points.values())
