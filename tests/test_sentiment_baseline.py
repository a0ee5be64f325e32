"""The Sentiment page's TF-IDF baseline: its verdict and P(positive) stand beside the network's for the typed text,
follow the text as it changes, go the right way for clearly positive and negative reviews, name the words that
pushed it, stay calm for text it has no word of, and offer a fit when the machine has no baseline yet."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import session
from app.playgrounds.sentiment_baseline import LABEL_P, LABEL_VERDICT, pushes_markdown
from rnn_core.baseline_model import BaselineModel

REPO = Path(__file__).resolve().parents[1]
APP, PAGE = str(REPO / "streamlit_app.py"), "pages/sentiment.py"
GOOD = ("A wonderful, moving film. The acting is superb and the story is beautiful; one of the best movies I have "
        "seen in years. Loved it.")
BAD = ("Awful. A boring, stupid mess with terrible acting and a dull plot; the worst movie I have seen in years. "
       "A waste of time, avoid it.")


@pytest.fixture(scope="module")
def fitted():
    from rnn_core.baseline import available_model

    return available_model()  # the one the page scores with: this machine's fit, else the bundled one


def page(text: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(PAGE).run()
    at.text_area(key=session.SENTIMENT_TEXT).set_value(text).run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def markdown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


@pytest.mark.slow
def test_both_verdicts_stand_side_by_side_and_follow_the_text(fitted):
    at = page(GOOD)
    good = metrics(at)
    assert good["Verdict"] == "Positive" and good[LABEL_VERDICT] == "Positive"
    assert good[LABEL_P] == f"{fitted.score(GOOD).p_pos:.3f}"  # the stored model's own answer for this text
    assert "towards positive: **" in markdown(at) and "**wonderful**" in markdown(at)
    assert "Recurrent network" in markdown(at) and "TF-IDF baseline" in markdown(at)

    at.text_area(key=session.SENTIMENT_TEXT).set_value(BAD).run()  # the same session, the text changed
    assert not at.exception, at.exception
    bad = metrics(at)
    assert bad["Verdict"] == "Negative" and bad[LABEL_VERDICT] == "Negative"
    assert float(good[LABEL_P]) > 0.8 > 0.2 > float(bad[LABEL_P])
    assert "towards negative: **" in markdown(at) and "**awful**" in markdown(at)
    assert any("How to read this: a bag of words" in c.value for c in at.caption)


@pytest.mark.slow
@pytest.mark.parametrize("text", ["😀🎬🍿 🤩🤩", "xyzzyq plugh frobnicate"])
def test_text_it_has_no_word_of_gets_its_empty_review_answer_and_a_note(fitted, text):
    at = page(text)
    assert metrics(at)[LABEL_P] == f"{fitted.score('').p_pos:.3f}"
    assert any("None of these words is in its vocabulary" in c.value for c in at.caption)


@pytest.mark.slow
def test_a_huge_paste_is_scored_too(fitted):
    text = ("A good film with a great cast but a dull script. " * 2100)[:100_000]
    at = page(text)
    assert metrics(at)[LABEL_P] == f"{fitted.score(text).p_pos:.3f}"


@pytest.fixture
def no_bundled_baseline(tmp_path, monkeypatch):
    from rnn_core import baseline

    monkeypatch.setattr(baseline, "BUNDLED_MODEL", tmp_path / "no-bundled-baseline.npz")


def test_without_a_fitted_baseline_the_page_offers_to_fit_one(tmp_path, monkeypatch, no_bundled_baseline):
    monkeypatch.setenv("UNROLLED_CACHE_DIR", str(tmp_path))  # a machine where nothing was fitted yet
    at = page(GOOD)
    assert metrics(at)["Verdict"] == "Positive" and LABEL_VERDICT not in metrics(at)  # the network still answers
    assert any("Not fitted on this machine yet" in c.value for c in at.caption)
    assert at.button(key="sentiment_fit_baseline").label == "Fit the baseline"


@pytest.mark.slow
def test_the_fit_button_fits_stores_and_shows_the_baseline(tmp_path, monkeypatch, no_bundled_baseline):
    from rnn_core.baseline import cached_model
    from rnn_core.data import aclimdb
    from tests.test_baseline import write_reviews

    write_reviews(tmp_path / "data" / "imdb", per_class=40)  # small separable reviews: the fit takes a moment
    monkeypatch.setenv("UNROLLED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("UNROLLED_CACHE_DIR", str(tmp_path / "cache"))
    aclimdb.clear_memory_cache()
    try:
        at = page("a wonderful superb movie, loved it")
        assert LABEL_VERDICT not in metrics(at)
        at.button(key="sentiment_fit_baseline").click().run()
        assert not at.exception, at.exception
        assert metrics(at)[LABEL_VERDICT] == "Positive" and not at.warning
        assert cached_model() is not None  # stored: the next session loads it instead of fitting
    finally:
        aclimdb.clear_memory_cache()


def test_a_machine_that_fitted_nothing_shows_the_bundled_baseline(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_CACHE_DIR", str(tmp_path))  # nothing fitted here
    at = page(GOOD)
    assert metrics(at)[LABEL_VERDICT] == "Positive" and float(metrics(at)[LABEL_P]) > 0.8
    assert not any("Not fitted on this machine yet" in c.value for c in at.caption)


def test_pushes_name_the_strongest_terms_each_way():
    import numpy as np

    model = BaselineModel(["awful", "great", "not bad", "plot"], np.ones(4, np.float32),
                          np.array([-2.0, 3.0, 1.0, 0.0]), 0.0, ngram_max=2)
    assert pushes_markdown(model.score("great plot, not bad, awful")) == (
        "towards positive: **great** +1.50, **not bad** +0.50 · towards negative: **awful** -1.00")
    assert pushes_markdown(model.score("plot")) == ""  # a term with no weight pushes nowhere
