"""The Inside figures: one static heatmap per quantity holding the replay's exact values in the chosen unit
order, directions side by side over the same steps, one light frame per step, equations whose numbers add
up, colour scales by kind, deterministic unit orders, and a 500 × 128 LSTM view under 2 MB."""

from __future__ import annotations

import json
import re

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from app.inside.data import (
    FIGURE_BUDGET,
    QUANTITIES,
    direction_views,
    equation_html,
    max_window,
    step_prediction,
    unit_order,
    window_bounds,
)
from app.inside.figure import DIVERGING, SEQUENTIAL, fig_unrolled
from rnn_core.config import ModelConfig
from rnn_core.model import build_model

MB = 2_000_000


def replay(cell="lstm", seq=12, units=8, bidirectional=False, seed=0):
    model = build_model(ModelConfig(cell=cell, input_size=5, hidden_size=units, bidirectional=bidirectional,
                                    output_size=5, head="last"), seed=seed)
    g = torch.Generator().manual_seed(seed)
    x = torch.nn.functional.one_hot(torch.randint(0, 5, (1, seq), generator=g), 5).float()  # [1, seq, 5]
    _, cache = model.run_with_cache(x)
    views = direction_views(cache, 0, model.directions(), cell)
    steps = ["abcde"[k] for k in x[0].argmax(-1).tolist()]
    pred = step_prediction("classify", cache["hook_logits"][0].numpy(), list("abcde"), target=2)
    return views, steps, x[0].numpy(), pred


def heatmaps(fig, direction):
    found = [t for t in fig.data if isinstance(t, go.Heatmap) and (t.name or "").startswith(direction)]
    return {t.name.split()[1]: t for t in found}


def numbers(text: str) -> list[float]:
    plain = re.sub(r"<[^>]+>", "", text).replace("−", "-")
    return [float(v) for v in re.findall(r"-?\d+\.\d+", plain)]


# ------------------------------------------------------------------------------------------- figure
def test_one_heatmap_per_quantity_with_exact_values_in_unit_order():
    views, steps, x, pred = replay("lstm", seq=12, units=8)
    order = np.array([3, 1, 0, 2, 7, 6, 5, 4])
    fig = fig_unrolled(views, steps, "lstm", order=order, unit=2, inputs=x, prediction=pred)
    maps = heatmaps(fig, "fwd")
    assert list(maps) == list(QUANTITIES["lstm"])  # h, c, i, f, g, o
    for q, trace in maps.items():
        z = np.asarray(trace.z)
        assert z.shape == (8, 12)  # [units, seq]
        assert z.dtype == np.float32
        np.testing.assert_array_equal(z, views["fwd"][q][:, order].T)  # row k is unit order[k], exact
        assert list(trace.y) == [f"u{k}" for k in order]
        assert "%{z:.4f}" in trace.hovertemplate  # exact values on hover
    assert len(fig.frames) == 12
    # Frames carry only the cursor and the step's text: no trace data, one shape per column.
    for t, frame in enumerate(fig.frames):
        assert frame.data == () and frame.name == str(t)
        assert frame.layout.shapes[0].x0 == t - 0.5 and frame.layout.shapes[0].x1 == t + 0.5
    steps_ = fig.layout.sliders[0].steps
    assert len(steps_) == 12 and list(steps_[5].args[0]) == ["5"]
    text = fig.frames[5].layout.annotations[0].text  # each frame rewrites the step's text above the heatmaps
    assert "step 5" in text and "u2" in text
    assert fig.layout.annotations[0].text == fig.frames[0].layout.annotations[0].text  # drawn first: step 0's
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["▶ Play", "❚❚ Pause"]


def test_colour_scales_follow_the_quantity():
    views, steps, _x, pred = replay("lstm", seq=6, units=4)
    maps = heatmaps(fig_unrolled(views, steps, "lstm", prediction=pred), "fwd")
    for q in ("i", "f", "o"):
        assert (maps[q].zmin, maps[q].zmax) == (0, 1) and maps[q].zmid is None
        assert maps[q].colorscale == go.Heatmap(colorscale=SEQUENTIAL).colorscale
    for q in ("h", "g"):
        assert (maps[q].zmin, maps[q].zmax, maps[q].zmid) == (-1, 1, 0)
        assert maps[q].colorscale == go.Heatmap(colorscale=DIVERGING).colorscale
    c_max = float(np.abs(views["fwd"]["c"]).max())
    assert maps["c"].zmid == 0 and maps["c"].zmax == -maps["c"].zmin >= max(1.0, c_max)


