"""Sentiment playground: type or pick a movie review and see P(positive), how it moved word by word, and which
words moved it, beside a TF-IDF baseline's verdict; one click opens the Inside view for the same review."""

import numpy as np
import streamlit as st

from app import nav, run_access, session
from app.playgrounds import live_typing, sentiment, sentiment_baseline


def _place(text: str, truth: dict | None = None) -> None:
    st.session_state[session.SENTIMENT_TEXT] = text
    st.session_state[session.SENTIMENT_TRUTH] = truth


def _place_random() -> None:
    try:
        review = sentiment.random_review(sentiment.test_reviews(), np.random.default_rng())
    except (RuntimeError, OSError, ValueError) as e:  # DownloadError (a RuntimeError) when the data is absent
        st.session_state[session.SENTIMENT_TRUTH] = {"error": str(e)}
        return
    _place(review["text"], review)


st.title("Sentiment")
st.write(
    "Type a movie review — or pick an example, or draw a random one from the 25,000 IMDB test reviews — and a "
    "recurrent network trained on IMDB says whether it is positive or negative. It reads the review one word at a "
    "time, so below the answer you can see what it would have said after every word, and which words pushed it "
    "towards positive (blue) or negative (red). The answer follows your typing a moment after you pause."
)

run = run_access.pick_run("imdb", session.SENTIMENT_RUN, "No IMDB model yet. Train one on the Train page (task "
                          "imdb), or from a terminal: `python -m rnn_core train --task imdb --preset default`.")

sentiment.text_from_link()  # ?review=… (a shared link) sets the box once
st.session_state.setdefault(session.SENTIMENT_TEXT, sentiment.EXAMPLES["Turns sour"])
with st.container(horizontal=True):
    for name, text in sentiment.EXAMPLES.items():
        st.button(name, on_click=_place, args=(text,), key=f"example_{name}")
    st.button("Random test review", icon=":material/casino:", on_click=_place_random, key="random_review")
text = st.text_area("Review", key=session.SENTIMENT_TEXT, height=150, placeholder="Type or paste a movie review…")
live_typing.follow_typing(session.SENTIMENT_TEXT)
sentiment.text_to_link(text)  # the address bar holds the review, so a shared link reproduces the verdict

truth = st.session_state.get(session.SENTIMENT_TRUTH) or {}
if "error" in truth:
    st.warning(f"Could not read the IMDB test reviews: {truth['error']}", icon=":material/database:")
try:
    a = sentiment.analyse_cached(run, text)
except ValueError as e:
    st.warning(str(e), icon=":material/warning:")
    st.stop()

if a.n_words == 0:
    st.info("Type a review (words, not only punctuation) to see what the model thinks of it.",
            icon=":material/edit:")
    st.stop()

network, baseline = (c.container(border=True) for c in st.columns(2))
with network:
    st.markdown(f"**Recurrent network** · {run.name}")
    cols = st.columns(2)
    cols[0].metric("P(positive)", f"{a.p_final:.3f}")
    sure = max(a.p_final, 1 - a.p_final)
    cols[1].metric("Verdict", a.label, f"{sure:.0%} sure" + (" — a toss-up" if sure < 0.6 else ""),
                   delta_color="off", delta_arrow="off", help="Positive when P(positive) ≥ 0.5.")
with baseline:
    sentiment_baseline.show(text)  # the bag-of-words verdict on the same text, as the bar the network should clear
if truth.get("text") == text and "label" in truth:
    right = truth["label"] == a.prediction
    verdict = "right" if right else "wrong"
    (st.success if right else st.error)(
        f"True label: **{'positive' if truth['label'] == 'pos' else 'negative'}** — rated {truth['rating']}/10 "
        f"(test review {truth['review_id']}). The network is {verdict}.")
notes = [f"{a.n_words:,} words read"]
if a.n_oov:
    notes.append(f"{a.n_oov:,} out of vocabulary")
if a.cut:
    notes.append(f"the first {a.cut:,} words were cut (the model reads at most {len(a.tokens):,})")
st.caption(" · ".join(notes))
if a.n_oov > 0.5 * a.n_words:
    st.warning("Most of these words are unknown to the model: it learned English movie reviews, so emoji and other "
               "languages all read as one 'unknown word'. Its answer here means little.", icon=":material/translate:")

with st.container(height=260 if a.n_words > 150 else "content"):  # a long review scrolls in its own box
    st.html(sentiment.words_html(a))
st.caption(sentiment.READ_WORDS)
st.plotly_chart(sentiment.fig_curve(a), key="sentiment_curve", config={"displaylogo": False})
st.caption(sentiment.READ_CURVE)

if nav.exists("pages/inside.py") and st.button(
    "Look inside: hidden state and gates for this review", icon=":material/visibility:", type="primary",
    key="look_inside",
):
    st.session_state[session.INSIDE_INPUT] = sentiment.inside_input(run, text, a)
    session.set_current_run(run.name)
    st.switch_page("pages/inside.py")
