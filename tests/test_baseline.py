"""The TF-IDF + logistic regression baseline: trained on the train reviews, scored on the test reviews, cached
as JSON keyed by the data, and never fitted or downloaded when only the cached figure is asked for."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from rnn_core import baseline
from rnn_core.data import DownloadError, aclimdb

POS = ["great", "wonderful", "loved", "superb", "moving", "brilliant"]
NEG = ["awful", "boring", "worst", "waste", "dull", "terrible"]
COMMON = ["the", "movie", "was", "a", "and", "plot", "acting", "it", "film", "story"]


def write_reviews(root: Path, per_class: int, flip_test: bool = False, seed: int = 0) -> None:
    """aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt; positive reviews use POS words, negative ones NEG words
    (the other way round in test when ``flip_test``)."""
    rng = random.Random(seed)
    for split in ("train", "test"):
        for label in ("pos", "neg"):
            words = POS if (label == "pos") != (flip_test and split == "test") else NEG
            folder = root / "aclImdb" / split / label
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                text = " ".join(rng.choices(COMMON, k=8) + rng.choices(words, k=2)) + ".<br />The end."
                (folder / f"{i}_{8 if label == 'pos' else 2}.txt").write_text(text, encoding="utf-8")


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_CACHE_DIR", str(tmp_path / "cache"))
    aclimdb.clear_memory_cache()
    root = tmp_path / "data"
    write_reviews(root / "imdb", per_class=40)
    yield root
    aclimdb.clear_memory_cache()


def test_learns_from_train_and_scores_on_test(data):
    out = baseline.baseline_accuracy(data)
    assert out["accuracy"] == 1.0  # each class has its own words: separable
    assert out["n_train"] == 80 and out["n_test"] == 80
    assert out["from_cache"] is False and out["method"] == baseline.METHOD
    assert out["C"] in baseline.SETTINGS["c_grid"]


def test_scores_the_test_split_not_the_training_one(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_CACHE_DIR", str(tmp_path / "cache"))
    aclimdb.clear_memory_cache()
    write_reviews(tmp_path / "data" / "imdb", per_class=40, flip_test=True)
    out = baseline.baseline_accuracy(tmp_path / "data")
    aclimdb.clear_memory_cache()
    assert out["accuracy"] == 0.0  # test words carry the opposite sentiment: every test review is wrong


def test_result_is_cached_as_json_and_reused(data, monkeypatch):
    assert baseline.cached_baseline(data) is None  # nothing computed yet, and asking does not fit
    first = baseline.baseline_accuracy(data)
    files = list(Path(os.environ["UNROLLED_CACHE_DIR"]).glob("imdb-baseline-*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["result"]["accuracy"] == first["accuracy"]

    def no_fit(*_a, **_k):
        raise AssertionError("refitted although a cached result exists")

    monkeypatch.setattr(baseline, "fit_baseline_model", no_fit)
    again = baseline.baseline_accuracy(data)
    assert again["from_cache"] is True and again["accuracy"] == first["accuracy"]
    assert baseline.cached_baseline(data)["accuracy"] == first["accuracy"]
    # The same fit stored the model beside the figure; it loads without fitting and scores as the fit did.
    model = baseline.baseline_model(data)
    assert baseline.model_file(data).is_file() and model.info["accuracy"] == first["accuracy"]
    assert model.score("wonderful superb, loved it").prediction == "pos"
    assert model.score("awful and boring, a waste").prediction == "neg"


def test_the_model_is_fitted_when_only_the_figure_was_cached(data):
    first = baseline.baseline_accuracy(data)
    baseline.model_file(data).unlink()  # e.g. a figure cached before the model was kept
    assert baseline.cached_model(data) is None and baseline.cached_baseline(data) is not None
    model = baseline.baseline_model(data)
    assert model.info["accuracy"] == first["accuracy"] and baseline.cached_model(data) is not None


def test_changed_data_is_not_served_from_the_old_cache(data):
    baseline.baseline_accuracy(data)
    review = next((data / "imdb" / "aclImdb" / "test" / "pos").iterdir())
    review.write_text("awful boring worst waste dull terrible", encoding="utf-8")
    st = review.stat()
    os.utime(review, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    aclimdb.clear_memory_cache()
    assert baseline.cached_baseline(data) is None
    out = baseline.baseline_accuracy(data)
    assert out["from_cache"] is False and out["accuracy"] == pytest.approx(79 / 80)


def test_a_damaged_cache_file_is_recomputed(data):
    baseline.baseline_accuracy(data)
    (cache,) = Path(os.environ["UNROLLED_CACHE_DIR"]).glob("imdb-baseline-*.json")
    cache.write_text("{not json")
    assert baseline.cached_baseline(data) is None
    assert baseline.baseline_accuracy(data)["from_cache"] is False


def test_missing_data_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_CACHE_DIR", str(tmp_path / "cache"))
    assert baseline.cached_baseline(tmp_path / "empty") is None
    with pytest.raises(DownloadError, match=r"aclImdb_v1\.tar\.gz"):
        baseline.baseline_accuracy(tmp_path / "empty")


def test_the_cli_reports_the_baseline_as_one_json_line(data, capsys):
    from rnn_core.cli import main

    assert main(["baseline", "--task", "imdb", "--data-dir", str(data)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["accuracy"] == 1.0 and out["method"] == baseline.METHOD and out["n_test"] == 80
    assert main(["baseline", "--data-dir", str(data)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["from_cache"] is True