def test_bidirectional_columns_share_the_inputs():
    views, steps, x, pred = replay("gru", seq=7, units=5, bidirectional=True)
    fig = fig_unrolled(views, steps, "gru", inputs=x, prediction=pred)
    fwd, bwd = heatmaps(fig, "fwd"), heatmaps(fig, "bwd")
    assert list(fwd) == list(bwd) == ["h", "r", "z", "n"]
    for q in fwd:
        assert list(fwd[q].x) == list(bwd[q].x) == list(range(7))
        np.testing.assert_array_equal(np.asarray(bwd[q].z), views["bwd"][q].T)
        assert fwd[q].xaxis != bwd[q].xaxis  # side by side, one column each
    # the input row appears under both columns
    inputs = [t for t in fig.data if isinstance(t, go.Heatmap) and t.hovertemplate.endswith("<extra>input</extra>")]
    assert len(inputs) == 2
    assert len(fig.layout.shapes) == 2 and len(fig.frames[3].layout.shapes) == 2  # a cursor in each column
    assert "fwd" in fig.frames[3].layout.annotations[0].text and "bwd" in fig.frames[3].layout.annotations[0].text


def test_window_and_quantity_choice():
    views, steps, x, pred = replay("rnn", seq=30, units=4)
    fig = fig_unrolled(views, steps, "rnn", quantities=("h",), window=(10, 20), inputs=x, prediction=pred)
    maps = heatmaps(fig, "fwd")
    assert list(maps) == ["h"] and np.asarray(maps["h"].z).shape == (4, 10)
    assert list(maps["h"].x) == list(range(10, 20))
    assert [f.name for f in fig.frames] == [str(t) for t in range(10, 20)]
    with pytest.raises(ValueError, match="at least one"):
        fig_unrolled(views, steps, "rnn", quantities=("c",))
    with pytest.raises(ValueError, match="step labels"):
        fig_unrolled(views, steps[:-1], "rnn")


def test_single_step_shows_its_equations_without_a_slider():
    views, steps, x, pred = replay("rnn", seq=1, units=3)
    fig = fig_unrolled(views, steps, "rnn", inputs=x, prediction=pred)
    assert not fig.layout.sliders and len(fig.frames) == 1
    assert any("tanh(pre)" in (a.text or "") for a in fig.layout.annotations)


def test_regression_output_row_draws_prediction_and_target():
    views, steps, x, _ = replay("lstm", seq=9, units=4)
    pred = step_prediction("regress", np.linspace(0, 1, 9)[:, None], ["output"], np.cos(np.arange(9))[:, None])
    fig = fig_unrolled(views, steps, "lstm", inputs=x[:, :1], prediction=pred)
    lines = {t.name: t for t in fig.data if isinstance(t, go.Scatter) and t.name}
    np.testing.assert_allclose(lines["predicted output"].y, np.linspace(0, 1, 9))
    np.testing.assert_allclose(lines["target output"].y, np.cos(np.arange(9)))


# ----------------------------------------------------------------------------------------- equations
@pytest.mark.parametrize("direction", ["fwd", "bwd"])
def test_lstm_equation_numbers_add_up(direction):
    views, *_ = replay("lstm", seq=6, units=4, bidirectional=True, seed=3)
    acts = views[direction]
    for t in range(6):
        text = equation_html("lstm", acts, t, unit=2, direction=direction)
        i, f, g, o, _f, c_prev, _i, _g, c, _o, _c_again, h = numbers(text)
        prev = t - 1 if direction == "fwd" else t + 1
        expected_prev = float(acts["c"][prev, 2]) if 0 <= prev < 6 else 0.0
        assert c_prev == pytest.approx(expected_prev, abs=1e-3)
        assert c == pytest.approx(f * c_prev + i * g, abs=3e-3)  # c_t = f·c_{t−1} + i·g with the shown numbers
        assert h == pytest.approx(o * np.tanh(c), abs=3e-3)
        assert c == pytest.approx(float(acts["c"][t, 2]), abs=1e-3)


def test_gru_and_rnn_equation_numbers_add_up():
    views, *_ = replay("gru", seq=5, units=3, seed=1)
    for t in range(5):
        _r, z, n, one_minus_z, _n, _z, h_prev, h = numbers(equation_html("gru", views["fwd"], t, unit=1))
        assert one_minus_z == pytest.approx(1 - z, abs=1e-3)
        assert h == pytest.approx((1 - z) * n + z * h_prev, abs=3e-3)
    views, *_ = replay("rnn", seq=5, units=3, seed=1)
    for t in range(5):
        pre, _h_prev, _pre, h = numbers(equation_html("rnn", views["fwd"], t, unit=0))
        assert h == pytest.approx(np.tanh(pre), abs=2e-3)


# ------------------------------------------------------------------------------------ orders, windows
def test_unit_orders_are_deterministic_permutations():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 3))
    values = np.concatenate([base, base + 1e-3 * rng.normal(size=(40, 3))], axis=1)  # units k and k+3 alike
    for method in ("index", "cluster", "peak", "pc"):
        order = unit_order(values, method)
        assert sorted(order.tolist()) == list(range(6))
        assert np.array_equal(order, unit_order(values.copy(), method))
    cluster = unit_order(values, "cluster").tolist()
    for k in range(3):
        assert abs(cluster.index(k) - cluster.index(k + 3)) == 1  # twins end up next to each other
    peaks = np.abs(values).argmax(axis=0)
    assert list(peaks[unit_order(values, "peak")]) == sorted(peaks)
    with pytest.raises(ValueError, match="order must be"):
        unit_order(values, "random")


