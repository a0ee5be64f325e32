"""A drawing → a digit image made the way the training images were made, in plain numpy.

MNIST: the ink's bounding box is scaled (aspect kept, area-averaged so edges turn grey) to fit a 20×20 box,
then placed in 28×28 so its centre of mass sits at the centre. scikit-learn's 8×8 digits (UCI optdigits): the
ink is scaled to fill a 32×32 bitmap, and each 4×4 block's count of inked pixels (0–16) becomes one pixel.
A blank drawing, a dot or a scribble over most of the canvas is refused with a message instead.
"""

from __future__ import annotations

import numpy as np

MIN_INK = 0.002  # inked share of the canvas below which a drawing counts as blank
MIN_EXTENT = 0.1  # a drawing whose bounding box spans less than this share of the canvas is a dot
MAX_INK = 0.3  # inked share above which a drawing is a scribble: a thick "8" covers under 20%
INK_LEVEL = 0.2  # a pixel at least this dark counts as inked when finding the drawing's extent
MNIST_SIZE, MNIST_BOX, MNIST_CENTRE = 28, 20, 14.0  # the test files' mean centre of mass is (13.99, 14.00)
OPT_BITMAP, OPT_BLOCK = 32, 4  # optdigits: 32×32 bitmaps, 4×4 blocks → 8×8 counts of 0..16
# optdigits' pens are thick: on average 30% of a bitmap is on (scikit-learn's images.mean() / 16 = 0.305). A
# mouse stroke scaled into 32×32 is thinner, so it is thickened until it covers about as much.
OPT_INK, OPT_MAX_GROW = 0.27, 4


class DrawingError(ValueError):
    """A drawing that should not be read as a digit (blank, a dot, a scribble); the message says what to do."""


def ink(image: np.ndarray) -> np.ndarray:
    """Any picture → ink [H, W] in 0..1 (1 = fully drawn).

    Accepts grey [H, W] (0..1 floats, or 0..255 integers; bright = ink, as MNIST stores it), RGB [H, W, 3] or
    RGBA [H, W, 4]. With transparent pixels present (a canvas without background) the alpha channel is the
    ink; otherwise the picture is dark pen on light paper (the page's canvas) and ink = 1 − luminance. (Taking
    the paper's colour from the border would invert a canvas scribbled over edge to edge.)"""
    a = np.asarray(image)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or min(a.shape[:2]) < 2:
        raise DrawingError(f"expected a picture of shape [H, W], [H, W, 3] or [H, W, 4], not {list(a.shape)}")
    if not np.issubdtype(a.dtype, np.number) or not np.isfinite(a).all():
        raise DrawingError("the picture must hold finite numbers")
    a = a.astype(np.float64)
    if a.max(initial=0.0) > 1.0:
        a = a / 255.0
    a = np.clip(a, 0.0, 1.0)
    if a.ndim == 2:
        return a
    if a.shape[2] == 4 and a[..., 3].min() < 0.5:
        return a[..., 3]
    grey = a[..., :3] @ np.array([0.299, 0.587, 0.114])  # [H, W] luminance
    return np.clip(1.0 - grey, 0.0, 1.0)


def drawing_problem(ink_img: np.ndarray) -> str | None:
    """Why ``ink_img`` should not be read as a digit, or None when it may be."""
    share = float(ink_img.mean())
    if share < MIN_INK or not (ink_img >= INK_LEVEL).any():
        return "The canvas is blank (or nearly): draw one digit, large, filling most of the box."
    rows, cols = _extent(ink_img)
    h, w = ink_img.shape
    if max((rows[1] - rows[0]) / h, (cols[1] - cols[0]) / w) < MIN_EXTENT:
        return "That is only a dot: draw one digit, large, filling most of the box."
    if share > MAX_INK:
        return (f"The drawing covers {share:.0%} of the canvas: that looks like a scribble, not a digit. "
                "Clear it (bin icon) and draw one digit with single strokes.")
    return None


