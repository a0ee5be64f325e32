"""The Sentiment page's parts: reading one review with a trained IMDB model (P(positive) after every word and how
much each word moved it), the coloured words as HTML, the P(positive) curve, example reviews, random test
reviews, and the hand-over to the Inside page.

``analyse``, ``words_html`` and ``fig_curve`` are pure (no ``st.*``); the loaders use Streamlit's caches.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from rnn_core.runs import Run

from .. import run_access, session
from ..run_access import replay

MAX_CHARS = 1_000_000  # beyond this a paste is refused with a message (tokenizing it would stall the page)
POS_RGB, NEG_RGB = (33, 102, 172), (178, 24, 43)  # RdBu's ends: blue pushes towards positive, red towards negative
MIN_SCALE = 0.05  # a review whose words barely move P(positive) stays pale instead of being blown up
TICK_WORDS = 40  # up to this many steps the x axis is labelled with the words themselves
READ_WORDS = (
    "How to read this: each word's background shows how much reading it moved P(positive) — blue towards "
    "positive, red towards negative, deeper for bigger moves (hover a word for the numbers). Words with a dotted "
    "underline are out of the model's vocabulary: it reads them all as the same unknown word."
)
READ_CURVE = (
    "How to read this: the line is P(positive) after each word — what the model would answer if the review ended "
    "there. Above the dashed 0.5 line (blue) it leans positive, below (red) negative; steep steps are the words "
    "that mattered. Hover for the word and the exact value."
)

EXAMPLES = {
    "Loved it": "One of the best films I have seen in years. The acting is superb, the story is moving and the "
                "ending left me in tears. A wonderful, beautiful movie — I would watch it again tomorrow.",
    "Hated it": "What a waste of two hours. The plot makes no sense, the dialogue is awful and the acting is even "
                "worse. Boring from start to finish; I nearly walked out. Avoid this mess.",
    "Turns sour": "The first half is brilliant: great performances, a clever script and gorgeous photography. Then "
                  "it falls apart. The last hour is dull, predictable and far too long, and the ending is stupid.",
    "Not bad": "I expected a terrible movie, but it was not bad at all. Not a masterpiece, sure, yet funny, "
               "warm and never boring.",
}


@dataclass
class Analysis:
    """One review as the model read it. Step 0 is the start mark unless maxlen cut the review's beginning."""

    tokens: list[str]  # the words read, in order
    oov: list[bool]  # [seq] out of vocabulary
    p_pos: np.ndarray  # [seq] P(positive) after each step
    push: np.ndarray  # [seq] change of P(positive) that step made (step 0: from the empty-state answer)
    prior: float  # P(positive) before reading anything (the head applied to the zero state)
    prediction: str  # "pos" or "neg"
    p_final: float  # P(positive) for the whole review
    cut: int  # positions maxlen removed from the front (or back)
    n_words: int  # real words read (the start mark not counted)
    n_oov: int

    @property
    def label(self) -> str:
        return "Positive" if self.prediction == "pos" else "Negative"


