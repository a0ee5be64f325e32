"""Each word's weight in a TF-IDF + logistic regression sentiment model — the yardstick the per-word kicks along
a trained network's line attractor are ranked against. Fitted on the training reviews' tokens (the corpus the
RNN reads), unigrams over the model's own vocabulary, and cached in the data cache folder."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ..baseline import SETTINGS

FORMAT = 1
C = 1.0  # inverse regularisation: fixed, not tuned — the ranking of weights barely moves with it


def word_weights(num_words: int, data_dir: str | os.PathLike | None = None) -> np.ndarray:
    """Logistic-regression weight [num_words] of each IMDB token id (positive = evidence for a positive review);
    ids that are not words (padding, start, out-of-vocabulary) get NaN. Cached; ~10 s to fit on 2 cores.

    Unlike the baseline (``rnn_core.baseline``: words and word pairs over every word seen twice), the features are
    single words and only the ``num_words`` the RNN can tell apart, so each word has exactly one weight to compare
    with the network's; term frequency is sublinear as in the baseline.
    """
    from ..data import cache_dir
    from ..data.aclimdb import cache_key, load_corpus
    from ..data.text import Tokenizer
    from ..tasks.imdb import IMDB_FILE

    source = IMDB_FILE.ensure(data_dir, download_ok=False)
    key = {"format": FORMAT, "data": cache_key(source, Tokenizer()), "num_words": num_words, "C": C,
           "sublinear_tf": SETTINGS["sublinear_tf"]}
    path = cache_dir(data_dir) / f"imdb-word-weights-{_digest(key)}.npy"
    if path.is_file():
        try:
            found = np.load(path, allow_pickle=False)
            if found.shape == (num_words,):
                return found
        except (OSError, ValueError):
            pass
    corpus = load_corpus(source, Tokenizer(), cache_dir(data_dir))
    weights = _fit(corpus.train, num_words)
    _save(path, weights)
    return weights


def _fit(train, num_words: int) -> np.ndarray:
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    from ..data.text import INDEX_FROM
    from ..tasks.imdb import word_ids

    ids = word_ids(train.ranks, num_words, int(train.ranks.max(initial=0)))  # [tokens]
    rows = np.repeat(np.arange(len(train)), np.diff(train.offsets))  # [tokens]
    words = ids > INDEX_FROM  # padding / start / OOV / unused ids are not words
    counts = csr_matrix((np.ones(int(words.sum()), dtype=np.float32), (rows[words], ids[words])),
                        shape=(len(train), num_words))  # [reviews, ids]; duplicates add up
    tfidf = TfidfTransformer(sublinear_tf=SETTINGS["sublinear_tf"]).fit_transform(counts)  # [reviews, ids]
    clf = LogisticRegression(C=C, solver="liblinear", max_iter=1000).fit(tfidf, np.asarray(train.labels))
    weights = clf.coef_[0].astype(np.float64)  # [ids]
    weights[: INDEX_FROM + 1] = np.nan
    return weights


def _digest(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]


def _save(path: Path, weights: np.ndarray) -> None:
    """Atomic; a cache folder that cannot be written only costs a refit next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.npy")
        np.save(tmp, weights)
        os.replace(tmp, path)
    except OSError:
        pass
