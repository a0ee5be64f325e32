"""The fitted IMDB baseline (TF-IDF over words and word pairs + logistic regression) as plain arrays — its terms,
idf, coefficients and intercept — kept on disk as an .npz read with ``allow_pickle=False``, and scoring any text
exactly as the scikit-learn pipeline it came from does (same float32 / float64 steps, same summation order)."""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit

from .atomic import atomic_path
from .data.text import Tokenizer

FORMAT = 1  # bump when the stored arrays' meaning changes


@dataclass(frozen=True, eq=False)
class BaselineScore:
    """One text as the baseline read it."""

    p_pos: float  # P(positive)
    decision: float  # z, the logit of P(positive)
    terms: list[str]  # the words and word pairs it knows, in column order
    contributions: np.ndarray  # [len(terms)] x_t·β_t: each term's share of z − b (positive pushes towards "pos")
    n_tokens: int  # words in the text (known or not)

    @property
    def prediction(self) -> str:
        """"pos" or "neg", as sklearn's ``predict`` (positive when z > 0)."""
        return "pos" if self.decision > 0 else "neg"

    def pushes(self, k: int = 3) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The ``k`` terms that push most towards positive and towards negative, as (term, x_t·β_t)."""
        order = np.argsort(self.contributions, kind="stable")
        up = [(self.terms[i], float(self.contributions[i])) for i in order[::-1][:k] if self.contributions[i] > 0]
        down = [(self.terms[i], float(self.contributions[i])) for i in order[:k] if self.contributions[i] < 0]
        return up, down


@dataclass(frozen=True, eq=False)  # arrays inside: compare fields explicitly
class BaselineModel:
    """TF-IDF + binary logistic regression. For a text with term counts n_t (words, then word pairs):

        tf_t = 1 + ln n_t                (sublinear term frequency, float32)
        w_t  = tf_t · idf_t,   x = w / ‖w‖₂   (a text with no known term keeps x = 0)
        z    = b + Σ_t x_t β_t,   P(positive) = σ(z) = 1 / (1 + e^(−z))

    ``terms`` are sklearn's columns (sorted); ``info`` carries what the fit reported (accuracy, C, sizes).
    """

    terms: list[str]  # [features]
    idf: np.ndarray  # [features] float32
    coef: np.ndarray  # [features] float64, β
    intercept: float  # b
    ngram_max: int
    info: dict[str, Any] = field(default_factory=dict)
    tokenizer: Tokenizer = field(default_factory=Tokenizer)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (len(self.terms) == len(self.idf) == len(self.coef)):
            raise ValueError("terms, idf and coef must have one entry per feature")
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.terms)})

    @classmethod
    def from_sklearn(cls, vectorizer: Any, classifier: Any, info: dict[str, Any] | None = None) -> BaselineModel:
        """Take the arrays out of a fitted ``TfidfVectorizer`` (sublinear tf, l2 norm) and a binary
        ``LogisticRegression`` whose classes are 0 (negative) and 1 (positive)."""
        if [int(c) for c in classifier.classes_] != [0, 1]:
            raise ValueError("the classifier must have classes [0, 1] (negative, positive)")
        if not (vectorizer.sublinear_tf and vectorizer.norm == "l2" and vectorizer.ngram_range[0] == 1):
            raise ValueError("only sublinear tf, l2 norm and n-grams from 1 are reproduced")
        terms = [str(t) for t in vectorizer.get_feature_names_out()]
        return cls(terms, np.asarray(vectorizer.idf_, dtype=np.float32), np.asarray(classifier.coef_[0], np.float64),
                   float(classifier.intercept_[0]), int(vectorizer.ngram_range[1]), dict(info or {}),
                   vectorizer.tokenizer if isinstance(vectorizer.tokenizer, Tokenizer) else Tokenizer())

    # ------------------------------------------------------------------------------------------------ scoring
    def grams(self, words: list[str]) -> list[str]:
        """The words, then their word pairs (… up to ``ngram_max``-word runs), as sklearn's analyzer lists them."""
        out = list(words)
        for n in range(2, min(self.ngram_max, len(words)) + 1):
            out.extend(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))
        return out

    def score(self, text: str) -> BaselineScore:
        """P(positive) of ``text`` and each known term's contribution to the logit."""
        words = self.tokenizer(text)
        ids = [i for g in self.grams(words) if (i := self._index.get(g)) is not None]
        cols, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)  # [k] sorted, as sklearn's
        tf = counts.astype(np.float32)
        np.log(tf, out=tf)
        tf += np.float32(1.0)
        w = tf * self.idf[cols]  # [k] float32
        # sklearn's l2 norm: float32 squares summed one by one in float64 (cumsum sums in order, like its loop).
        sq = np.cumsum((w * w).astype(np.float64))  # [k]
        norm = float(np.sqrt(sq[-1])) if len(sq) else 0.0
        x = (w.astype(np.float64) / norm).astype(np.float32) if norm > 0 else w  # [k] float32
        parts = x.astype(np.float64) * self.coef[cols]  # [k] x_t·β_t
        z = (float(np.cumsum(parts)[-1]) if len(parts) else 0.0) + self.intercept  # scipy's sparse dot, in order
        return BaselineScore(p_pos=float(expit(z)), decision=z, terms=[self.terms[c] for c in cols],
                             contributions=parts, n_tokens=len(words))

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """[len(texts), 2]: P(negative), P(positive) per text — sklearn's ``predict_proba`` column order."""
        p = np.array([self.score(t).p_pos for t in texts], dtype=np.float64)  # [n]
        return np.stack([1 - p, p], axis=1)

    # ------------------------------------------------------------------------------------------------ storage
    def save(self, path: str | Path, key: dict[str, Any]) -> None:
        """Write atomically as .npz (no Python objects, so loading needs no pickle); ``key`` says what it was
        fitted on and is checked by ``load``."""
        meta = {"format": FORMAT, "key": key, "info": self.info, "ngram_max": self.ngram_max,
                "tokenizer": self.tokenizer.to_dict(), "intercept": self.intercept}
        arrays = {"meta": _blob(json.dumps(meta, sort_keys=True)), "terms": _blob("\n".join(self.terms)),
                  "idf": self.idf, "coef": self.coef}
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, allow_pickle=False, **arrays)

    @classmethod
    def load(cls, path: str | Path, key: dict[str, Any] | None) -> BaselineModel | None:
        """The model stored at ``path`` for ``key`` (None: whatever it was fitted on, for a bundled model); None
        when missing, for another key or format, or damaged."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(z["meta"].tobytes().decode("utf-8"))
                if meta.get("format") != FORMAT:
                    return None
                if key is not None and meta.get("key") != json.loads(json.dumps(key, sort_keys=True)):
                    return None
                blob = z["terms"].tobytes().decode("utf-8")
                return cls(blob.split("\n") if blob else [], z["idf"].astype(np.float32, copy=False),
                           z["coef"].astype(np.float64, copy=False), float(meta["intercept"]), int(meta["ngram_max"]),
                           dict(meta.get("info") or {}), Tokenizer.from_dict(meta.get("tokenizer") or {}))
        except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile, zlib.error):
            return None


def _blob(s: str) -> np.ndarray:
    return np.frombuffer(s.encode("utf-8"), dtype=np.uint8)
