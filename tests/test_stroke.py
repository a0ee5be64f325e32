"""A drawing → the sine model's input: synthetic strokes (and fabric.js JSON shaped as the canvas returns it)
resample to the right curve, and odd drawings — blank, a dot, a vertical line, right to left, off the canvas,
overlapping strokes — give a message or a sensible curve, never an exception."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from app.playgrounds.stroke import curve_from_canvas, path_points, resample, strokes_from_json

W, H = 600, 240


def wave(x0=20.0, x1=580.0, cycles=2.0, amp=100.0, k=300) -> np.ndarray:
    """A sine drawn across the canvas: [k, 2] canvas points (y down, centred on the middle line)."""
    x = np.linspace(x0, x1, k)
    return np.stack([x, H / 2 - amp * np.sin(2 * np.pi * cycles * (x - x0) / (x1 - x0))], axis=1)


def fabric_path(points: np.ndarray, **extra) -> dict:
    """``points`` as fabric.js's free-drawing brush stores them: M, then Q segments whose control points are
    the sampled points and whose ends are the midpoints between them, then L; positioned by its box centre."""
    cmds = [["M", *points[0]]]
    for p, q in itertools.pairwise(points):
        cmds.append(["Q", *p, *((p + q) / 2)])
    cmds.append(["L", *points[-1]])
    lo, hi = points.min(axis=0), points.max(axis=0)
    obj = {"type": "Path", "originX": "center", "originY": "center", "left": (lo[0] + hi[0]) / 2,
           "top": (lo[1] + hi[1]) / 2, "width": hi[0] - lo[0], "height": hi[1] - lo[1], "scaleX": 1, "scaleY": 1,
           "angle": 0, "flipX": False, "flipY": False, "path": [[c[0], *map(float, c[1:])] for c in cmds]}
    obj.update(extra)
    return obj


def expected_sine(n=60, cycles=2.0) -> np.ndarray:
    return np.sin(2 * np.pi * cycles * np.arange(n) / (n - 1))


def test_a_sine_drawn_left_to_right_becomes_that_sine_at_the_window_length():
    curve = resample([wave()], 60, W, H)
    assert curve.ok and curve.problem is None and curve.notices == []
    assert curve.values.shape == (60,)
    np.testing.assert_allclose(curve.values, expected_sine(), atol=0.02)
    assert curve.values.max() == pytest.approx(1.0) and curve.values.min() == pytest.approx(-1.0)


@pytest.mark.parametrize("n", [12, 60, 200])
def test_any_window_length_spans_the_whole_drawing(n):
    curve = resample([wave()], n, W, H)
    assert curve.values.shape == (n,)
    np.testing.assert_allclose(curve.values, expected_sine(n), atol=0.03)


def test_fabric_path_json_as_the_canvas_returns_it():
    data = {"version": "7.4.0", "objects": [fabric_path(wave(k=40))]}
    strokes, skipped = strokes_from_json(data)
    assert skipped == 0 and len(strokes) == 1
    # Points lie on the drawn line: every sampled x maps back into the drawn range, and the curve matches.
    xs = strokes[0][:, 0]
    assert xs.min() == pytest.approx(20, abs=0.5) and xs.max() == pytest.approx(580, abs=0.5)
    curve = curve_from_canvas(data, 60, W, H)
    np.testing.assert_allclose(curve.values, expected_sine(), atol=0.05)


# Recorded from streamlit-drawable-canvas 0.13 in chromium: a wave drawn right to left on a 600 × 240 canvas.
RECORDED = json.loads("""{"version": "7.4.0", "objects": [{"lockMovementX": false, "lockMovementY": false,
"lockRotation": false, "lockScalingX": false, "lockScalingY": false, "lockSkewingX": false, "lockSkewingY": false,
"lockScalingFlip": false, "type": "Path", "version": "7.4.0", "originX": "center", "originY": "center", "left": 280,
"top": 118.1409, "width": 440.006, "height": 171.1255, "fill": null, "stroke": "#d62728", "strokeWidth": 3,
"strokeDashArray": null, "strokeLineCap": "round", "strokeDashOffset": 0, "strokeLineJoin": "round",
"strokeUniform": false, "strokeMiterLimit": 10, "scaleX": 1, "scaleY": 1, "angle": 0, "flipX": false, "flipY": false,
"opacity": 1, "shadow": null, "visible": true, "backgroundColor": "", "fillRule": "nonzero", "paintFirst": "fill",
"globalCompositeOperation": "source-over", "skewX": 0, "skewY": 0, "path": [["M", 500.003, 119.206125],
["Q", 500, 119.203125, 472.5, 87.703125], ["Q", 445, 56.203125, 417.5, 42.703125], ["Q", 390, 29.203125, 362.5,
42.703125], ["Q", 335, 56.203125, 307.5, 87.703125], ["Q", 280, 119.203125, 252.5, 151.203125], ["Q", 225,
183.203125, 197.5, 196.203125], ["Q", 170, 209.203125, 115, 164.203125], ["L", 59.997, 119.200125]]}],
"background": "#fafafa"}""")


def test_a_stroke_recorded_from_the_canvas_in_a_browser():
    obj = RECORDED["objects"][0]
    pts = strokes_from_json(RECORDED)[0][0]
    # Not moved since it was drawn: the object's position leaves the path's own points where they are.
    np.testing.assert_allclose(pts, path_points(obj["path"]), atol=1.0)
    curve = curve_from_canvas(RECORDED, 60, W, H)
    assert curve.ok and curve.span == pytest.approx((60.0, 500.0), abs=0.01)
    assert any("right to left" in s for s in curve.notices)
    v = curve.values  # read left to right: from the middle down, back up through the middle, up, back
    assert abs(v[0]) < 0.15 and abs(v[-1]) < 0.15
    assert 12 <= v.argmin() <= 18 and 41 <= v.argmax() <= 47 and abs(v[29]) < 0.15


def test_a_path_moved_or_scaled_on_the_canvas_is_read_where_it_is_shown():
    pts = wave(x0=100, x1=300, k=40)
    moved = path_points(fabric_path(pts)["path"])
    shifted = strokes_from_json({"objects": [fabric_path(pts, left=300.0, top=100.0)]})[0][0]
    # The box centre moved from (200, 120) to (300, 100): every point moves by the same amount.
    np.testing.assert_allclose(shifted, moved + np.array([100.0, -20.0]), atol=1e-6)
    doubled = strokes_from_json({"objects": [fabric_path(pts, scaleX=2.0)]})[0][0]
    assert doubled[:, 0].min() == pytest.approx(0, abs=1) and doubled[:, 0].max() == pytest.approx(400, abs=1)


def test_path_commands_relative_and_cubic():
    pts = path_points([["M", 0, 0], ["l", 10, 0], ["C", 10, 10, 20, 10, 20, 0], ["h", 5], ["V", 3], ["Z"]], samples=2)
    np.testing.assert_allclose(pts[0], [0, 0])
    np.testing.assert_allclose(pts[1], [10, 0])
    np.testing.assert_allclose(pts[2], [15, 7.5])  # cubic at t = ½
    np.testing.assert_allclose(pts[3:], [[20, 0], [25, 0], [25, 3], [0, 0]])


@pytest.mark.parametrize("data", [None, {}, {"objects": []}, {"version": "7.4.0", "objects": None}])
def test_a_blank_canvas_asks_for_a_drawing(data):
    curve = curve_from_canvas(data, 60, W, H)
    assert not curve.ok and "blank" in curve.problem


def test_a_single_dot_as_the_canvas_records_a_click():
    # What a click without moving gives in the browser: a path 0.006 px long.
    dot = {"type": "Path", "originX": "center", "originY": "center", "left": 100, "top": 99.2031, "width": 0.006,
           "height": 0, "path": [["M", 99.997, 99.203125], ["L", 100.003, 99.203125]]}
    curve = curve_from_canvas({"objects": [dot]}, 60, W, H)
    assert not curve.ok and "single dot" in curve.problem and "left to right" in curve.problem


def test_a_vertical_line_is_not_a_curve():
    line = np.stack([np.full(50, 300.0) + np.random.default_rng(0).normal(0, 1, 50), np.linspace(20, 220, 50)], 1)
    curve = resample([line], 60, W, H)
    assert not curve.ok and "vertical line" in curve.problem


def test_right_to_left_reads_left_to_right_with_a_notice():
    forward = resample([wave()], 60, W, H)
    backward = resample([wave()[::-1]], 60, W, H)
    np.testing.assert_allclose(backward.values, forward.values)
    assert any("right to left" in s for s in backward.notices)


def test_a_stroke_leaving_the_canvas_is_clipped_at_the_edge():
    pts = wave(x0=20, x1=900, amp=200)  # past the right edge, above the top and below the bottom
    curve = resample([pts], 60, W, H, scale="canvas")
    assert curve.ok and any("left the canvas" in s for s in curve.notices)
    assert curve.points[:, 0].max() == W and curve.points[:, 1].min() == 0 and curve.points[:, 1].max() == H
    assert curve.values.max() == pytest.approx(1.0) and curve.values.min() == pytest.approx(-1.0)
    assert curve.span == (20.0, W)


def test_duplicate_x_overlapping_strokes_average():
    x = np.linspace(50, 550, 200)
    low, high = np.stack([x, np.full_like(x, 100.0)], 1), np.stack([x, np.full_like(x, 160.0)], 1)
    curve = resample([low, high], 30, W, H, scale="canvas")
    np.testing.assert_allclose(curve.values, 1 - 2 * 130 / H)  # both heights averaged
    assert any("2 strokes" in s for s in curve.notices)


def test_repeated_points_at_one_x_average_and_a_step_stays_a_step():
    # A square wave's edge: many points at one x going straight down.
    up = np.stack([np.linspace(0, 300, 100), np.full(100, 40.0)], 1)
    edge = np.stack([np.full(20, 300.0), np.linspace(40, 200, 20)], 1)
    down = np.stack([np.linspace(300, 600, 100), np.full(100, 200.0)], 1)
    curve = resample([np.concatenate([up, edge, down])], 60, W, H)
    assert np.all(curve.values[:29] == pytest.approx(1.0)) and np.all(curve.values[31:] == pytest.approx(-1.0))


def test_gaps_between_strokes_are_bridged_by_straight_lines():
    left = np.stack([np.linspace(0, 200, 50), np.full(50, 40.0)], 1)
    right = np.stack([np.linspace(400, 600, 50), np.full(50, 200.0)], 1)
    curve = resample([right, left], 61, W, H)  # the order of the strokes does not matter
    assert any("bridged" in s for s in curve.notices)
    middle = curve.values[20:41]  # x = 200 … 400: a straight line from +1 down to −1
    np.testing.assert_allclose(middle, np.linspace(1, -1, 21), atol=1e-9)


def test_a_stroke_that_doubles_back_is_noticed():
    x = np.concatenate([np.linspace(0, 400, 100), np.linspace(400, 200, 50), np.linspace(200, 600, 100)])
    curve = resample([np.stack([x, 120 + 50 * np.sin(x / 50)], 1)], 60, W, H)
    assert curve.ok and any("doubles back" in s for s in curve.notices)


def test_scales_fit_and_canvas():
    line = np.stack([np.linspace(0, 600, 50), np.linspace(60, 180, 50)], 1)  # falling from 3/4 to 1/4 height
    np.testing.assert_allclose(resample([line], 5, W, H, "canvas").values, [0.5, 0.25, 0, -0.25, -0.5], atol=1e-9)
    np.testing.assert_allclose(resample([line], 5, W, H, "fit").values, [1, 0.5, 0, -0.5, -1], atol=1e-9)


def test_a_flat_stroke_reads_as_zero():
    curve = resample([np.stack([np.linspace(0, 600, 50), np.full(50, 70.0)], 1)], 60, W, H)
    assert curve.ok and np.all(curve.values == 0) and any("flat" in s for s in curve.notices)


def test_shapes_that_are_not_strokes_are_left_out_and_odd_points_ignored():
    data = {"objects": [{"type": "rect", "left": 10, "top": 10, "width": 50, "height": 50}, "junk",
                        fabric_path(wave(k=40))]}
    curve = curve_from_canvas(data, 60, W, H)
    assert curve.ok and any("2 shapes" in s for s in curve.notices)
    with_nan = np.concatenate([wave(), [[np.nan, 3.0], [np.inf, 1.0]]])
    np.testing.assert_allclose(resample([with_nan], 60, W, H).values, resample([wave()], 60, W, H).values)


def test_lines_and_points_modes():
    line = {"type": "line", "originX": "center", "originY": "center", "left": 300, "top": 120, "width": 400,
            "height": 100, "x1": -200, "y1": 50, "x2": 200, "y2": -50}
    curve = curve_from_canvas({"objects": [line]}, 3, W, H, scale="canvas")
    np.testing.assert_allclose(curve.values, [-5 / 12, 0, 5 / 12], atol=1e-9)  # y 170 → 70
    dots = [{"type": "circle", "originX": "center", "originY": "center", "left": x, "top": y, "radius": 3,
             "width": 6, "height": 6} for x, y in [(100, 60), (500, 180)]]
    curve = curve_from_canvas({"objects": dots}, 3, W, H, scale="canvas")
    np.testing.assert_allclose(curve.values, [0.5, 0, -0.5], atol=1e-9)


@pytest.mark.parametrize("kwargs, match", [({"n": 1}, "steps"), ({"scale": "log"}, "scale"), ({"width": 0}, "size")])
def test_bad_arguments_say_what_to_pass(kwargs, match):
    args = {"n": 60, "width": W, "height": H, "scale": "fit", **kwargs}
    with pytest.raises(ValueError, match=match):
        resample([wave()], **args)
