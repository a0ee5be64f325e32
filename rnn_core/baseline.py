"""A non-neural yardstick for IMDB sentiment: TF-IDF over words and word pairs, then logistic regression, fitted
on the 25,000 training reviews and scored on the 25,000 test reviews — the split the RNN is scored on. One fit
caches the result as JSON and the fitted model as .npz (``baseline_model``, no pickle) in the data cache folder,
keyed by the data's fingerprint and the baseline's settings. A copy of that fit ships in ``pretrained/`` so the
Sentiment page has a baseline on a machine that has not fitted one (``available_model``).

Run ``python -m rnn_core baseline --task imdb [--data-dir D] [--recompute]`` to compute it (a few minutes on two
cores) and print the JSON; ``--recompute`` also stores the model where only the figure was cached before.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import write_text_atomic
from .baseline_model import BaselineModel
from .data import DownloadError, cache_dir
from .data.aclimdb import Corpus, SplitArrays, cache_key, load_corpus
from .data.text import Tokenizer
from .runs.files import pretrained_dir
from .tasks.imdb import IMDB_FILE

FORMAT = 1  # bump when the cached JSON's meaning changes
# ``baseline_model()``'s fit on the full IMDB training set (test accuracy 0.9086), as stored; 5 MB.
BUNDLED_MODEL = pretrained_dir() / "imdb-tfidf-baseline.npz"
METHOD = "TF-IDF (words and word pairs) + logistic regression"
# Fixed before looking at the test set: sublinear term frequency and word pairs are the usual strong setting
# for reviews; C (inverse regularisation strength) is picked on a held-out tenth of the training reviews.
SETTINGS: dict[str, Any] = {
    "ngram_range": [1, 2],
    "min_df": 2,  # a word pair seen in one review only is noise, and drops ~80% of the features
    "max_df": 0.9,
    "sublinear_tf": True,  # 1 + log(tf): the tenth "bad" says less than the first
    "c_grid": [2.0, 8.0, 32.0],
    "holdout": 0.1,
    "seed": 0,
}


def _texts(split: SplitArrays) -> list[str]:
    return [split.text_of(i) for i in range(len(split))]


def _vectorizer(tokenizer: Tokenizer):
    from sklearn.feature_extraction.text import TfidfVectorizer

    # The RNN's own tokenizer (lowercase, punctuation dropped, <br /> removed), so both read the same words.
    return TfidfVectorizer(tokenizer=tokenizer, lowercase=False, token_pattern=None,
                           ngram_range=tuple(SETTINGS["ngram_range"]), min_df=SETTINGS["min_df"],
                           max_df=SETTINGS["max_df"], sublinear_tf=SETTINGS["sublinear_tf"], dtype=np.float32)


def _classifier(c: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, solver="liblinear", max_iter=1000)


def fit_baseline(corpus: Corpus, tokenizer: Tokenizer) -> dict[str, Any]:
    """``fit_baseline_model``'s report only."""
    return fit_baseline_model(corpus, tokenizer)[0]


def fit_baseline_model(corpus: Corpus, tokenizer: Tokenizer) -> tuple[dict[str, Any], BaselineModel]:
    """Fit TF-IDF + logistic regression on ``corpus.train`` and score it on ``corpus.test``.

    C is the value of ``SETTINGS["c_grid"]`` with the best accuracy on a seeded, held-out tenth of the training
    reviews (vectorizer refit without them); the final model is then fitted on every training review. The test
    reviews are only ever scored, once. Returns the report (accuracy, sizes, the chosen C, timings) and the
    fitted model as plain arrays.
    """
    start = time.perf_counter()
    train_text, test_text = _texts(corpus.train), _texts(corpus.test)
    y_train, y_test = np.asarray(corpus.train.labels), np.asarray(corpus.test.labels)
    if len(set(y_train.tolist())) < 2:
        raise ValueError("the training reviews hold only one class; the baseline needs both negative and positive")

    rng = np.random.default_rng(SETTINGS["seed"])
    order = rng.permutation(len(train_text))
    n_hold = round(len(order) * SETTINGS["holdout"])
    hold, fit_idx = order[:n_hold], order[n_hold:]
    scores: dict[str, float] = {}
    if n_hold >= 2 and len(set(y_train[fit_idx].tolist())) == 2:
        vec = _vectorizer(tokenizer)
        x_fit = vec.fit_transform([train_text[i] for i in fit_idx])  # [n_fit, features] sparse
        x_hold = vec.transform([train_text[i] for i in hold])  # [n_hold, features] sparse
        for c in SETTINGS["c_grid"]:
            clf = _classifier(c).fit(x_fit, y_train[fit_idx])
            scores[f"{c:g}"] = float((clf.predict(x_hold) == y_train[hold]).mean())
    best_c = max(SETTINGS["c_grid"], key=lambda c: scores.get(f"{c:g}", 0.0)) if scores else SETTINGS["c_grid"][1]

    vec = _vectorizer(tokenizer)
    x_train = vec.fit_transform(train_text)  # [n_train, features] sparse
    clf = _classifier(best_c).fit(x_train, y_train)
    x_test = vec.transform(test_text)  # [n_test, features] sparse
    accuracy = float((clf.predict(x_test) == y_test).mean())
    result = {
        "method": METHOD,
        "accuracy": accuracy,
        "n_train": len(train_text),
        "n_test": len(test_text),
        "features": int(x_train.shape[1]),
        "C": float(best_c),
        "holdout_accuracy": scores,
        "settings": dict(SETTINGS),
        "seconds": time.perf_counter() - start,
    }
    return result, BaselineModel.from_sklearn(vec, clf, info=result)