def _extent(img: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
    """(first, last + 1) inked row and column."""
    inked = img >= INK_LEVEL
    r = np.flatnonzero(inked.any(axis=1))
    c = np.flatnonzero(inked.any(axis=0))
    return (int(r[0]), int(r[-1]) + 1), (int(c[0]), int(c[-1]) + 1)


def _area_weights(n_in: int, n_out: int) -> np.ndarray:
    """[n_out, n_in]: the share of each input pixel inside each output pixel (rows sum to 1)."""
    edges = np.linspace(0.0, n_in, n_out + 1)  # output pixel borders in input pixel units
    lo, hi = edges[:-1, None], edges[1:, None]  # [n_out, 1]
    left = np.arange(n_in)[None, :]  # [1, n_in]
    overlap = np.clip(np.minimum(hi, left + 1) - np.maximum(lo, left), 0.0, None)  # [n_out, n_in]
    return overlap / overlap.sum(axis=1, keepdims=True)


def area_resize(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Resize [H, W] → [out_h, out_w] by area averaging: each output pixel is the mean of the input it covers
    (exact anti-aliasing for shrinking, nearest-like for growing)."""
    return _area_weights(img.shape[0], out_h) @ img @ _area_weights(img.shape[1], out_w).T


def _fit_box(img: np.ndarray, box: int) -> np.ndarray:
    """The inked bounding box scaled so its longer side is ``box`` pixels, aspect kept: [h ≤ box, w ≤ box]."""
    (r0, r1), (c0, c1) = _extent(img)
    crop = img[r0:r1, c0:c1]
    scale = box / max(crop.shape)
    h = max(1, min(box, round(crop.shape[0] * scale)))
    w = max(1, min(box, round(crop.shape[1] * scale)))
    return area_resize(crop, h, w)


def to_mnist(ink_img: np.ndarray) -> np.ndarray:
    """Ink → a 28×28 MNIST-style image in 0..1: fit into 20×20 (aspect kept, anti-aliased), then place it so its
    centre of mass lands on pixel (14, 14), as LeCun et al. made the dataset."""
    digit = _fit_box(ink_img, MNIST_BOX)  # [h, w]
    h, w = digit.shape
    total = digit.sum()
    rows, cols = np.arange(h), np.arange(w)
    com_r = float((digit.sum(axis=1) * rows).sum() / total)
    com_c = float((digit.sum(axis=0) * cols).sum() / total)
    top = round(MNIST_CENTRE - com_r)
    left = round(MNIST_CENTRE - com_c)
    top = min(max(top, 0), MNIST_SIZE - h)  # a lopsided digit may not move off the image
    left = min(max(left, 0), MNIST_SIZE - w)
    out = np.zeros((MNIST_SIZE, MNIST_SIZE))
    out[top : top + h, left : left + w] = digit
    return np.clip(out, 0.0, 1.0)


def _grow(bitmap: np.ndarray) -> np.ndarray:
    """One step of binary dilation with a 3×3 cross (a pixel turns on when a 4-neighbour is on)."""
    out = bitmap.copy()
    out[1:] |= bitmap[:-1]
    out[:-1] |= bitmap[1:]
    out[:, 1:] |= bitmap[:, :-1]
    out[:, :-1] |= bitmap[:, 1:]
    return out


def to_8x8(ink_img: np.ndarray) -> np.ndarray:
    """Ink → an 8×8 optdigits-style image of counts 0..16: the ink scaled to fill a 32×32 bitmap (aspect kept,
    centred), thresholded to on / off and thickened towards optdigits' pen width, then the on pixels counted
    in each 4×4 block."""
    digit = _fit_box(ink_img, OPT_BITMAP)  # [h, w], longer side 32
    h, w = digit.shape
    bitmap = np.zeros((OPT_BITMAP, OPT_BITMAP), dtype=bool)
    top, left = (OPT_BITMAP - h) // 2, (OPT_BITMAP - w) // 2
    bitmap[top : top + h, left : left + w] = digit >= 0.5
    for _ in range(OPT_MAX_GROW):
        if bitmap.mean() >= OPT_INK:
            break
        bitmap = _grow(bitmap)
    n = OPT_BITMAP // OPT_BLOCK
    return bitmap.reshape(n, OPT_BLOCK, n, OPT_BLOCK).sum(axis=(1, 3)).astype(np.float64)  # [8, 8] counts 0..16
