"""The Tagging page: typed text is tagged word by word (tag, confidence, runner-up; unseen words marked; text
escaped), empty and very long input give a message, a random test sentence shows its gold tags and mistakes,
the backward direction can be zeroed and its changed tags are marked, the test set is scored (all / seen / unseen
words, confusion matrix), and the word and character networks are drawn."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import session
from app.tagging import analysis as A
from app.tagging import figures as F
from rnn_core.runs import load_run
from rnn_core.tasks.pos import MAX_WORDS
from tests.apptest_helpers import figures

REPO = Path(__file__).resolve().parents[1]
APP, PAGE = str(REPO / "streamlit_app.py"), "pages/tagging.py"
BUNDLED = REPO / "pretrained" / "pos-bilstm"


@pytest.fixture(scope="module")
def run():
    return load_run(BUNDLED)


def page(text: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    if text is not None:
        at.text_area(key=session.TAGGING_TEXT).set_value(text).run()
        assert not at.exception, at.exception
    return at


def html_of(at: AppTest) -> str:
    return "".join(h.proto.body for h in at.get("html"))


# ------------------------------------------------------------------------------------------ pure parts
def test_tags_confidence_and_runner_up_of_a_typed_sentence(run):
    t = A.tag_words(run, text="I will book a flight to Boston.")
    assert t.words == ["I", "will", "book", "a", "flight", "to", "Boston", "."]
    assert t.tags == ["PRON", "AUX", "VERB", "DET", "NOUN", "ADP", "PROPN", "PUNCT"]
    assert all(0.0 < r <= c <= 1.0 for c, r in zip(t.confidence, t.runner_up_p))
    assert all(a != b for a, b in zip(t.tags, t.runner_up))
    assert t.off is not None and len(t.off) == len(t.words)


def test_unseen_words_punctuation_numbers_and_urls(run):
    t = A.tag_words(run, text="The wugs were zibbling the zorbles quickly.")
    assert t.tags == ["DET", "NOUN", "AUX", "VERB", "DET", "NOUN", "ADV", "PUNCT"]  # unseen words by their letters
    assert [w for w, s in zip(t.words, t.seen) if not s] == ["wugs", "zibbling", "zorbles"]
    t = A.tag_words(run, text="Email bob@example.com or visit www.example.org, it costs $3.50!")
    by = dict(zip(t.words, t.tags))
    assert by["$"] == "SYM" and by["3.50"] == "NUM" and by[","] == by["!"] == "PUNCT"
    assert by["bob@example.com"] in ("PROPN", "X", "NOUN") and by["www.example.org"] in ("PROPN", "X", "NOUN")


def test_chips_escape_text_and_mark_mistakes_and_changes():
    html = F.chips_html(["<b>x</b>", "y"], ["NOUN", "VERB"], [0.9, 0.6], ["PROPN", "NOUN"], [0.05, 0.3],
                        [False, True], gold=["NOUN", "AUX"], changed=[0])
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "right: <b>AUX</b>" in html and "not seen in training" in html and "#f59e0b" in html
    assert "then PROPN 5%" in html


# ------------------------------------------------------------------------------------------ the page
@pytest.mark.slow
def test_page_tags_typed_text_and_scores_the_test_set():
    at = page("I will book a flight.")
    body = html_of(at)
    for word, tag in [("book", "VERB"), ("flight", "NOUN"), ("I", "PRON")]:
        assert f">{word}</span>" in body and f"<b>{tag}</b>" in body
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["Accuracy, all words"].rstrip("%")) >= 93.0
    assert float(metrics["Unseen words"].rstrip("%")) < float(metrics["Words seen in training"].rstrip("%"))
    assert float(metrics["Backward direction off"].rstrip("%")) < float(metrics["Accuracy, all words"].rstrip("%"))
    assert len(at.get("plotly_chart")) == 3  # confusion matrix, word network, character network
    assert any("tags change" in c.value for c in at.caption)


@pytest.mark.slow
def test_page_empty_long_and_random_test_sentence():
    at = page("")
    assert any("Type a sentence" in i.value for i in at.info)
    at.text_area(key=session.TAGGING_TEXT).set_value("word " * (MAX_WORDS + 5)).run()
    assert any("5 more were cut" in w.value for w in at.warning)
    at.button(key="tagging.random").click().run()
    assert not at.exception, at.exception
    assert any("tags right" in c.value for c in at.caption)
    truth = at.session_state[session.TAGGING_TRUTH]
    assert at.text_area(key=session.TAGGING_TEXT).value == " ".join(truth["words"])


@pytest.mark.slow
def test_inside_page_opens_a_tagging_run_on_a_dev_sentence_and_typed_text():
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("pages/inside.py").run()
    at.selectbox(key="inside.run").set_value(str(REPO / "pretrained" / "pos-bilstm")).run()  # values are run folders
    assert not at.exception, at.exception
    assert any(t["type"] == "heatmap" for f in figures(at) for t in f["data"]), "the unrolled figure is drawn"
    at.radio(key="inside.source").set_value("Your own input").run()
    at.text_area(key="inside.text.pos").set_value("I will book a flight.").run()
    assert not at.exception, at.exception
