"""The Sentiment page: the bundled IMDB model reads the examples the right way round, P(positive) after every word
matches reading the review only up to that word, words are escaped and coloured by their push, long pastes,
empty text, emoji and other languages give a message or a sane answer, a random test review shows its true
label, other IMDB runs can be picked, Inside gets the review, and the Train page shows the baseline for IMDB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import run_access, session
from app.playgrounds import sentiment as S
from app.train.baseline import BASELINE_LABEL
from rnn_core.model import build_model
from rnn_core.runs import load_run, save_run
from tests.apptest_helpers import figures

REPO = Path(__file__).resolve().parents[1]
APP, PAGE = str(REPO / "streamlit_app.py"), "pages/sentiment.py"


@pytest.fixture(scope="module")
def bundled():
    runs = [r for r in run_access.usable_runs("imdb") if r["pretrained"]]
    assert runs, "pretrained/ must ship an IMDB run (see README, Pretrained runs)"
    return load_run(runs[0]["path"])


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(tmp_path))
    return tmp_path


def page(text: str | None = None) -> AppTest:
    """A fresh session on the whole app, opened on the Sentiment page (with ``text`` typed in the box)."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    if text is not None:
        at.text_area(key=session.SENTIMENT_TEXT).set_value(text).run()
        assert not at.exception, at.exception
    return at


def html_of(at: AppTest) -> str:
    return "".join(h.proto.body for h in at.get("html"))


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


# ------------------------------------------------------------------------------------------ pure parts
def test_each_step_is_what_the_model_says_for_the_review_cut_there(bundled):
    text = "The acting was superb, but the plot was dull and the ending awful."
    a = S.analyse(bundled.model, bundled.task, text)
    words = bundled.task.tokenizer(text)
    assert a.tokens == ["<start>", *words] and a.n_words == len(words) and a.cut == 0
    for k in (1, 4, len(words)):
        prefix = S.analyse(bundled.model, bundled.task, " ".join(words[:k]))
        assert a.p_pos[k] == pytest.approx(prefix.p_final, abs=1e-5)
    assert a.p_final == pytest.approx(a.p_pos[-1], abs=1e-5)
    # Pushes add up (telescoping) to the change from the empty state's answer to the final one.
    assert a.push.sum() == pytest.approx(a.p_final - a.prior, abs=1e-6)


def test_words_are_escaped_coloured_by_push_and_unknown_ones_marked():
    a = S.Analysis(tokens=["<start>", "great", "<script>alert(1)</script>", "awful"], oov=[False, False, True, False],
                   p_pos=np.array([0.5, 0.9, 0.9, 0.2]), push=np.array([0.0, 0.4, 0.0, -0.7]), prior=0.5,
                   prediction="neg", p_final=0.2, cut=0, n_words=3, n_oov=1)
    out = S.words_html(a)
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "&lt;start&gt;" not in out  # the start mark is not a word
    spans = out.split("<span")[1:]
    assert "rgba(33,102,172" in spans[0] and "rgba(178,24,43,0.85)" in spans[2]  # blue up; the biggest move, deepest
    assert "dotted" in spans[1] and "dotted" not in spans[0]


def test_curve_shading_meets_the_half_line_where_the_curve_crosses():
    a = S.Analysis(tokens=["<start>", "a", "b"], oov=[False] * 3, p_pos=np.array([0.4, 0.8, 0.3]),
                   push=np.array([-0.1, 0.4, -0.5]), prior=0.5, prediction="neg", p_final=0.3, cut=0, n_words=2,
                   n_oov=0)
    fig = S.fig_curve(a)
    line = fig.data[-1]
    assert list(line.y) == [0.4, 0.8, 0.3] and list(line.text) == ["<start>", "a", "b"]
    upper = fig.data[1]  # the leaning-positive band
    assert list(upper.x) == pytest.approx([0, 0.25, 1, 1.6, 2])


# ------------------------------------------------------------------------------------------------ page
def test_page_shows_probability_verdict_coloured_words_and_curve_with_captions():
    at = page()
    assert at.title[0].value == "Sentiment"
    p = float(metric(at, "P(positive)"))
    assert 0 <= p <= 1 and metric(at, "Verdict") == ("Positive" if p >= 0.5 else "Negative")
    assert html_of(at).count("<span") > 20
    assert len(at.get("plotly_chart")) == 1
    assert {S.READ_WORDS, S.READ_CURVE} <= {c.value for c in at.caption}  # (the baseline's box has its own)


@pytest.mark.parametrize(("button", "verdict"), [("Loved it", "Positive"), ("Hated it", "Negative")])
def test_examples_read_the_right_way_round(button, verdict):
    at = page()
    at.button(key=f"example_{button}").click().run()
    assert at.text_area(key=session.SENTIMENT_TEXT).value == S.EXAMPLES[button]
    assert metric(at, "Verdict") == verdict


@pytest.mark.parametrize("text", ["", "   ", "?!... -- ;)"])
def test_empty_text_asks_for_a_review(text):
    at = page(text)
    assert "Type a review" in at.info[0].value and not at.metric