def analyse(model: Any, task: Any, text: str) -> Analysis:
    """Run ``text`` through ``model`` (an IMDB classifier) and return what it read and said after each word.

    push[t] = P_t(pos) − P_{t−1}(pos), with P_{−1} the answer for the empty state (the head on a zero state:
    softmax of its bias). Raises ValueError with a readable message for non-text or text longer than MAX_CHARS
    characters.
    """
    if not isinstance(text, str):
        raise ValueError(f"a review must be text, not {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ValueError(f"this text has {len(text):,} characters; paste at most {MAX_CHARS:,} (a long review is "
                         f"about 10,000)")
    enc = task.encode_text(text)
    rep = replay(model, task, text, full=False)  # only the head's output: P(positive) after every word
    pos = task.labels.index("pos")
    p_pos = rep.prediction.values[:, pos]  # [seq]
    final = task.decode(torch.from_numpy(rep.logits[-1]))  # the whole review read
    prior = task.decode(model.head.bias.detach())["probabilities"]["pos"]  # the zero state's answer
    push = np.diff(p_pos, prepend=prior)  # [seq]
    return Analysis(tokens=list(enc.tokens), oov=list(enc.oov), p_pos=p_pos, push=push, prior=float(prior),
                    prediction=final["prediction"], p_final=float(final["probabilities"]["pos"]), cut=int(enc.cut),
                    n_words=len(enc.tokens) - (enc.tokens[:1] == ["<start>"]),  # the tokenizer drops "<", ">"
                    n_oov=int(sum(enc.oov)))


def _background(push: float, scale: float) -> tuple[str, str]:
    """(background css, text colour) for a word that moved P(positive) by ``push``."""
    a = min(1.0, abs(push) / scale) * 0.85
    r, g, b = POS_RGB if push >= 0 else NEG_RGB
    return f"rgba({r},{g},{b},{a:.2f})", "#ffffff" if a > 0.5 else "#1f2430"


def words_html(a: Analysis, max_words: int | None = None) -> str:
    """The words the model read as HTML spans coloured by their push (every word escaped). A cut beginning is
    announced in front; the start mark is left out; out-of-vocabulary words get a dotted underline."""
    scale = max(MIN_SCALE, float(np.abs(a.push).max(initial=0.0)))
    parts = []
    if a.cut:
        parts.append(f'<span style="color:#6b7280;font-style:italic">[{a.cut:,} earlier words not read — the model '
                     f'reads the last {len(a.tokens):,}] </span>')
    for i, (tok, oov, push, p) in enumerate(zip(a.tokens, a.oov, a.push, a.p_pos)):
        if i == 0 and tok == "<start>":
            continue
        bg, fg = _background(float(push), scale)
        title = f"{tok}: {push:+.3f} → P(positive) {p:.3f}" + (" · out of vocabulary" if oov else "")
        deco = "text-decoration:underline dotted #6b7280;text-underline-offset:3px;" if oov else ""
        parts.append(f'<span title="{html.escape(title)}" style="background:{bg};color:{fg};{deco}'
                     f'padding:1px 3px;border-radius:3px;margin:1px;display:inline-block">{html.escape(tok)}</span>')
        if max_words is not None and len(parts) >= max_words:
            break
    return '<div style="line-height:1.9;font-size:0.95rem">' + " ".join(parts) + "</div>"


def _with_crossings(x: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points of (x, p) plus, inside every segment that crosses 0.5, the point where it does."""
    d = p - 0.5
    k = np.flatnonzero(d[:-1] * d[1:] < 0)  # segments k → k+1 that cross
    t = d[k] / (d[k] - d[k + 1])  # fraction of the way along each
    xs = np.concatenate([x, x[k] + t])
    order = np.argsort(xs, kind="stable")
    return xs[order], np.concatenate([p, np.full(len(k), 0.5)])[order]


def fig_curve(a: Analysis, height: int = 300) -> go.Figure:
    """P(positive) after each word: a line over shaded leaning-positive / leaning-negative areas, 0.5 dashed."""
    x = np.arange(len(a.tokens))
    p = a.p_pos
    hover = [f"{t}{' (unknown word)' if o else ''}" for t, o in zip(a.tokens, a.oov)]
    fx, fp = _with_crossings(x.astype(float), p)  # shading meets the 0.5 line exactly where the curve crosses it
    fig = go.Figure()
    for part, rgb, name in ((np.maximum(fp, 0.5), POS_RGB, "leans positive"),
                            (np.minimum(fp, 0.5), NEG_RGB, "leans negative")):
        fig.add_trace(go.Scatter(x=fx, y=np.full(len(fx), 0.5), mode="lines", line={"width": 0}, hoverinfo="skip",
                                 showlegend=False))
        fig.add_trace(go.Scatter(x=fx, y=part, mode="lines", line={"width": 0}, fill="tonexty", name=name,
                                 fillcolor="rgba({},{},{},0.18)".format(*rgb), hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(
        x=x, y=p, mode="lines+markers" if len(x) <= 120 else "lines", name="P(positive)",
        line={"color": "#1f2430", "width": 1.6}, marker={"size": 5, "color": "#1f2430"},
        customdata=np.stack([a.push, np.arange(len(x))], axis=1), text=hover,
        hovertemplate="%{text}<br>P(positive) %{y:.3f}<br>this word %{customdata[0]:+.3f}<extra></extra>"))
    fig.add_hline(y=0.5, line={"dash": "dash", "color": "#9ca3af", "width": 1})
    xaxis: dict[str, Any] = {"title": "word read", "range": [-0.5, max(len(x) - 0.5, 0.5)], "showgrid": False}
    if len(x) <= TICK_WORDS:
        xaxis.update(tickmode="array", tickvals=x.tolist(), ticktext=[t[:14] for t in a.tokens], tickangle=-50)
    fig.update_layout(height=height, margin={"l": 50, "r": 10, "t": 10, "b": 10}, xaxis=xaxis, hovermode="closest",
                      yaxis={"title": "P(positive)", "range": [0, 1], "tickvals": [0, 0.25, 0.5, 0.75, 1]},
                      plot_bgcolor="#ffffff", showlegend=False)
    return fig


# -------------------------------------------------------------------------------------------- loading
@st.cache_data(max_entries=64, show_spinner=False)
def _analyse_cached(path: str, stamp: str, text: str) -> Analysis:
    run = run_access.load(path)
    return analyse(run.model, run.task, text)


def analyse_cached(run: Run, text: str) -> Analysis:
    """``analyse`` for a run and text; recomputed only when either changes (a rerun with the same text is free)."""
    return _analyse_cached(str(run.path), run_access.run_stamp(run.path), text)


@st.cache_resource(show_spinner="Reading the IMDB test reviews…")
def test_reviews():
    """The 25,000 test reviews (text, label, rating, id) from the data folder; DownloadError when absent."""
    from rnn_core.data import cache_dir
    from rnn_core.data.aclimdb import load_corpus
    from rnn_core.data.text import Tokenizer
    from rnn_core.tasks.imdb import IMDB_FILE

    return load_corpus(IMDB_FILE.ensure(None, download_ok=False), Tokenizer(), cache_dir(None)).test


def random_review(reviews, rng: np.random.Generator) -> dict[str, Any]:
    """One random test review as {"text", "label" ("neg"/"pos"), "rating", "review_id"}."""
    i = int(rng.integers(len(reviews)))
    return {"text": reviews.text_of(i), "label": ("neg", "pos")[int(reviews.labels[i])],
            "rating": int(reviews.ratings[i]), "review_id": int(reviews.review_ids[i])}


def inside_input(run: Run, text: str, a: Analysis) -> dict[str, Any]:
    """What the Inside page needs to replay this review (stored under ``session.INSIDE_INPUT``)."""
    return {"run": str(run.path), "run_name": run.name, "task": "imdb", "text": text, "tokens": list(a.tokens),
            "cut": a.cut, "source": "pages/sentiment.py"}


MAX_LINK_CHARS = 2000  # longer reviews are not put in the address bar (browsers and servers cap URL length)


def text_from_link() -> None:
    """A ``?review=`` in the address bar (a shared link) fills the review box — once per link, so typing wins."""
    linked = st.query_params.get("review")
    if linked and linked != st.session_state.get(session.SENTIMENT_LINKED):
        st.session_state[session.SENTIMENT_TEXT] = linked[:MAX_LINK_CHARS]
        st.session_state[session.SENTIMENT_LINKED] = linked


def text_to_link(text: str) -> None:
    """Keep the review in the address bar (``?review=``), or none when it is too long for a link."""
    if text and len(text) <= MAX_LINK_CHARS:
        st.query_params["review"] = st.session_state[session.SENTIMENT_LINKED] = text
    else:
        st.query_params.pop("review", None)