def test_window_bounds_and_budget():
    assert window_bounds(500, 100, 450) == (400, 500)
    assert window_bounds(50, 100, 10) == (0, 50)
    assert window_bounds(500, 100, -5) == (0, 100)
    assert max_window(3, 2, 1) > 2000  # tiny models show 2000 steps at once (typed letters stop at 1000)
    assert max_window(128, 6, 2) < max_window(128, 6, 1) < max_window(128, 2, 1)


def test_step_prediction_probabilities_and_targets():
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    p = step_prediction("classify", logits, ["a", "b", "c"], target=1)
    np.testing.assert_allclose(p.values.sum(axis=1), 1.0)
    assert p.values[0].argmax() == 0 and p.target.tolist() == [1, 1]
    tags = step_prediction("tag", logits, ["a", "b", "c"], target=np.array([2, -100]))
    assert tags.target.tolist() == [2, -1]


# ---------------------------------------------------------------------------------------------- size
def test_500_steps_by_128_units_lstm_view_stays_under_2_mb(record_figure):
    views, steps, x, pred = replay("lstm", seq=500, units=128)
    length = max_window(128, 6, 1)
    fig = fig_unrolled(views, steps, "lstm", unit=5, window=window_bounds(500, length, 0), inputs=x, prediction=pred)
    size = len(fig.to_json())
    record_figure("inside_figure_bytes_500x128_lstm_page_window", size)
    assert size < MB and size < FIGURE_BUDGET * 1.05  # the estimate holds
    assert len(fig.frames) == length
    frame_bytes = sum(len(json.dumps(f.to_plotly_json())) - len(json.dumps(f.layout.annotations[0].text))
                      for f in fig.frames)
    assert frame_bytes < 150 * length  # a frame is the cursor and the step's text only, not a heatmap
    # h and c over all 500 steps fit without any window
    states = fig_unrolled(views, steps, "lstm", quantities=("h", "c"), unit=5, inputs=x, prediction=pred)
    assert max_window(128, 2, 1) >= 500
    size_states = len(states.to_json())
    record_figure("inside_figure_bytes_500x128_lstm_h_c_full", size_states)
    assert size_states < MB and len(states.frames) == 500


def _tree_walk_order(values: np.ndarray) -> list[int]:
    """The previous hand-written ordering: scikit-learn's average-linkage tree, leaves left to right."""
    from sklearn.cluster import AgglomerativeClustering

    units = values.shape[1]
    tree = AgglomerativeClustering(n_clusters=None, distance_threshold=0.0, linkage="average", compute_full_tree=True)
    children = tree.fit(values.T).children_  # [units-1, 2]; node units+k merges children[k]
    order, stack = [], [units + len(children) - 1]
    while stack:
        node = stack.pop()
        if node < units:
            order.append(int(node))
        else:
            left, right = children[node - units]
            stack += [int(right), int(left)]
    return order


def test_cluster_order_is_the_average_linkage_tree_order():
    rng = np.random.default_rng(1)
    for trial in range(30):
        v = rng.normal(size=(int(rng.integers(2, 40)), int(rng.integers(3, 30))))  # [seq, units]
        v = np.tanh(np.cumsum(v, axis=0)) if trial % 2 else v
        assert unit_order(v, "cluster").tolist() == _tree_walk_order(v)


def test_quantities_are_rnn_cores_activations_with_the_states_first():
    from rnn_core.cells import CELL_ACTIVATIONS

    for cell, acts in CELL_ACTIVATIONS.items():
        assert sorted(QUANTITIES[cell]) == sorted(acts) and QUANTITIES[cell][0] == "h"
    assert QUANTITIES["lstm"] == ("h", "c", "i", "f", "g", "o")


def test_a_shared_figure_is_built_once_and_sent_as_plotlys_own_json():
    """Inside's shared figures (app.inside.shared): what the light chart sends is plotly's JSON of the figure, frames
    included; one key builds once, and its id differs from another view's."""
    import plotly.io as pio

    from app.inside import shared

    views, steps, inputs, pred = replay(seq=20)
    fig = fig_unrolled(views, steps, "lstm", unit=1, inputs=inputs, prediction=pred)
    assert len(fig.frames) == 20
    builds: list[int] = []

    def make():
        builds.append(1)
        return fig

    shared._built.clear()
    first = shared.figure(("test-run", 1), make)
    again = shared.figure(("test-run", 1), make)
    other = shared.figure(("test-run", 2), make)
    assert builds == [1, 1] and again is first and other.id != first.id
    assert json.dumps(first.spec, sort_keys=True) == json.dumps(json.loads(pio.to_json(fig, validate=False)),
                                                                sort_keys=True)
    assert len(first.spec["frames"]) == 20 and first.spec["layout"]["height"] == fig.layout.height