def test_a_100000_character_paste_is_read_and_the_cut_is_said():
    text = ("A good film with a great cast but a dull script. " * 2100)[:100_000]
    at = page(text)
    assert metric(at, "Verdict") in ("Positive", "Negative")
    caption = " ".join(c.value for c in at.caption)
    assert "words were cut" in caption and "reads at most 500" in caption
    assert "earlier words not read" in html_of(at)


def test_too_long_a_paste_gets_a_message_not_an_error():
    at = page("word " * (S.MAX_CHARS // 5 + 1))
    assert "paste at most" in at.warning[0].value and not at.metric


@pytest.mark.parametrize("text", ["😀🎬🍿 🤩🤩", "这部电影非常好看，演员也很棒"  # noqa: RUF001 - the full-width comma is part of the test,
                                  "Una película preciosa, me encantó muchísimo"])
def test_emoji_and_other_languages_give_an_answer_and_a_warning(text):
    at = page(text)
    assert 0 <= float(metric(at, "P(positive)")) <= 1
    assert any("unknown to the model" in w.value for w in at.warning)


def test_random_test_review_shows_its_true_label_and_rating():
    at = page()
    at.button(key="random_review").click().run()
    assert not at.exception, at.exception
    note = (at.success or at.error)[0].value
    assert "True label" in note and "rated" in note and "/10" in note
    assert at.text_area(key=session.SENTIMENT_TEXT).value == at.session_state[session.SENTIMENT_TRUTH]["text"]
    # Typing something else drops the label: it belonged to the test review, not the new text.
    at.text_area(key=session.SENTIMENT_TEXT).set_value("An ordinary film.").run()
    assert not [m for m in (*at.success, *at.error) if "True label" in m.value]


def test_other_imdb_runs_can_be_picked(runs_dir, bundled):
    small = bundled.model_cfg.replace(hidden_size=8)
    save_run(build_model(small, seed=0), bundled.task, bundled.train_cfg, name="imdb-mine", root=runs_dir)
    at = page()
    box = at.selectbox(key="sentiment_run")
    assert box.value == str(bundled.path)  # the bundled model by default
    assert any("imdb-mine (your run" in o for o in box.options)
    mine = str((runs_dir / "imdb-mine").resolve())
    box.select(mine).run()
    assert not at.exception, at.exception
    assert at.session_state["sentiment_run"] == mine and metric(at, "Verdict") in ("Positive", "Negative")


def test_look_inside_opens_the_inside_page_on_this_run_and_review(bundled):
    at = page(S.EXAMPLES["Not bad"])
    at.button(key="look_inside").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Inside"  # the Inside page took the hand-over (and consumed it)
    assert session.INSIDE_INPUT not in at.session_state
    assert Path(at.selectbox(key=session.INSIDE_RUN).value).name == bundled.path.name
    assert at.radio(key="inside.source").value == "Your own input"
    assert at.text_area(key="inside.text.imdb").value == S.EXAMPLES["Not bad"]
    assert any(t["type"] == "heatmap" for f in figures(at) for t in f["data"]), "the unrolled heatmaps of the review"


def test_train_page_shows_the_baseline_beside_the_rnns_for_imdb_only(monkeypatch, runs_dir, bundled):
    import rnn_core.baseline as B
    from rnn_core.train import History

    scored = History(epochs=[{"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.8, "val_loss": 0.4,
                              "val_accuracy": 0.85, "test_loss": 0.41, "test_accuracy": 0.8512}])
    save_run(bundled.model, bundled.task, bundled.train_cfg, scored, name="imdb-mine", root=runs_dir)

    monkeypatch.setattr(B, "cached_baseline", lambda data_dir=None: {"accuracy": 0.9071, "method": B.METHOD})
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="w.task").select("imdb").run()
    assert not at.exception, at.exception
    values = {m.label: m.value for m in at.metric}
    assert values.get(BASELINE_LABEL) == "90.7%"
    assert values.get("Bundled GRU") == f"{bundled.final_metrics['test_accuracy']:.1%}"
    assert values.get("Your latest run (imdb-mine)") == "85.1%"
    at.selectbox(key="w.task").select("letters").run()
    assert BASELINE_LABEL not in {m.label for m in at.metric}


def test_the_review_is_in_the_url_and_a_shared_link_reproduces_the_verdict(runs_dir):
    review = "A dull, lifeless film with an awful script and wooden acting."
    at = page(review)
    assert at.query_params["review"] in (review, [review])  # the address bar holds what was typed
    verdict, p = metric(at, "Verdict"), metric(at, "P(positive)")
    # Someone else opens the link: the same review, the same verdict.
    other = AppTest.from_file(APP, default_timeout=60).run()
    other.switch_page(PAGE)
    other.query_params["review"] = review
    other.run()
    assert not other.exception, other.exception
    assert other.text_area(key=session.SENTIMENT_TEXT).value == review
    assert (metric(other, "Verdict"), metric(other, "P(positive)")) == (verdict, p)
    # Typing afterwards wins over the link.
    other.text_area(key=session.SENTIMENT_TEXT).set_value("A wonderful, moving film.").run()
    assert other.text_area(key=session.SENTIMENT_TEXT).value == "A wonderful, moving film."
    assert other.query_params["review"] in ("A wonderful, moving film.", ["A wonderful, moving film."])
