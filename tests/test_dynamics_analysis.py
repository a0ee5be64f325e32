"""State-space analysis on hand-made networks whose answers are known: a near-linear RNN (fixed point and
eigenvalues in closed form), a 2-unit GRU with a line of fixed points, PCA of states on a line, Jacobians against
finite differences, and the cell map against the replay it must reproduce."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnn_core import ModelConfig, build_model
from rnn_core.analysis.analyse import Options, analyse, kick_agreement, word_kicks
from rnn_core.analysis.fixed_points import find_fixed_points
from rnn_core.analysis.linearise import jacobians, linearise, readout_direction, time_constants
from rnn_core.analysis.pca import fit_pca
from rnn_core.analysis.states import collect_states
from rnn_core.analysis.step import cell_map, constant_input, layer_drive
from tests.model_helpers import make_batch, make_model


def _set(model, **params):
    with torch.no_grad():
        for name, value in params.items():
            getattr(model.rnn, name).copy_(torch.as_tensor(value, dtype=torch.float32))
    return model


def _linear_rnn(eps: float):
    """2-unit tanh RNN, W_hh = A (eigenvalues 0.9·e^{±0.3i}), input weight u, no biases. With input value eps the
    state stays within O(eps) of 0 where tanh(v) = v − v³/3, so h* = eps (I − A)⁻¹ u and J = A up to O(eps²)."""
    theta = 0.3
    a = 0.9 * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    u = np.array([[1.0], [0.5]])
    model = build_model(ModelConfig(cell="rnn", input_size=1, hidden_size=2, output_size=1), seed=0).eval()
    _set(model, weight_hh_l0=a, weight_ih_l0=u, bias_ih_l0=np.zeros(2), bias_hh_l0=np.zeros(2))
    return model, a, u[:, 0], theta


def test_linear_rnn_fixed_point_and_eigenvalues_match_closed_form():
    eps = 1e-3
    model, a, u, theta = _linear_rnn(eps)
    cmap = cell_map(model)
    xi = layer_drive(model, cmap, constant_input(model, "value", eps))
    starts = torch.randn(32, 2, generator=torch.Generator().manual_seed(0)) * 0.01  # [32, 2]
    fp = find_fixed_points(cmap, xi, starts, steps=300, rel_tol=1e-4)
    want = eps * np.linalg.solve(np.eye(2) - a, u)
    assert len(fp) == 1 and fp.counts[0] == 32  # every start lands on the one fixed point
    np.testing.assert_allclose(fp.points[0], want, rtol=1e-3, atol=1e-8)
    lam = linearise(jacobians(cmap, fp.points, xi)[0]).eigenvalues
    np.testing.assert_allclose(np.sort_complex(lam), np.sort_complex(0.9 * np.exp([-1j * theta, 1j * theta])),
                               atol=1e-5)
    np.testing.assert_allclose(time_constants(lam), [-1 / np.log(0.9)] * 2, rtol=1e-4)


def _line_gru():
    """2-unit GRU: unit 1's update gate is shut open (z = 1: it keeps its value), unit 2's is closed (z = 0) with
    n = 0, so it falls to 0. Fixed points: the whole line h2 = 0; there J = diag(1, 0)."""
    model = build_model(ModelConfig(cell="gru", input_size=1, hidden_size=2, output_size=2), seed=0).eval()
    b_hh = np.zeros(6)
    b_hh[2:4] = [40.0, -40.0]  # z pre-activations for units 1 and 2
    _set(model, weight_hh_l0=np.zeros((6, 2)), weight_ih_l0=np.zeros((6, 1)), bias_ih_l0=np.zeros(6),
         bias_hh_l0=b_hh)
    return model


@pytest.mark.slow
def test_gru_line_of_fixed_points_and_unit_eigenvalue():
    model = _line_gru()
    cmap = cell_map(model)
    xi = layer_drive(model, cmap, constant_input(model, "zero"))
    starts = torch.rand(200, 2, generator=torch.Generator().manual_seed(0)) * 2 - 1  # [200, 2] in [-1, 1]²
    fp = find_fixed_points(cmap, xi, starts, steps=300, rel_tol=1e-8)  # an exact line: demand near-exact points
    assert len(fp) > 100  # distinct points all along the line, not one point
    np.testing.assert_allclose(fp.points[:, 1], 0.0, atol=1e-3)
    assert fp.points[:, 0].min() < -0.8 and fp.points[:, 0].max() > 0.8
    assert fit_pca(fp.points).explained[0] > 0.999  # the points lie on a line
    lam = linearise(jacobians(cmap, fp.points[:5], xi)).eigenvalues  # [5, 2]
    np.testing.assert_allclose(np.abs(lam), [[1.0, 0.0]] * 5, atol=1e-6)
    assert np.isinf(time_constants(lam[0])[0])


def test_pca_of_states_on_a_line_is_one_component():
    # unit 1 of the line GRU integrates its input (z = 1 would freeze it, so open it slightly); unit 2 stays 0
    model = _line_gru()
    b_hh = model.rnn.bias_hh_l0.detach().clone()
    b_hh[2] = 0.0  # z1 = 0.5: h1 moves halfway to n1 = tanh(x) each step
    w_ih = torch.zeros(6, 1)
    w_ih[4, 0] = 1.0  # n1 = tanh(x)
    _set(model, bias_hh_l0=b_hh, weight_ih_l0=w_ih)
    x = torch.randn(20, 15, 1, generator=torch.Generator().manual_seed(0))  # [20, 15, 1]
    states = collect_states(model, x, labels=torch.arange(20) % 2)
    assert states.states.shape == (300, 2) and np.abs(states.states[:, 1]).max() < 1e-6
    assert states.states[:, 0].std() > 0.1
    pca = fit_pca(states.states)
    assert pca.components_for(0.99) == 1 and pca.explained[0] > 0.999999
    # and a cloud that fills the plane needs both
    assert fit_pca(np.random.default_rng(0).normal(size=(500, 2))).components_for(0.9) == 2


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_jacobian_matches_finite_differences(cell):
    model = make_model(cell, seed=3).double()
    cmap = cell_map(model)
    xi = cmap.drive(torch.randn(3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))
    pts = torch.randn(4, cmap.state_size, dtype=torch.float64, generator=torch.Generator().manual_seed(2)) * 0.5
    jac = jacobians(cmap, pts, xi)  # [4, state, state]
    h = 1e-6
    for k in range(len(pts)):
        fd = np.stack([((cmap.single(pts[k] + h * e, xi) - cmap.single(pts[k] - h * e, xi)) / (2 * h)).numpy()
                       for e in torch.eye(cmap.state_size, dtype=torch.float64)], axis=1)  # column j: d F / d s_j
        np.testing.assert_allclose(jac[k], fd, atol=1e-7)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, True)])
def test_cell_map_reproduces_the_replay(cell, layers, bidirectional):
    """Iterating F over a sequence gives the replay's states, so fixed points are the network's own."""
    model = make_model(cell, layers=layers, bidirectional=bidirectional, seed=4)
    x, lengths = make_batch(token=False)
    states = collect_states(model, x, lengths, layer=0, direction="fwd")
    cmap = cell_map(model, 0, "fwd")
    s = torch.zeros(1, cmap.state_size)
    for t in range(int(lengths[0])):
        s = cmap(s, cmap.drive(x[0, t])[None])
        np.testing.assert_allclose(states.trajectory(0)[t], s[0].detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_fused_state_collection_equals_the_replay(cell):
    """Unidirectional RNN / GRU states come from the fused kernel: they must be the replay's, padding excluded."""
    model = make_model(cell, token=True, seed=7)
    x, _ = make_batch(token=True)
    states = collect_states(model, x)
    _, cache = model.run_with_cache(x, names_filter="layers.0.fwd.hook_h")
    lengths = (x != 0).sum(1)
    want = np.concatenate([cache["layers.0.fwd.hook_h"][i, : int(n)].numpy() for i, n in enumerate(lengths)])
    np.testing.assert_allclose(states.states, want, atol=1e-5)
    assert states.step.tolist() == [t for n in lengths.tolist() for t in range(n)]


