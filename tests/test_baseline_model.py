"""The fitted TF-IDF baseline kept as plain arrays: stored without pickle and reloaded, it gives exactly the
probabilities of the scikit-learn pipeline it came from on real IMDB reviews and odd texts; the stored IMDB
baseline scores the test split as its fit reported; damaged or foreign files are refused, not trusted."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from rnn_core import baseline
from rnn_core.baseline_model import BaselineModel
from rnn_core.data import cache_dir
from rnn_core.data.aclimdb import load_corpus
from rnn_core.data.text import Tokenizer
from rnn_core.tasks.imdb import IMDB_FILE

ODD = ["", "   ", "?!... -- ;)", "😀🎬🍿 🤩🤩", "这部电影非常好看", "great great great great", "xyzzyq plugh",
       "Not bad.<br /><br />NOT BAD AT ALL!", "the the the movie movie was was not not good good"]


@pytest.fixture(scope="module")
def corpus():
    source = IMDB_FILE.ensure(None, download_ok=False)
    return load_corpus(source, Tokenizer(), cache_dir(None))


def texts(split, idx) -> list[str]:
    return [split.text_of(int(i)) for i in idx]


@pytest.fixture(scope="module")
def small_pipeline(corpus):
    """The baseline's own vectorizer and classifier, fitted on 3,000 random training reviews (the full fit takes
    minutes; the arithmetic reproduced is the same)."""
    rng = np.random.default_rng(0)
    idx = rng.choice(len(corpus.train), 3000, replace=False)
    vec = baseline._vectorizer(Tokenizer())
    x = vec.fit_transform(texts(corpus.train, idx))  # [3000, features] sparse
    clf = baseline._classifier(8.0).fit(x, np.asarray(corpus.train.labels)[idx])
    return vec, clf


@pytest.mark.slow
def test_stored_and_reloaded_it_reproduces_sklearn_predict_proba_exactly(corpus, small_pipeline, tmp_path):
    vec, clf = small_pipeline
    key = {"what": "test"}
    BaselineModel.from_sklearn(vec, clf, {"accuracy": 0.5}).save(tmp_path / "m.npz", key)
    with zipfile.ZipFile(tmp_path / "m.npz") as z:  # plain numeric / byte arrays only: nothing to unpickle
        assert sorted(z.namelist()) == ["coef.npy", "idf.npy", "meta.npy", "terms.npy"]
    model = BaselineModel.load(tmp_path / "m.npz", key)
    assert model is not None and model.info == {"accuracy": 0.5} and len(model.terms) == len(vec.vocabulary_)

    rng = np.random.default_rng(1)
    reviews = texts(corpus.test, rng.choice(len(corpus.test), 1500, replace=False)) + ODD
    want = clf.predict_proba(vec.transform(reviews))  # [n, 2]
    got = model.predict_proba(reviews)  # [n, 2]
    np.testing.assert_array_equal(got, want)  # bit for bit, not merely close
    assert [model.score(t).prediction for t in reviews] == ["pos" if c else "neg" for c in clf.predict(
        vec.transform(reviews))]
    # The pushes add up to the logit sklearn computes.
    z = clf.decision_function(vec.transform(reviews[:50]))
    assert [model.intercept + model.score(t).contributions.sum() for t in reviews[:50]] == pytest.approx(z, abs=1e-9)


def test_word_pairs_are_the_ones_sklearns_analyzer_makes():
    vec = baseline._vectorizer(Tokenizer())
    model = BaselineModel(["a"], np.ones(1, np.float32), np.zeros(1), 0.0, ngram_max=2)
    for text in [*ODD, "One word", "A review.<br />With   two, lines!"]:
        assert model.grams(model.tokenizer(text)) == vec.build_analyzer()(text)


def test_empty_or_unknown_text_gets_the_intercepts_answer_and_pushes_are_sorted():
    model = BaselineModel(["awful", "great", "not bad"], np.ones(3, np.float32), np.array([-2.0, 3.0, 1.0]), 0.25,
                          ngram_max=2)
    for text in ("", "😀 qqq", "!!!"):
        s = model.score(text)
        assert s.terms == [] and s.p_pos == pytest.approx(1 / (1 + np.exp(-0.25))) and s.prediction == "pos"
    s = model.score("Great, not bad... awful")
    assert s.terms == ["awful", "great", "not bad"] and s.n_tokens == 4
    up, down = s.pushes(3)
    assert [t for t, _ in up] == ["great", "not bad"] and [t for t, _ in down] == ["awful"]
    x = 1 / np.sqrt(3)  # three terms of equal weight, l2-normalised
    assert s.decision == pytest.approx(0.25 + x * (3 + 1 - 2))


def test_a_file_for_other_data_or_damaged_is_refused(tmp_path):
    model = BaselineModel(["bad", "good"], np.ones(2, np.float32), np.array([-1.0, 1.0]), 0.0, ngram_max=2)
    model.save(tmp_path / "m.npz", {"data": 1})
    back = BaselineModel.load(tmp_path / "m.npz", {"data": 1})
    assert back is not None and back.terms == model.terms and back.intercept == model.intercept
    assert np.array_equal(back.idf, model.idf) and np.array_equal(back.coef, model.coef)
    assert BaselineModel.load(tmp_path / "m.npz", {"data": 2}) is None  # fitted on other data
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not a zip at all")
    assert BaselineModel.load(tmp_path / "bad.npz", {"data": 1}) is None
    assert BaselineModel.load(tmp_path / "missing.npz", {"data": 1}) is None
    (tmp_path / "empty.npz").write_bytes(b"")
    assert BaselineModel.load(tmp_path / "empty.npz", {"data": 1}) is None
    arrays = {"meta": np.frombuffer(json.dumps({"format": 1, "key": {"data": 1}}).encode(), np.uint8)}
    np.savez(tmp_path / "partial.npz", **arrays)  # no terms, no intercept
    assert BaselineModel.load(tmp_path / "partial.npz", {"data": 1}) is None
    np.savez(tmp_path / "objects.npz", meta=np.array([{"format": 1}], dtype=object), allow_pickle=True)
    assert BaselineModel.load(tmp_path / "objects.npz", {"data": 1}) is None  # would need pickle: refused


@pytest.mark.slow
def test_the_imdb_baseline_the_page_uses_scores_the_test_reviews_as_its_fit_did(corpus):
    """The model the Sentiment page scores with (this machine's fit, else the bundled one in pretrained/)."""
    model = baseline.available_model()
    assert model is not None and baseline.available_model_file() is not None
    p = model.predict_proba(texts(corpus.test, range(len(corpus.test))))[:, 1]  # [25000]
    accuracy = float(((p > 0.5) == np.asarray(corpus.test.labels).astype(bool)).mean())
    assert accuracy == model.info["accuracy"]  # sklearn's own predictions at fit time, to the review
    assert 0.88 <= accuracy <= 0.93


def test_the_bundled_baseline_loads_without_the_data_and_without_pickle(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_DATA_DIR", str(tmp_path))  # no IMDB here: nothing to fit, nothing fitted
    assert baseline.model_file() is None and baseline.available_model_file() == baseline.BUNDLED_MODEL
    model = baseline.available_model()
    assert model is not None and len(model.terms) == model.info["features"] and model.info["n_train"] == 25_000
    assert model.score("a wonderful, moving film; superb acting").p_pos > 0.9
    assert model.score("awful, boring, a waste of time").p_pos < 0.1
