"""A drawing → a model input: the strokes of a drawing canvas (fabric.js JSON, as streamlit-drawable-canvas
returns it) become one curve y(x), read left to right, evenly resampled to the model's window length and
scaled vertically. Pure numpy: no streamlit, no plotly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SCALES = ("fit", "canvas")  # fit: the stroke's own lowest..highest point → −1..1; canvas: bottom..top edge → −1..1
MIN_SPAN = 0.03  # a drawing narrower than this share of the canvas width is a dot or a vertical line
FLAT = 1e-3  # a stroke whose height is below this share of the canvas height is a flat line
GAP = 0.08  # an empty stretch wider than this share of the drawing's width is reported as bridged
BACKTRACK = 0.1  # leftward travel above this share of the drawing's width counts as doubling back
CURVE_SAMPLES = 6  # points taken along each Bézier segment of a path
_ORIGIN = {"left": 0.0, "top": 0.0, "center": 0.5, "right": 1.0, "bottom": 1.0}


@dataclass
class Curve:
    """What became of a drawing.

    ``values``: [n] the model input (None when the drawing can't be read as a curve — then ``problem``
    says why and what to do). ``notices``: what was done that the person should know (a stroke read
    left to right, points clipped, strokes merged, gaps bridged). ``points``: [k, 2] the canvas points
    used, after clipping. ``span``: (x_min, x_max) of the drawing on the canvas.
    """

    values: np.ndarray | None
    problem: str | None = None
    notices: list[str] = field(default_factory=list)
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    span: tuple[float, float] = (0.0, 0.0)

    @property
    def ok(self) -> bool:
        return self.values is not None


# ----------------------------------------------------------------------------------------- fabric JSON
def _bezier(p0: np.ndarray, controls: list[np.ndarray], samples: int) -> np.ndarray:
    """Points along a quadratic (one control) or cubic (two) Bézier from p0, the end point included: [samples, 2]."""
    t = np.linspace(0.0, 1.0, samples + 1)[1:, None]  # [samples, 1]
    if len(controls) == 2:  # quadratic: (1−t)²p0 + 2(1−t)t c + t² p1
        c, p1 = controls
        return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * c + t**2 * p1
    c1, c2, p1 = controls  # cubic
    return (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t**2 * c2 + t**3 * p1


def path_points(path: Sequence[Sequence[Any]], samples: int = CURVE_SAMPLES) -> np.ndarray:
    """An SVG-style path as fabric.js stores it (``[["M", x, y], ["Q", cx, cy, x, y], ["L", x, y], ...]``) →
    points [k, 2] in the path's own coordinates. Handles M L H V Q C Z (and their relative lower-case
    forms); Bézier segments are sampled at ``samples`` points each. Unknown commands are skipped."""
    pts: list[np.ndarray] = []
    cur = np.zeros(2)
    start = np.zeros(2)
    for cmd in path:
        if not cmd or not isinstance(cmd[0], str):
            continue
        op, args = cmd[0], [float(a) for a in cmd[1:] if isinstance(a, (int, float))]
        rel = op.islower() and op.upper() != "Z"
        base = cur if rel else np.zeros(2)
        up = op.upper()
        if up in ("M", "L") and len(args) >= 2:
            cur = base + np.array(args[:2])
            if up == "M":
                start = cur
            pts.append(cur[None])
        elif up == "H" and args:
            cur = np.array([(cur[0] if rel else 0.0) + args[0], cur[1]])
            pts.append(cur[None])
        elif up == "V" and args:
            cur = np.array([cur[0], (cur[1] if rel else 0.0) + args[0]])
            pts.append(cur[None])
        elif up == "Q" and len(args) >= 4:
            ctrl = [base + np.array(args[0:2]), base + np.array(args[2:4])]
            pts.append(_bezier(cur, ctrl, samples))
            cur = ctrl[-1]
        elif up == "C" and len(args) >= 6:
            ctrl = [base + np.array(args[0:2]), base + np.array(args[2:4]), base + np.array(args[4:6])]
            pts.append(_bezier(cur, ctrl, samples))
            cur = ctrl[-1]
        elif up == "Z":
            cur = start
            pts.append(cur[None])
    return np.concatenate(pts) if pts else np.zeros((0, 2))


def _place(obj: Mapping[str, Any], local: np.ndarray) -> np.ndarray:
    """Object-local points [k, 2] (centred on the object's centre) → canvas points, through the object's
    scale, flips, rotation and position (fabric.js: left/top locate the origin corner given by originX/Y)."""
    sx = float(obj.get("scaleX", 1) or 1) * (-1 if obj.get("flipX") else 1)
    sy = float(obj.get("scaleY", 1) or 1) * (-1 if obj.get("flipY") else 1)
    w = float(obj.get("width", 0) or 0) * abs(sx)
    h = float(obj.get("height", 0) or 0) * abs(sy)
    a = math.radians(float(obj.get("angle", 0) or 0))
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    # The object's centre: its origin point moved by the origin's offset from the centre, rotated.
    off = np.array([(0.5 - _ORIGIN.get(obj.get("originX", "left"), 0.0)) * w,
                    (0.5 - _ORIGIN.get(obj.get("originY", "top"), 0.0)) * h])
    centre = np.array([float(obj.get("left", 0) or 0), float(obj.get("top", 0) or 0)]) + rot @ off
    return (local * np.array([sx, sy])) @ rot.T + centre


def object_points(obj: Mapping[str, Any]) -> np.ndarray | None:
    """One fabric.js object → its points on the canvas [k, 2]; None for kinds that are not strokes
    (rectangles, text, ...). Paths (free drawing), lines, and circles (points mode, read as one point)."""
    kind = str(obj.get("type", "")).lower()
    if kind == "path":
        raw = path_points(obj.get("path") or [])
        if not len(raw):
            return np.zeros((0, 2))
        # fabric keeps the path's points as drawn and positions the object by its bounding box's centre.
        lo, hi = raw.min(axis=0), raw.max(axis=0)
        return _place(obj, raw - (lo + hi) / 2)
    if kind == "line":
        x1, y1, x2, y2 = (float(obj.get(k, 0) or 0) for k in ("x1", "y1", "x2", "y2"))
        ends = np.array([[x1, y1], [x2, y2]])
        return _place(obj, ends - (ends.min(axis=0) + ends.max(axis=0)) / 2)
    if kind == "circle":
        return _place(obj, np.zeros((1, 2)))
    return None


def strokes_from_json(data: Mapping[str, Any] | None) -> tuple[list[np.ndarray], int]:
    """A canvas's JSON (``{"objects": [...]}``) → (one [k, 2] point array per stroke, number of objects
    that are not strokes and were left out). None or no objects → no strokes."""
    strokes, skipped = [], 0
    for obj in (data or {}).get("objects") or []:
        if not isinstance(obj, Mapping):
            skipped += 1
            continue
        pts = object_points(obj)
        if pts is None:
            skipped += 1
        elif len(pts):
            strokes.append(pts)
    return strokes, skipped


# ------------------------------------------------------------------------------------------ resampling
def _merge_by_x(points: np.ndarray, resolution: float) -> tuple[np.ndarray, np.ndarray]:
    """Points [k, 2] → (x, mean y) with one entry per ``resolution``-wide column, sorted by x: where the
    drawing covers an x more than once (two strokes, a stroke doubling back, a vertical stretch) the
    heights there are averaged."""
    col = np.floor(points[:, 0] / resolution).astype(np.int64)  # [k]
    _cols, inverse = np.unique(col, return_inverse=True)
    counts = np.bincount(inverse)
    x = np.bincount(inverse, weights=points[:, 0]) / counts
    y = np.bincount(inverse, weights=points[:, 1]) / counts
    return x, y


def _direction_notices(strokes: list[np.ndarray], span: float) -> list[str]:
    """What a person should know about how the strokes were drawn: right to left, doubling back, several."""
    notices = []
    reversed_ = [s for s in strokes if s[-1, 0] < s[0, 0]]
    if reversed_:
        which = "The stroke was" if len(strokes) == 1 else f"{len(reversed_)} of the {len(strokes)} strokes were"
        notices.append(f"{which} drawn right to left; the model reads it left to right, like every curve.")
    back = sum(float(-np.minimum(np.diff(s[:, 0]), 0).sum()) for s in strokes if s[-1, 0] >= s[0, 0])
    back += sum(float(np.maximum(np.diff(s[:, 0]), 0).sum()) for s in reversed_)
    if back > BACKTRACK * span:
        notices.append("The stroke doubles back on itself; where it covers the same place twice, its heights are "
                       "averaged.")
    if len(strokes) > 1:
        notices.append(f"{len(strokes)} strokes were joined into one curve by position (where they overlap, their "
                       "heights are averaged).")
    return notices


def resample(
    strokes: Sequence[np.ndarray],
    n: int,
    width: float,
    height: float,
    scale: str = "fit",
    resolution: float = 1.0,
) -> Curve:
    """Strokes on a ``width`` × ``height`` canvas (y pointing down) → a curve of ``n`` evenly spaced values.

    Points outside the canvas are clipped to its edge. The strokes are read left to right whatever
    direction they were drawn in; columns of ``resolution`` canvas units covered more than once take the
    mean height; empty stretches between strokes are bridged by straight lines. The drawing's left and
    right ends become the first and last step. Vertically, with ``scale="fit"`` the lowest point maps to
    −1 and the highest to +1 (so any drawn wave reads like the unit sines the model learned);
    ``"canvas"``: bottom edge −1, middle 0, top edge +1.

    Never raises for an odd drawing: a blank canvas, a dot or a vertical line come back with ``values``
    None and a ``problem`` that says what to draw instead.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, not {scale!r}")
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n (steps) must be a whole number ≥ 2, not {n!r}")
    if not (width > 0 and height > 0):
        raise ValueError(f"the canvas must have a positive size, not {width!r} × {height!r}")
    strokes = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]
    strokes = [s[np.isfinite(s).all(axis=1)] for s in strokes]
    strokes = [s for s in strokes if len(s)]
    if not strokes:
        return Curve(None, "The canvas is blank: draw a curve from left to right (or pick a preset waveform).")

    notices: list[str] = []
    points = np.concatenate(strokes)  # [k, 2]
    clipped = np.clip(points, [0.0, 0.0], [width, height])
    if (clipped != points).any():
        notices.append("Part of the stroke left the canvas; it was cut at the edge.")
    points = clipped
    x0, x1 = float(points[:, 0].min()), float(points[:, 0].max())
    span = x1 - x0
    if span < MIN_SPAN * width:
        y_extent = float(np.ptp(points[:, 1]))
        what = "a vertical line" if y_extent >= MIN_SPAN * height else "a single dot"
        return Curve(None, f"That is {what}, not a curve: the model reads a curve from left to right, one value per "
                           "step. Draw a wave across the canvas.", notices, points, (x0, x1))

    notices += _direction_notices(strokes, span)

    x, y = _merge_by_x(points, resolution)
    gaps = np.diff(x)
    if len(gaps) and float(gaps.max()) > GAP * span:
        notices.append("Gaps in the drawing were bridged with straight lines.")
    grid = np.linspace(x0, x1, int(n))  # [n]
    ys = np.interp(grid, x, y)  # [n] canvas y (down)

    if scale == "canvas":
        values = 1.0 - 2.0 * ys / height  # top edge +1, bottom −1
    else:
        lo, hi = float(ys.min()), float(ys.max())
        if hi - lo < FLAT * height:
            values = np.zeros_like(ys)
            notices.append("The stroke is flat: it reads as a constant 0.")
        else:
            values = 1.0 - 2.0 * (ys - lo) / (hi - lo)  # highest point +1, lowest −1
    return Curve(values.astype(np.float64), None, notices, points, (x0, x1))


def curve_from_canvas(
    data: Mapping[str, Any] | None, n: int, width: float, height: float, scale: str = "fit"
) -> Curve:
    """A canvas's JSON → a ``Curve`` of ``n`` values (see ``resample``), noting shapes that were left out."""
    strokes, skipped = strokes_from_json(data)
    curve = resample(strokes, n, width, height, scale)
    if skipped:
        curve.notices.append(f"{skipped} shape{'s' if skipped > 1 else ''} that {'are' if skipped > 1 else 'is'} "
                             "not a stroke (rectangle, text…) left out.")
    return curve
