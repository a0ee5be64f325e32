"""Train page presets through AppTest: editing a field marks the preset as modified (its description is no longer
presented as the model's), and the "Advanced" group shows and changes every other setting the preset makes (IMDB:
input dropout, embedding size, max length, vocabulary size, clipping, keep-best)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "streamlit_app.py")


@pytest.fixture(scope="module", autouse=True)
def _restore_threads(app_threads_restored):
    """Every test here runs the app in-process (see conftest.app_threads_restored)."""


def train_page(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/train.py")
    at.query_params.update(query)
    return at.run()


def caption_text(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


@pytest.mark.slow
def test_an_edited_preset_is_marked_modified_and_advanced_shows_the_rest():
    at = train_page(task="imdb", preset="default")
    assert not at.exception, at.exception
    assert "Modified" not in caption_text(at)
    labels = {n.label: n for n in at.number_input}
    for label, value in [("Input dropout", 0.4), ("Embedding size", 32), ("Max length", 500),
                         ("Vocabulary size", 10000), ("Gradient clipping", 1.0)]:
        assert labels[label].value == value, label
    assert at.toggle(key="w.keep_best").value is True
    assert at.expander[0].label.startswith("Advanced")
    # Change the model: the preset is now marked modified, and its description is labelled as the preset's.
    at.number_input(key="w.hidden_size").set_value(16).run()
    assert "**Modified** from `default`: hidden_size changed. The preset as it was:" in caption_text(at)
    preset_box = at.selectbox(key="w.preset")
    assert preset_box.format_func("default") == "default (modified)"
    # An advanced task option reaches the task and the URL, and the model summary still builds.
    at.number_input(key="w.maxlen").set_value(120).run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert at.query_params["maxlen"] == ["120"] or at.query_params["maxlen"] == "120"
    assert "maxlen" in caption_text(at)
    # Back to the preset: no longer modified.
    at.selectbox(key="w.preset").set_value("quick").run()
    assert "Modified" not in caption_text(at)
    assert at.number_input(key="w.maxlen").value == 80


def test_letters_shows_its_variant_and_no_imdb_options():
    at = train_page(task="letters", preset="seed-4in")
    assert not at.exception, at.exception
    assert at.selectbox(key="w.variant").value == "4in"
    assert not [n for n in at.number_input if n.key == "w.maxlen"]
