"""The bundled tagger (pretrained/pos-bilstm) on the real EWT test set: at least 93% UPOS accuracy, far above the
most-frequent-tag baseline, unseen words tagged mostly from their letters, and a drop when the backward direction
is zeroed through a hook; the CLI predicts per-token tags; the bundle stays small."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rnn_core.pos_baseline import baseline_scores
from rnn_core.runs import load_run
from rnn_core.tag_eval import backward_off, score_split

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "pretrained" / "pos-bilstm"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run():
    return load_run(BUNDLED)


def test_bundled_tagger_beats_093_and_the_baseline_on_the_test_set(run, record_figure):
    data = run.task.load_split("test")
    on = score_split(run.model, data, run.task.labels)
    record_figure("pos bundled test accuracy", on.accuracy)
    record_figure("pos bundled test accuracy, unseen words", on.unknown_accuracy)
    assert on.summary()["n"] == 25094
    assert on.accuracy >= 0.93
    base = baseline_scores(run.task.read("train"), run.task.read("test"))
    assert on.accuracy > base["accuracy"] + 0.05
    assert on.unknown_accuracy > base["unknown_accuracy"] + 0.3  # the letters carry unseen words
    off = score_split(run.model, data, run.task.labels, backward_off(run.model))
    record_figure("pos bundled test accuracy, backward direction zeroed", off.accuracy)
    assert off.accuracy < on.accuracy - 0.05


def test_cli_predict_gives_each_token_its_tag():
    proc = subprocess.run([sys.executable, "-m", "rnn_core", "predict", "pos-bilstm", "I can't book the flight."],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [s["token"] for s in out["per_step"]] == ["I", "ca", "n't", "book", "the", "flight", "."]
    assert out["prediction"] == ["PRON", "AUX", "PART", "VERB", "DET", "NOUN", "PUNCT"]
    assert abs(sum(out["per_step"][3]["probabilities"].values()) - 1) < 1e-5


def test_bundle_is_a_few_megabytes():
    size = sum(p.stat().st_size for p in BUNDLED.iterdir())
    assert size < 5_000_000, size
