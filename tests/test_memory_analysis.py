"""Memory diagnostics against autograd computed by hand: gradient flow d loss / d h_t, connectivity d output /
d input_t, gate statistics and spectral radii, and interventions that change exactly what they should."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional

from rnn_core import ModelConfig, build_model
from rnn_core.analysis.connectivity import connectivity
from rnn_core.analysis.gate_stats import gate_saturation, memory_gate_over_time, recurrent_radii, saturation
from rnn_core.analysis.gradient_flow import gradient_flow
from rnn_core.analysis.interventions import Intervention, compare, hooks_for


def _model(cell: str, hidden: int = 4, seed: int = 0, **kw):
    cfg = ModelConfig(cell=cell, input_size=3, hidden_size=hidden, output_size=2, head="last", **kw)
    return build_model(cfg, seed=seed).eval()


def _by_hand(model, x):
    """The cell equations written out over the model's own weights, each h_t kept as a node whose gradient
    autograd fills in (torch's gate order: LSTM i, f, g, o; GRU r, z, n)."""
    w_ih, w_hh, b_ih, b_hh = (getattr(model.rnn, f"{k}_l0") for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    cell, hid = model.cfg.cell, model.cfg.hidden_size
    h, c, hs = torch.zeros(x.shape[0], hid), torch.zeros(x.shape[0], hid), []
    for t in range(x.shape[1]):
        xi, hh = x[:, t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        if cell == "rnn":
            h = torch.tanh(xi + hh)
        elif cell == "lstm":
            i, f, g, o = (xi + hh).split(hid, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            (xr, xz, xn), (hr, hz, hn) = xi.split(hid, dim=1), hh.split(hid, dim=1)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            h = (1 - z) * torch.tanh(xn + r * hn) + z * h
        h.retain_grad()
        hs.append(h)
    return hs


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_gradient_flow_matches_autograd_by_hand(cell):
    torch.manual_seed(1)
    model = _model(cell)
    x, y = torch.randn(3, 6, 3), torch.tensor([0, 1, 1])
    flow = gradient_flow(model, "classify", x, y)
    hs = _by_hand(model, x)
    functional.cross_entropy(model.head(hs[-1]), y, reduction="sum").backward()  # each example's own loss
    for t, h in enumerate(hs):
        torch.testing.assert_close(flow.grads[:, t], h.grad, atol=1e-6, rtol=1e-5)
    assert flow.norms().shape == (3, 6)
    torch.testing.assert_close(flow.mean_norm(), flow.grads.norm(dim=-1).mean(0))
    m = flow.mean_norm()
    assert flow.span() == pytest.approx(float(torch.log10(m[-1] / m[0])), rel=1e-5)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_connectivity_matches_autograd_by_hand(cell):
    torch.manual_seed(3)
    model = _model(cell)
    x = torch.randn(2, 7, 3)
    conn = connectivity(model, x, step=4)
    xl = x.clone().requires_grad_()
    out = model.head(model.rnn(xl)[0][:, 4])  # the head's output at step 4
    out.max(dim=-1).values.sum().backward()
    torch.testing.assert_close(conn.grads, xl.grad, atol=1e-6, rtol=1e-5)
    assert conn.norms()[:, 5:].abs().max() == 0  # a forward network cannot see the future
    assert conn.norms()[:, :5].min() > 0
    torch.testing.assert_close(conn.shares().sum(1), torch.ones(2))
    with pytest.raises(ValueError, match="step must be"):
        connectivity(model, x, step=7)


def test_connectivity_of_a_chosen_class_and_bidirectional():
    model = _model("gru", bidirectional=True)
    x = torch.randn(1, 5, 3)
    conn = connectivity(model, x, step=1, target=0)
    xl = x.clone().requires_grad_()
    model.head(model.rnn(xl)[0][:, 1])[:, 0].sum().backward()
    torch.testing.assert_close(conn.grads, xl.grad, atol=1e-6, rtol=1e-5)
    assert conn.norms()[0, 4] > 0  # the backward direction carries the future to step 1


def test_saturation_counts_real_steps_only():
    v = torch.tensor([[[0.05, 0.5], [0.95, 0.95], [0.05, 0.05]]])  # [1, 3, 2]
    s = saturation(v, torch.tensor([2]))
    assert s.shut.tolist() == [0.5, 0.0] and s.open.tolist() == [0.5, 0.5]
    torch.testing.assert_close(s.saturated, torch.tensor([1.0, 0.5]))


def test_gate_stats_from_a_cache_and_radii():
    model = _model("lstm")
    _, cache = model.run_with_cache(torch.randn(2, 5, 3))
    sat = gate_saturation(cache, "lstm")
    assert set(sat) == {"i", "f", "o"} and sat["f"].shut.shape == (4,)
    f = memory_gate_over_time(cache, "lstm")
    torch.testing.assert_close(f, cache["layers.0.fwd.hook_f"].mean(dim=(0, 2)))
    assert memory_gate_over_time(cache, "rnn") is None
    radii = recurrent_radii(model.rnn, "lstm")
    w_f = model.rnn.weight_hh_l0[4:8].detach().double()
    assert radii["layers.0.fwd"]["f"] == pytest.approx(float(torch.linalg.eigvals(w_f).abs().max()))
    rnn = _model("rnn")
    rnn.rnn.weight_hh_l0.data = torch.diag(torch.tensor([0.5, -2.0, 0.1, 1.0]))
    assert recurrent_radii(rnn.rnn, "rnn") == {"layers.0.fwd": {"h": pytest.approx(2.0)}}


def test_forget_one_input_zero_keeps_c_constant():
    torch.manual_seed(4)
    model = _model("lstm")
    x = torch.randn(2, 8, 3)
    cmp = compare(model, x, [Intervention("clamp", step=3, gate="f", value=1.0),
                             Intervention("clamp", step=3, gate="i", value=0.0)])
    c = cmp.changed["layers.0.fwd.hook_c"]  # [2, 8, 4]
    assert c[:, 2].abs().min() > 1e-4  # a real state to hold
    for t in range(3, 8):
        torch.testing.assert_close(c[:, t], c[:, 2], atol=0, rtol=0)
    torch.testing.assert_close(c[:, :3], cmp.base["layers.0.fwd.hook_c"][:, :3])  # nothing before step 3
    assert cmp.diff("layers.0.fwd.hook_c")[:, 3:].abs().max() > 1e-3  # and it did change the run after


def test_zeroing_a_unit_zeroes_it_at_every_later_step_and_moves_the_rest():
    torch.manual_seed(5)
    model = _model("gru")
    x = torch.randn(2, 6, 3)
    cmp = compare(model, x, [Intervention("zero_unit", step=2, unit=1)])
    h, h0 = cmp.changed["layers.0.fwd.hook_h"], cmp.base["layers.0.fwd.hook_h"]
    assert h[:, 2:, 1].abs().max() == 0
    torch.testing.assert_close(h[:, :2], h0[:, :2])
    assert (h[:, 3:, [0, 2, 3]] - h0[:, 3:, [0, 2, 3]]).abs().max() > 1e-4  # the zero flowed on
    assert not torch.equal(cmp.logits, cmp.base_logits)


def test_reset_restarts_from_a_blank_state():
    torch.manual_seed(6)
    model = _model("lstm")
    x = torch.randn(1, 7, 3)
    cmp = compare(model, x, [Intervention("reset", step=3)])
    _, fresh = model.run_with_cache(x[:, 4:])  # the steps after the reset, read from a zero state
    torch.testing.assert_close(cmp.changed["layers.0.fwd.hook_h"][:, 4:], fresh["layers.0.fwd.hook_h"])
    torch.testing.assert_close(cmp.logits, model(x[:, 4:]), atol=1e-6, rtol=1e-5)


def test_impossible_interventions_say_what_to_change():
    model = _model("gru")
    with pytest.raises(ValueError, match="no quantity 'f'"):
        hooks_for(model, [Intervention("clamp", gate="f")])
    with pytest.raises(ValueError, match="unit must be from 0 to 3"):
        hooks_for(model, [Intervention("zero_unit", unit=9)])
    with pytest.raises(ValueError, match="kind must be"):
        hooks_for(model, [Intervention("explode")])


def test_hidden_for_budget_matches_parameter_counts():
    from app.memory.compare import SIZING, sized
    from rnn_core.summary import hidden_for_budget, param_count

    base = ModelConfig(cell="lstm", input_size=8, hidden_size=32, output_size=4)
    budget = param_count(base)
    for cell in ("rnn", "gru", "lstm"):
        cfg = base.replace(cell=cell)
        h = hidden_for_budget(cfg, budget)
        gap = abs(param_count(cfg.replace(hidden_size=h)) - budget)
        assert gap <= abs(param_count(cfg.replace(hidden_size=h + 1)) - budget)
        assert gap <= abs(param_count(cfg.replace(hidden_size=h - 1)) - budget)
    assert hidden_for_budget(base, budget) == 32
    same = sized(base, ["rnn", "lstm", "gru"], SIZING[0], 16)
    assert {c: m.hidden_size for c, m in same.items()} == {"rnn": 16, "lstm": 16, "gru": 16}
    budgeted = sized(base, ["rnn", "lstm", "gru"], SIZING[1], 32)
    assert budgeted["lstm"].hidden_size == 32 and budgeted["rnn"].hidden_size > budgeted["gru"].hidden_size > 32