def _key(source: Path, tokenizer: Tokenizer) -> dict[str, Any]:
    from importlib.metadata import version  # not ``import sklearn``: the page asks for the key on every rerun

    return {"format": FORMAT, "data": cache_key(source, tokenizer), "settings": SETTINGS,
            "sklearn": version("scikit-learn").split(".")[0]}


def _cache_file(data_dir: str | os.PathLike | None, key: dict[str, Any], suffix: str = ".json") -> Path:
    """The report (``.json``) or the fitted model (``.npz``) for ``key``."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    return cache_dir(data_dir) / f"imdb-baseline-{digest}{suffix}"


def _read(path: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != json.loads(json.dumps(key, sort_keys=True)):
        return None
    result = stored.get("result")
    return dict(result, from_cache=True) if isinstance(result, dict) and "accuracy" in result else None


def _write(path: Path, key: dict[str, Any], result: dict[str, Any], model: BaselineModel) -> None:
    """The report and the model beside it. Atomic; a folder that can't be written only costs a refit later."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path.with_suffix(".npz"), key)  # first: a report on disk promises the model is there too
        write_text_atomic(path, json.dumps({"key": key, "result": result}, indent=1, sort_keys=True))
    except OSError:
        pass


def _stored_key(data_dir: str | os.PathLike | None) -> dict[str, Any] | None:
    """The cache key for the IMDB data in ``data_dir``; None when the data is not there (never downloads)."""
    try:
        source = IMDB_FILE.ensure(data_dir, download_ok=False)
    except DownloadError:
        return None
    return _key(source, Tokenizer())


def cached_baseline(data_dir: str | os.PathLike | None = None) -> dict[str, Any] | None:
    """The cached result for the IMDB data in ``data_dir``, or None when it was never computed or the data
    is not there (never downloads, never fits)."""
    key = _stored_key(data_dir)
    return None if key is None else _read(_cache_file(data_dir, key), key)


def model_file(data_dir: str | os.PathLike | None = None) -> Path | None:
    """Where the fitted model for the IMDB data in ``data_dir`` is (or would be) stored; None without the data."""
    key = _stored_key(data_dir)
    return None if key is None else _cache_file(data_dir, key, ".npz")


def cached_model(data_dir: str | os.PathLike | None = None) -> BaselineModel | None:
    """The fitted baseline for the IMDB data in ``data_dir`` (≈ 1–2 s to read), or None when it was never fitted
    with this code, or the data is not there (never downloads, never fits)."""
    key = _stored_key(data_dir)
    return None if key is None else BaselineModel.load(_cache_file(data_dir, key, ".npz"), key)


def available_model_file(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The baseline to score with: this machine's own fit for the IMDB data in ``data_dir`` when there is one,
    else the bundled fit; None when neither is there."""
    own = model_file(data_dir)
    if own is not None and own.is_file():
        return own
    return BUNDLED_MODEL if BUNDLED_MODEL.is_file() else None


def available_model(data_dir: str | os.PathLike | None = None) -> BaselineModel | None:
    """The model at ``available_model_file`` (≈ 1–2 s to read); None when there is none, or it is damaged."""
    path = available_model_file(data_dir)
    if path is None:
        return None
    return cached_model(data_dir) if path != BUNDLED_MODEL else BaselineModel.load(path, key=None)


def baseline_accuracy(data_dir: str | os.PathLike | None = None, download_ok: bool = False,
                      recompute: bool = False) -> dict[str, Any]:
    """Test accuracy of TF-IDF + logistic regression on IMDB: the cached result, or fitted now and cached.

    Returns ``{"accuracy", "method", "n_train", "n_test", "features", "C", "seconds", "from_cache", ...}``.
    Raises DownloadError (with how to place the file) when the dataset is missing and ``download_ok`` is off.
    """
    source = IMDB_FILE.ensure(data_dir, download_ok=download_ok)
    tokenizer = Tokenizer()
    key = _key(source, tokenizer)
    if not recompute and (found := _read(_cache_file(data_dir, key), key)) is not None:
        return found
    return dict(_fit_and_store(source, tokenizer, data_dir)[0], from_cache=False)


def baseline_model(data_dir: str | os.PathLike | None = None, download_ok: bool = False) -> BaselineModel:
    """The fitted baseline for IMDB: the stored one, else fitted now (a few minutes) and stored with its report.
    Raises DownloadError (with how to place the file) when the dataset is missing and ``download_ok`` is off."""
    source = IMDB_FILE.ensure(data_dir, download_ok=download_ok)
    tokenizer = Tokenizer()
    key = _key(source, tokenizer)
    found = BaselineModel.load(_cache_file(data_dir, key, ".npz"), key)
    return found if found is not None else _fit_and_store(source, tokenizer, data_dir)[1]


def _fit_and_store(source: Path, tokenizer: Tokenizer,
                   data_dir: str | os.PathLike | None) -> tuple[dict[str, Any], BaselineModel]:
    key = _key(source, tokenizer)
    result, model = fit_baseline_model(load_corpus(source, tokenizer, cache_dir(data_dir)), tokenizer)
    _write(_cache_file(data_dir, key), key, result, model)
    return result, model