def test_constant_input_and_layer_errors_are_clear():
    model = make_model("gru", token=True)
    assert torch.equal(constant_input(model, "pad"), model.embed.weight[0].detach())
    with pytest.raises(ValueError, match="reads tokens"):
        constant_input(model, "value", 1.0)
    with pytest.raises(ValueError, match="token id"):
        constant_input(model, "token", 999)
    with pytest.raises(ValueError, match="layer must be"):
        cell_map(model, layer=3)
    with pytest.raises(ValueError, match="direction"):
        collect_states(model, torch.ones(1, 3, dtype=torch.long), direction="bwd")


def test_deeper_layer_drive_is_the_settled_lower_layer_output():
    model = make_model("lstm", layers=2, seed=5)
    inp = torch.randn(3)
    drive = layer_drive(model, cell_map(model, 1), inp)
    x = inp[None, None, :].expand(1, 300, 3)
    _, cache = model.run_with_cache(x, names_filter="layers.0.fwd.hook_h")
    want = cell_map(model, 1).drive(cache["layers.0.fwd.hook_h"][0, -1])
    torch.testing.assert_close(drive, want, atol=1e-5, rtol=1e-5)


@pytest.mark.slow
def test_readout_direction_and_kicks_on_a_token_model():
    model = make_model("gru", token=True, output_size=2, seed=6)
    cmap = cell_map(model)
    w = model.head.weight.detach().numpy()
    np.testing.assert_allclose(readout_direction(model, cmap), w[1] - w[0], rtol=1e-6)
    x, _ = make_batch(token=True)
    dyn = analyse(model, x, options=Options(n_starts=50, steps=150))
    assert dyn.summary()["starts"] == 50 and len(dyn.fixed) > 0
    assert (dyn.slow_right @ dyn.readout >= 0).all()  # signed toward the readout
    kicks = word_kicks(model, dyn)  # [vocab]
    assert kicks.shape == (model.cfg.vocab_size,) and np.isfinite(kicks).all()
    assert kick_agreement(kicks, kicks * 2 + 1)["spearman"] == pytest.approx(1.0)


@pytest.mark.slow
def test_bundled_imdb_model_integrates_along_a_line_of_slow_points():
    """The paper's findings, on our bundled model (a lighter run than the bench: 200 reviews, 300 starts)."""
    from rnn_core.analysis.inputs import example_inputs
    from rnn_core.analysis.word_weights import word_weights
    from rnn_core.runs import load_run

    run = load_run("imdb-gru")
    data = example_inputs(run.task, 200)
    assert sorted(set(data.y.tolist())) == [0, 1] and len(data) == 200
    dyn = analyse(run.model, data.x, data.lengths, data.y, Options(n_starts=300), init_seed=run.train_cfg.seed)
    s = dyn.summary()
    assert s["pcs_90_trained"] <= 3 < s["pcs_90_untrained"]  # low-dimensional after training, not before
    assert s["slow_points"] > 50 and s["line_share"] > 0.9  # slow points along a line
    assert s["leading_distance_from_1_median"] < 0.02  # an integrating mode
    agree = kick_agreement(word_kicks(run.model, dyn), word_weights(run.model.cfg.vocab_size))
    assert agree["words"] > 9000 and agree["spearman"] > 0.5  # words push as the bag-of-words model weighs them
