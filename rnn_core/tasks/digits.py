"""Handwritten digits read row by row: each image's rows are the time steps, its pixels the features.

Two sources: scikit-learn's bundled 8×8 digits (1,797 images, no download; the default) and MNIST's 28×28 idx
files, fetched when missing. Where only MNIST's test files exist, ``split="test-files-only"`` trains on a fixed
stratified 8,000 / 2,000 split of the 10,000 test images, and says so wherever its numbers appear.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from ..config import ModelConfig
from ..data import DownloadError, data_dir, find_existing
from ..mnist_idx import MNIST_BASE_URL, TEST_FILES, TRAIN_FILES, read_pair, remote_file
from . import digit_images as img
from .base import Preset, SeqData, Splits, Task

SOURCES = ("sklearn", "mnist")
SPLITS = ("official", "test-files-only")
READS = ("rows", "columns")
LABELS = [str(d) for d in range(10)]
SPLIT_SEED = 0  # the held-out images never change with the training seed
SKLEARN_TEST = 0.2  # scikit-learn's 1,797 images → 1,437 train / 360 test, stratified
TEST_ONLY_SIZES = (8000, 2000)  # of MNIST's 10,000 test images, stratified
SCALE = {"sklearn": 16.0, "mnist": 255.0}  # pixel value → 0..1 input
DEFAULT_OPTIONS: dict[str, Any] = {"source": "sklearn", "split": "official", "read": "rows",
                                   "base_url": MNIST_BASE_URL, "download": True}

_SEED = {"cell": "lstm", "hidden_size": 100, "num_layers": 1, "head": "last", "init": "keras"}
_SEED_TRAIN = {"optimizer": "adam", "lr": 1e-4, "batch_size": 50, "epochs": 6, "clip_grad": 0.0}


def _check(opts: dict[str, Any]) -> dict[str, Any]:
    unknown = set(opts) - set(DEFAULT_OPTIONS)
    if unknown:
        raise ValueError(f"unknown digits option(s) {', '.join(sorted(unknown))}; known: {', '.join(DEFAULT_OPTIONS)}")
    out = {**DEFAULT_OPTIONS, **opts}
    for key, allowed in (("source", SOURCES), ("split", SPLITS), ("read", READS)):
        if out[key] not in allowed:
            raise ValueError(f"digits {key} must be one of {', '.join(allowed)}, not {out[key]!r}")
    if out["source"] == "sklearn" and out["split"] != "official":
        raise ValueError("split='test-files-only' is for source='mnist'; the 8×8 digits have their own fixed split")
    if not isinstance(out["base_url"], str) or not out["base_url"].startswith(("http://", "https://")):
        raise ValueError(f"base_url must be the http(s) address of a folder of MNIST files, not {out['base_url']!r}")
    out["download"] = bool(out["download"])
    return out


class DigitsTask(Task):
    """Classify a handwritten digit from its rows (or columns), one per step.

    Options: ``source`` ("sklearn": 8×8, 8 steps of 8 pixels; "mnist": 28×28, 28 steps of 28 pixels), ``split``
    (MNIST: "official" 60,000 / 10,000, or "test-files-only" 8,000 / 2,000 of the test images), ``read``
    ("rows" top to bottom, or "columns" left to right), ``base_url`` (an MNIST mirror), ``download``. Set
    ``progress`` to ``callable(done_bytes, total_bytes)`` to follow a download. Inputs are pixel values in 0..1.
    """

    name = "digits"
    kind = "classify"
    title = "Handwritten digits, read row by row"
    description = (
        "Read an image of a handwritten digit one row at a time, top to bottom (or one column at a time), and say "
        "which digit it is. Source 'sklearn' (default): scikit-learn's 1,797 8×8 digits, 16 grey levels, a fixed "
        "stratified 1,437 / 360 train / test split. Source 'mnist': MNIST's 28×28 digits — 60,000 training and "
        "10,000 test images from the official files, or, where only the test files are at hand, split "
        "'test-files-only': a fixed stratified 8,000 / 2,000 split of the 10,000 TEST images, whose accuracy is "
        "not comparable with results on MNIST's official test set. Validation is the test split itself (as the "
        "note's validation_data) unless val_fraction carves it off the training images."
    )
    metric = "accuracy"
    presets: ClassVar[dict[str, Preset]] = {
        "seed": Preset(
            "The note's setting exactly: MNIST, LSTM(100) reading 28 rows of 28 pixels, the last step's h into a "
            "dense softmax layer, Adam lr 1e-4, batch 50, 6 epochs, no gradient clipping.",
            model=dict(_SEED), train=dict(_SEED_TRAIN), task={"source": "mnist", "read": "rows"},
        ),
        "seed-as-written": Preset(
            "'seed' with the note's code as written: softmax on the output and then a cross-entropy that applies "
            "softmax again (double_softmax). The gradients shrink, so the same 6 epochs learn far less.",
            model={**_SEED, "double_softmax": True}, train=dict(_SEED_TRAIN), task={"source": "mnist", "read": "rows"},
        ),
        "default": Preset(
            "Fast 8×8: GRU(64) reading 8 rows of 8 pixels, Adam lr 0.005, batch 32, 20 epochs: 0.98 test "
            "accuracy (0.986 / 0.978 / 0.981 for seeds 0 / 1 / 2) in about 12 s of one CPU core.",
            model={"cell": "gru", "hidden_size": 64, "num_layers": 1, "head": "last", "init": "keras"},
            train={"optimizer": "adam", "lr": 5e-3, "batch_size": 32, "epochs": 20, "clip_grad": 1.0},
            task={"source": "sklearn", "read": "rows"},
        ),
        "mnist": Preset(
            "MNIST, faster learning than the note: LSTM(128), Adam lr 2e-3, batch 64, 12 epochs, clipping 1.0.",
            model={"cell": "lstm", "hidden_size": 128, "num_layers": 1, "head": "last", "init": "keras"},
            train={"optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 12, "clip_grad": 1.0},
            task={"source": "mnist", "read": "rows"},
        ),
    }
    default_preset = "default"

    def __init__(self, **options: Any):
        super().__init__(**_check(options))
        self.progress = None
        self.vocab = {}

    # ---- configuration --------------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        return list(LABELS)

    @property
    def source(self) -> str:
        return str(self.options["source"])

    @property
    def side(self) -> int:
        """Pixels per row and rows per image: 8 or 28."""
        return 8 if self.source == "sklearn" else img.MNIST_SIZE

    def base_model_config(self) -> ModelConfig:
        return ModelConfig(cell="lstm", input_size=self.side, hidden_size=100, output_size=10, head="last")

    def configs(self, preset: str | None = None, **overrides: Any):
        """As Task.configs, with the input width following this task's source (8 or 28 pixels)."""
        mcfg, tcfg = super().configs(preset, **overrides)
        return mcfg.replace(input_size=self.side).validate(), tcfg

    def training_files_present(self, root: str | None = None) -> bool:
        """Whether MNIST's two training files (or unpacked copies) are in the data folder."""
        folder = data_dir(root)
        return all(find_existing(folder, [r.subdir + "/" + r.name, *r.alternatives]) is not None
                   for r in (remote_file(n) for n in TRAIN_FILES))

    def option_choices(self) -> dict[str, tuple[tuple[str, ...], str]]:
        """Reading direction always; for MNIST also the split, test-files-only first when the training files
        are missing (the official split would have to download them first)."""
        out: dict[str, tuple[tuple[str, ...], str]] = {
            "read": (READS, "rows: top to bottom, one row per step; columns: left to right.")
        }
        if self.source == "mnist":
            if self.training_files_present():
                out["split"] = (SPLITS, "official: 60,000 training / 10,000 test images.")
            else:
                out["split"] = (SPLITS[::-1], f"MNIST's training files are not in {data_dir() / 'mnist'}: "
                                "test-files-only trains on 8,000 and scores 2,000 of the 10,000 TEST images; "
                                "official downloads the 60,000 training images (~10 MB) first.")
        return out

    def data_label(self) -> str:
        """Exactly which images the numbers of this task are measured on."""
        if self.source == "sklearn":
            return "scikit-learn 8×8 digits: 1,437 training / 360 test images (fixed stratified split of 1,797)"
        if self.options["split"] == "test-files-only":
            return ("MNIST test files only: 8,000 training / 2,000 held-out images, a fixed stratified split of "
                    "the official 10,000 TEST images (not the official test set)")
        return "MNIST official files: 60,000 training / 10,000 test images"

    # ---- data -----------------------------------------------------------------------------------
    def load(self, data_dir: str | None = None, limit: int = 0, seed: int = 0) -> Splits:
        """Train and test splits (val is the test split, the same object). ``limit`` > 0 keeps a stratified
        sample of that many training images (seeded); the test images never change. ``meta["index"]`` is each
        image's position in its source (scikit-learn's array or the idx file)."""
        # Imported here: scikit-learn takes seconds to import, and listing tasks must stay instant.
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        if self.source == "sklearn":
            bunch = load_digits()
            images, labels = bunch.images, bunch.target
            tr, te = train_test_split(np.arange(len(labels)), test_size=SKLEARN_TEST, stratify=labels,
                                      random_state=SPLIT_SEED)
            train_src = test_src = (images, labels)
        elif self.options["split"] == "test-files-only":
            images, labels = self._read(data_dir, TEST_FILES)
            tr, te = train_test_split(np.arange(len(labels)), train_size=TEST_ONLY_SIZES[0],
                                      test_size=TEST_ONLY_SIZES[1], stratify=labels, random_state=SPLIT_SEED)
            train_src = test_src = (images, labels)
        else:
            train_src = self._read(data_dir, TRAIN_FILES, missing_train=True)
            test_src = self._read(data_dir, TEST_FILES)
            tr, te = np.arange(len(train_src[1])), np.arange(len(test_src[1]))
        if limit and 0 < limit < len(tr):
            tr, _ = train_test_split(tr, train_size=limit, stratify=train_src[1][tr] if limit >= 10 else None,
                                     random_state=seed)
        train = self._split(*train_src, np.sort(tr))
        test = self._split(*test_src, np.sort(te))
        return Splits(train=train, val=test, test=test, vocab={})

    def _read(self, root: str | None, names: tuple[str, str], missing_train: bool = False):
        found = []
        for name in names:
            try:
                found.append(remote_file(name, self.options["base_url"]).ensure(
                    root, download_ok=self.options["download"], progress=self.progress))
            except DownloadError as exc:
                if not missing_train:
                    raise
                raise DownloadError(
                    f"MNIST's training files are not in {data_dir(root) / 'mnist'} and could not be fetched: {exc} "
                    "To train anyway on the test files alone, choose split 'test-files-only' (CLI: --option "
                    "split=test-files-only): a fixed stratified 8,000 / 2,000 split of the 10,000 test images."
                ) from None
        return read_pair(found[0], found[1])

    def _split(self, images: np.ndarray, labels: np.ndarray, idx: np.ndarray) -> SeqData:
        x = self.image_to_input(torch.from_numpy(images[idx].astype(np.float32)) / SCALE[self.source])
        n = len(idx)
        return SeqData(x=x, y=torch.from_numpy(labels[idx].astype(np.int64)),
                       lengths=torch.full((n,), self.side, dtype=torch.long), meta={"index": idx.tolist()})

    # ---- images ↔ model input -------------------------------------------------------------------------
    def image_to_input(self, images: Tensor) -> Tensor:
        """Images [n, side, side] in 0..1 → model input [n, steps, features]: rows as steps, or columns."""
        return images.transpose(1, 2).contiguous() if self.options["read"] == "columns" else images

    def input_to_image(self, x: Tensor) -> Tensor:
        """Model input [..., steps, features] → the image [..., side, side] as a person sees it."""
        return x.transpose(-1, -2) if self.options["read"] == "columns" else x

    def preprocess(self, picture: Any) -> np.ndarray:
        """A drawing (grey, RGB or RGBA array of any size) → the image the model reads, [side, side] in 0..1, made
        as the training images were (see digit_images). DrawingError when it is blank, a dot or a scribble."""
        ink = img.ink(picture)
        problem = img.drawing_problem(ink)
        if problem:
            raise img.DrawingError(problem)
        if self.source == "sklearn":
            return img.to_8x8(ink) / SCALE["sklearn"]
        return img.to_mnist(ink)

    def encode(self, user_input: Any) -> tuple[Tensor, list[str]]:
        """A drawing → (input [1, steps, features], "row 1".."row N" or "col 1".."col N").

        Takes a picture array (see ``preprocess``) or its JSON text (a nested list, for the CLI)."""
        if isinstance(user_input, str):
            try:
                user_input = np.asarray(json.loads(user_input), dtype=np.float64)
            except (json.JSONDecodeError, ValueError, TypeError):
                raise img.DrawingError("give the picture as a JSON list of rows of numbers") from None
        image = torch.from_numpy(self.preprocess(user_input)).float()  # [side, side]
        return self.image_to_input(image[None]), self.step_names()  # [1, steps, features]

    def step_names(self) -> list[str]:
        word = "col" if self.options["read"] == "columns" else "row"
        return [f"{word} {t + 1}" for t in range(self.side)]

    def step_labels(self, data: SeqData, i: int) -> list[str]:
        return self.step_names()[: int(data.lengths[i])]
