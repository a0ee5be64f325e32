"""Tagging: type a sentence and see each word's part of speech (confidence, runner-up), check a random test
sentence against its gold tags, switch the backward direction off, and look inside the word and character
networks."""

import numpy as np
import streamlit as st

from app import run_access, session
from app.inside.data import direction_views
from app.inside.figure import CAPTION, fig_unrolled
from app.playgrounds import live_typing
from app.quote import quote
from app.tagging import analysis as A
from app.tagging import figures as F
from rnn_core.tasks.pos import MAX_WORDS, clip_chars

EXAMPLES = {"Book a flight": "Book a flight to Boston and I will book a table.",
            "Unseen words": "The flibbery wugs glorped quickly over 3 zorbles at https://example.com!",
            "Same word, two tags": "I saw her saw the old log with a saw."}


def _place(text: str, truth: dict | None = None) -> None:
    st.session_state[session.TAGGING_TEXT] = text
    st.session_state[session.TAGGING_TRUTH] = truth


st.title("Tagging")
st.write("A tagger reads each word's letters with a character network and the sentence with a word network, "
         "forward and backward, and names every word's part of speech (17 universal tags). Type a sentence — "
         "the tags follow your typing — or draw a random sentence from the English-EWT test set.")
run = run_access.pick_run("pos", "tagging.run", "No tagging model yet. Train one on the Train page (task pos), "
                          "or run `python -m rnn_core train --task pos`.")
path, stamp = str(run.path), run_access.run_stamp(str(run.path))
st.session_state.setdefault(session.TAGGING_TEXT, EXAMPLES["Book a flight"])
with st.container(horizontal=True):
    for name, example in EXAMPLES.items():
        st.button(name, on_click=_place, args=(example,), key=f"tagging.example.{name}")
    if st.button("Random test sentence", icon=":material/casino:", key="tagging.random"):
        s = A.random_sentence(A.test_sentences(path, stamp), np.random.default_rng())
        _place(" ".join(s["words"]), s)
        st.rerun()
text = st.text_area("Sentence", key=session.TAGGING_TEXT, height=80, max_chars=5000,
                    placeholder="Type a sentence…")
live_typing.follow_typing(session.TAGGING_TEXT)

truth = st.session_state.get(session.TAGGING_TRUTH) or {}
gold = truth.get("tags") if truth.get("words") and " ".join(truth["words"]) == text else None
t = A.tag_cached(path, stamp, text, tuple(truth["words"]) if gold else None)
if not t.words:
    st.info("Type a sentence (words, numbers or punctuation) to see its tags.", icon=":material/edit:")
    st.stop()
if t.cut:
    st.warning(f"Only the first {MAX_WORDS} words are tagged; {t.cut:,} more were cut.", icon=":material/content_cut:")
st.html(F.chips_html(t.words, t.tags, t.confidence, t.runner_up, t.runner_up_p, t.seen, gold))
st.caption(F.READ_CHIPS)
if gold:
    wrong = sum(a != b for a, b in zip(t.tags, gold))
    st.caption(f"Test sentence {truth.get('sent_id', '')}: {len(gold) - wrong} of {len(gold)} tags right.")
unseen = sum(not s for s in t.seen)
st.caption(f"{len(t.words)} words · {unseen} not seen in training · " + F.legend_html(sorted(set(t.tags))),
           unsafe_allow_html=True)

if t.off is not None:
    st.subheader("Backward direction off")
    st.write("The same network with the backward direction's hidden state zeroed at every step (a hook on "
             "`layers.*.bwd.hook_h`, not a second model): each tag is then read from the words before it only.")
    st.html(F.chips_html(t.words, t.off, changed=t.changed, gold=gold))
    st.caption(f"How to read this: {len(t.changed)} of {len(t.words)} tags change (amber ring) when the model "
               "cannot look ahead; red outlines are wrong tags when the sentence is a test sentence.")

st.subheader("On the test set")
rep = A.test_report(path, stamp)
cols = st.columns(4)
cols[0].metric("Accuracy, all words", f"{rep['on']['accuracy']:.1%}", help=f"{rep['on']['n']:,} test words")
cols[1].metric("Words seen in training", f"{rep['on']['known_accuracy']:.1%}")
cols[2].metric("Unseen words", f"{rep['on']['unknown_accuracy']:.1%}", help=f"{rep['on']['n_unknown']:,} words")
if "off" in rep:
    cols[3].metric("Backward direction off", f"{rep['off']['accuracy']:.1%}",
                   f"{rep['off']['accuracy'] - rep['on']['accuracy']:+.1%}",
                   help=f"{rep['changed']:,} test words change their tag")
st.plotly_chart(F.fig_confusion(rep["confusion"], rep["labels"]), key="tagging.confusion")
st.caption(F.READ_CONFUSION)

st.subheader("Inside")
m = run.model_cfg
dirs = ("fwd", "bwd") if m.bidirectional else ("fwd",)
layer = m.num_layers - 1
st.plotly_chart(fig_unrolled(direction_views(t.cache, layer, dirs, m.cell), t.words, m.cell,
                             window=(0, min(len(t.words), 25))),
                key="tagging.inside.words", theme=None)
st.caption("Word network, last layer: forward and backward side by side, one column per word. " + CAPTION)
i = st.selectbox("Characters of word", range(len(t.words)), format_func=lambda k: f"{k}: {t.words[k]}",
                 key="tagging.char_word")
chars = list(clip_chars(t.words[i]))
st.plotly_chart(fig_unrolled(direction_views(A.char_views(t, i), 0, dirs, m.cell), chars, m.cell),
                key="tagging.inside.chars", theme=None)
st.caption(f"Character network over “{quote(t.words[i])}”: its final states (forward after the last letter, backward "
           "after the first) are what joins the word's embedding. " + CAPTION)
