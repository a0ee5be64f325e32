"""The Sentiment page's second opinion: the TF-IDF + logistic regression baseline's verdict and P(positive) for the
same text as the network's, with the words and word pairs that pushed it most. It scores with this machine's own fit,
else the fit bundled in pretrained/; with neither (a checkout without it), it offers to fit one."""

from __future__ import annotations

import streamlit as st

from rnn_core.baseline_model import BaselineModel, BaselineScore

LABEL_P, LABEL_VERDICT = "TF-IDF P(positive)", "TF-IDF verdict"
TOP_TERMS = 3  # terms listed each way
READ = ("How to read this: a bag of words and word pairs weighted by TF-IDF, then logistic regression, fitted on "
        "the 25,000 training reviews. It ignores word order beyond neighbouring pairs; a term's push is its TF-IDF "
        "weight times its coefficient, and the pushes add up to the logit of P(positive).")


@st.cache_resource(show_spinner="Loading the TF-IDF baseline…", max_entries=1)
def _load(path: str, mtime_ns: int) -> BaselineModel | None:
    # Keyed by the file's path and time, so a baseline fitted after the first look is picked up.
    from rnn_core.baseline import available_model

    return available_model()


def loaded() -> BaselineModel | None:
    """The baseline fitted on this machine, else the bundled one; None when neither is there."""
    from rnn_core.baseline import available_model_file

    path = available_model_file()
    if path is None:
        return None
    return _load(str(path), path.stat().st_mtime_ns)


def _fit_now() -> None:
    from rnn_core.baseline import baseline_model
    from rnn_core.data import DownloadError

    try:
        with st.spinner("Fitting TF-IDF + logistic regression on 25,000 reviews (a few minutes, once)…"):
            baseline_model()
    except (DownloadError, ValueError, OSError) as e:
        st.warning(f"Could not fit the baseline: {e}", icon=":material/warning:")
        return
    st.rerun()


def pushes_markdown(score: BaselineScore, k: int = TOP_TERMS) -> str:
    """'towards positive: great +0.41, … · towards negative: …' or '' when nothing pushed."""
    up, down = score.pushes(k)

    def fmt(items: list[tuple[str, float]]) -> str:
        return ", ".join(f"**{t}** {v:+.2f}" for t, v in items)

    parts = ([f"towards positive: {fmt(up)}"] if up else []) + ([f"towards negative: {fmt(down)}"] if down else [])
    return " · ".join(parts)


def show(text: str) -> None:
    """The baseline's P(positive) and verdict for ``text`` (two metrics), the terms that pushed it most, and a
    how-to-read line; a note and a fit button when there is no baseline on this machine."""
    st.markdown("**TF-IDF baseline** · a bag of words and word pairs")
    model = loaded()
    if model is None:
        st.caption("Not fitted on this machine yet: one fit on the 25,000 training reviews takes a few minutes, "
                   "then it loads in a second or two.")
        if st.button("Fit the baseline", key="sentiment_fit_baseline", icon=":material/functions:"):
            _fit_now()
        return
    score = model.score(text)
    sure = max(score.p_pos, 1 - score.p_pos)
    cols = st.columns(2)
    cols[0].metric(LABEL_P, f"{score.p_pos:.3f}")
    cols[1].metric(LABEL_VERDICT, "Positive" if score.prediction == "pos" else "Negative",
                   f"{sure:.0%} sure" + (" — a toss-up" if sure < 0.6 else ""), delta_color="off", delta_arrow="off",
                   help="Positive when P(positive) > 0.5.")
    if not score.terms:
        st.caption("None of these words is in its vocabulary, so this is its answer for an empty review.")
    elif pushed := pushes_markdown(score):
        st.markdown(f"Pushed most {pushed}")
    accuracy = model.info.get("accuracy")
    st.caption(READ + (f" Test accuracy {accuracy:.1%}." if isinstance(accuracy, float) else ""))
