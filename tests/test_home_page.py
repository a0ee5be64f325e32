"""Home through AppTest: the four one-click starting paths with a line each (the Train one opens a recommended
preset even after the person has used Train), the preset-name legend, and every task's presets."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.home.start import PATHS, PRESET_MEANING
from app.nav import exists
from rnn_core.tasks import available, task_class

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "streamlit_app.py")


@pytest.fixture(scope="module", autouse=True)
def _restore_threads(app_threads_restored):
    """The entrypoint starts the app's job manager in-process (see conftest.app_threads_restored)."""


def test_home_offers_four_paths_and_says_what_preset_names_mean():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    links = {link.proto.page: link.proto for link in at.get("page_link")}
    for script, label, _icon, line, _query in PATHS:
        assert exists(script)
        assert any(label in p.label for p in links.values()), (label, [p.label for p in links.values()])
        assert any(line in c.value for c in at.caption), line
    assert len(PATHS) in (3, 4)
    legend = " ".join(m.value for m in at.markdown)
    assert "`seed` — the source notes' exact setting" in legend
    for name in ("default", "quick"):
        assert f"`{name}`" in legend and PRESET_MEANING[name] in legend
    table = at.dataframe[0].value
    every = {(t, p) for t in available() for p in task_class(t).presets}
    assert {(r.task, r.preset.split(" ")[0]) for r in table.itertuples()} == every
    assert (table["what it sets"].str.len() > 20).all()


@pytest.mark.slow
def test_the_train_link_opens_its_preset_even_after_train_was_used():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="w.task").set_value("sine").run()
    assert at.session_state["w.task"] == "sine"
    # What Home's link does: open Train with the recommended task and preset in the query string.
    query = dict(next(p for p in PATHS if p[0] == "pages/train.py")[4])
    at.switch_page("pages/train.py")
    at.query_params.update(query)
    at.run()
    assert not at.exception
    assert at.session_state["w.task"] == query["task"]
    assert at.session_state["w.preset"] == query["preset"]
    # A later rerun (the URL now holds the page's own settings) keeps what the person changes.
    at.number_input(key="w.hidden_size").set_value(11).run()
    assert at.session_state["w.hidden_size"] == 11
