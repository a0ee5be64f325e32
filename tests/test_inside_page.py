"""The Inside page through Streamlit's AppTest: a clear message with no runs at all; with a saved letters run
the unrolled figure (heatmaps from the replay, one frame per step) and the epoch replay of the training probe;
typed input replays through task.encode, bad input gives the task's message; long input is windowed and the
figure Streamlit sends stays under 2 MB."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from app import session
from app.light_chart import COMPONENT, plotly_js_version
from rnn_core.model import build_model
from rnn_core.probe import ProbeRecorder
from rnn_core.runs import load_run, save_run
from rnn_core.tasks import get_task
from rnn_core.train import fit
from tests.apptest_helpers import figures, plotly_array
from tests.browser_helpers import choose

REPO = Path(__file__).resolve().parents[1]
APP, PAGE = str(REPO / "streamlit_app.py"), "pages/inside.py"


@pytest.fixture(scope="module", autouse=True)
def _restore_threads(app_threads_restored):
    """Every test here runs the app in-process (see conftest.app_threads_restored)."""


def train_and_save(root: Path, name: str, preset: str, options=None, **overrides) -> Path:
    task = get_task("letters", **(options or {}))
    mcfg, tcfg = task.configs(preset, **overrides)
    model = build_model(mcfg, seed=tcfg.seed)
    rec = ProbeRecorder(task)
    hist = fit(model, task, tcfg, callbacks=[rec])
    return save_run(model, task, tcfg, hist, name=name, root=root, preset=preset, probe=rec.for_save())


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A letters 4-in run (SimpleRNN(3), 30 epochs, probe recorded) and a 128-unit LSTM for long input."""
    root = tmp_path_factory.mktemp("inside-runs")
    train_and_save(root, "letters-4in-rnn", "seed-4in", {"variant": "4in"}, epochs=30)
    train_and_save(root, "letters-lstm128", "default", cell="lstm", hidden_size=128, epochs=1)
    train_and_save(root, "letters-bigru", "default", {"variant": "4in"}, hidden_size=4, bidirectional=True, epochs=5)
    return root


def page(runs_root: Path, monkeypatch, learn: bool = False, **query: str) -> AppTest:
    """The Inside page on ``query``; ``learn``: with the training replay's expander opened (its figure second)."""
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(runs_root))
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page(PAGE)
    at.query_params.update(query)
    if learn:
        at.session_state[session.INSIDE_LEARN] = True
    at.run()
    assert not at.exception, at.exception
    return at


def step_text(spec: dict, t: int) -> str:
    """The text (equations, prediction) the figure shows at the ``t``-th step of its window: its frame rewrites it."""
    return spec["frames"][t]["layout"]["annotations"][0]["text"]


def heatmap(spec: dict, name: str) -> dict:
    return next(t for t in spec["data"] if t.get("name") == name)


def test_no_runs_says_to_train_one_first(tmp_path, monkeypatch):
    empty = tmp_path / "pretrained"
    empty.mkdir()
    monkeypatch.setattr("rnn_core.runs.files.pretrained_dir", lambda: empty)
    at = page(tmp_path / "runs", monkeypatch)
    assert any("No trained runs yet" in i.value and "Train" in i.value for i in at.info)
    assert not figures(at) and not at.error


@pytest.mark.slow
def test_letters_run_unrolled_with_probe_replay(saved, monkeypatch):
    # The training replay is drawn only once its expander is opened: one figure for a fresh browser to draw.
    at = page(saved, monkeypatch, run="letters-4in-rnn")
    assert len(figures(at)) == 1 and [e.label for e in at.expander] == ["Show the training replay"]
    assert all(s.key != "inside.epoch.letters-4in-rnn" for s in at.select_slider)
    at = page(saved, monkeypatch, learn=True, run="letters-4in-rnn")
    assert at.title[0].value == "Inside"
    main, learn = figures(at)
    assert {t["name"] for t in main["data"] if t.get("name", "").startswith("fwd ")} == {"fwd h", "fwd pre"}
    assert plotly_array(heatmap(main, "fwd h")["z"]).shape == (3, 4)  # [units, steps] of abcd
    assert len(main["frames"]) == 4 and len(main["layout"]["sliders"][0]["steps"]) == 4
    assert "tanh(pre)" in step_text(main, 2)
    captions = " ".join(c.value for c in at.caption)
    assert "How to read this" in captions and "Hidden state h" in captions and "Pre-activation" in captions
    # The probe's last epoch is what the trained network does on the same example.
    np.testing.assert_allclose(plotly_array(heatmap(learn, "fwd h")["z"]), plotly_array(heatmap(main, "fwd h")["z"]),
                               atol=1e-6)
    assert at.subheader[0].value == "Watch the hidden state learn"  # a plain RNN has no gates
    epoch = at.select_slider(key="inside.epoch.letters-4in-rnn")
    assert epoch.value == 30 and epoch.options[0] == "0"
    epoch.set_value(0).run()
    assert not at.exception, at.exception
    untrained = plotly_array(heatmap(figures(at)[1], "fwd h")["z"])
    assert np.abs(untrained - plotly_array(heatmap(main, "fwd h")["z"])).max() > 1e-2  # learning moved the state


def test_typed_input_and_bad_input(saved, monkeypatch):
    at = page(saved, monkeypatch, run="letters-4in-rnn")
    at.radio(key="inside.source").set_value("Your own input").run()
    at.text_area(key="inside.text.letters").set_value("abcdeab").run()
    assert not at.exception, at.exception
    main = figures(at)[0]
    assert len(main["frames"]) == 7
    assert "".join(step_text(main, t).split("input <b>")[1][0] for t in range(7)) == "abcdeab"
    at.text_area(key="inside.text.letters").set_value("xyz").run()
    assert not at.exception and any("not" in e.value and "a, b, c, d, e" in e.value for e in at.error)
    assert not figures(at)


def test_review_handed_over_from_another_page_is_replayed(saved, monkeypatch):
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(saved))
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.session_state["inside_input"] = {"run_name": "letters-4in-rnn", "task": "letters", "text": "edcba"}
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert Path(at.selectbox(key="inside.run").value).name == "letters-4in-rnn"
    assert at.radio(key="inside.source").value == "Your own input"
    assert len(figures(at)[0]["frames"]) == 5 and at.query_params["run"] == "letters-4in-rnn"


def test_bidirectional_run_side_by_side_with_true_prefix_predictions(saved, monkeypatch):
    at = page(saved, monkeypatch, run="letters-bigru")
    main = figures(at)[0]
    names = {t.get("name") for t in main["data"]}
    assert {"fwd h", "fwd r", "fwd z", "fwd n", "bwd h", "bwd r", "bwd z", "bwd n"} <= names
    assert "bwd" in step_text(main, 0)
    captions = " ".join(c.value for c in at.caption)
    assert "the backward direction has already read the whole input" in captions
    assert at.subheader[0].value == "Watch the gates learn"
    # The prediction row is what the model says for the input cut at each step, not the head on step t's
    # states (whose backward half has read everything).
    from app.inside import examples

    run = load_run(saved / "letters-bigru")
    ex = examples.replay_text(run, "abcd")
    x, _ = run.task.encode("abcd")
    for t in range(4):
        expected = torch.softmax(run.model(x[:, : t + 1]), dim=-1)[0].detach().numpy()
        np.testing.assert_allclose(ex.prediction.values[t], expected, atol=1e-5)


@pytest.mark.slow
def test_long_input_is_windowed_and_stays_light(saved, monkeypatch, record_figure):
    at = page(saved, monkeypatch, run="letters-lstm128")
    at.radio(key="inside.source").set_value("Your own input").run()
    assert at.text_area(key="inside.text.letters").value == "abcdabcd"  # the example to start from
    at.text_area(key="inside.text.letters").set_value("abcde" * 100).run()  # 500 steps, 128 units, 6 quantities
    assert not at.exception, at.exception
    assert any("Showing steps 0–" in c.value and "of 500" in c.value for c in at.caption)
    sent = next(c.proto.json for c in at.get("bidi_component") if c.proto.component_name == COMPONENT)
    record_figure("inside_page_spec_bytes_500x128_lstm", len(sent))
    assert len(sent) < 2_000_000
    main = json.loads(sent)["figure"]
    assert 100 < len(main["frames"]) < 500
    at.slider(key=next(s.key for s in at.slider if s.key.startswith("inside.fig.start"))).set_value(200).run()
    assert not at.exception, at.exception
    assert plotly_array(heatmap(figures(at)[0], "fwd c")["x"])[0] == 200


@pytest.mark.browser
def test_play_animates_in_the_browser_and_keeps_the_heatmaps(streamlit_server, browser_page):
    """Play moves the cursor and the equation text client-side, and the static heatmaps stay drawn (a
    frame that touched trace data would make plotly's no-redraw transition wipe them)."""
    import os

    train_and_save(Path(os.environ["UNROLLED_RUNS_DIR"]), "inside-browser-4in", "seed-4in", {"variant": "4in"},
                   epochs=10)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 1800})
    page.goto(streamlit_server)  # through the sidebar: a deep link makes Streamlit probe /inside/_stcore (404s)
    page.get_by_role("heading", name="Unrolled").first.wait_for()
    page.locator('[data-testid="stSidebarNav"] a', has_text=re.compile("Inside$")).click()
    page.get_by_role("heading", name="Inside").first.wait_for()
    choose(page, "Run", "inside-browser-4in")
    page.wait_for_function("() => new URLSearchParams(location.search).get('run') === 'inside-browser-4in'")
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
    page.get_by_text("RNN 3 units").first.wait_for()
    play = page.locator(".updatemenu-button", has_text="Play").first
    play.wait_for(timeout=90_000)
    plot = "document.querySelector('.unrolled-chart.js-plotly-plot')"
    text = ".annotation[data-index='0'] .annotation-text"  # the step's text: its frame rewrites it
    state = f"""() => {{ const gd = {plot}; const label = gd.querySelector("{text}");
        return {{active: gd._fullLayout.sliders[0].active, x0: gd._fullLayout.shapes[0].x0,
                images: gd.querySelectorAll('.hm image').length, text: label ? label.textContent : ''}}; }}"""
    before = page.evaluate(state)
    assert before["active"] == 0 and before["x0"] == -0.5 and before["images"] >= 4
    play.click()
    page.wait_for_function(f"() => {plot}._fullLayout.sliders[0].active >= 2", timeout=90_000)
    page.locator(".updatemenu-button", has_text="Pause").first.click()
    page.wait_for_timeout(300)  # the frame under way finishes
    after = page.evaluate(state)
    assert after["x0"] == after["active"] - 0.5  # the cursor box follows the slider
    assert after["images"] == before["images"]  # heatmaps still drawn
    assert after["text"] != before["text"] and f"step {after['active']}" in after["text"]  # the text follows too
    page.snap("inside-played")
    page.wait_for_timeout(1500)  # several frames' time: a paused animation stays where it is
    assert page.evaluate(state) == after
    # Dragging the slider (a click on its rail) moves the cursor and the text to that step as well.
    rail = page.locator(".slider-rail-rect").first.bounding_box()
    page.mouse.click(rail["x"] + rail["width"] - 2, rail["y"] + rail["height"] / 2)
    page.wait_for_function(f"() => {plot}._fullLayout.sliders[0].active === 3", timeout=30_000)
    page.wait_for_timeout(300)
    end = page.evaluate(state)
    assert end["x0"] == 2.5 and "step 3" in end["text"] and end["images"] == before["images"]
    # A rerun that leaves the figure as it was (opening the training replay below it) keeps it where it was:
    # the chart redraws only a figure it does not already show.
    page.get_by_text("Show the training replay").click()
    page.locator(".unrolled-chart").nth(1).wait_for(timeout=90_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
    assert page.evaluate(state) == end
    assert page.evaluate("() => window.Plotly.version") == plotly_js_version()  # the bundle from static/
    assert page.console_errors == [], page.console_errors


def test_epoch_slider_opens_on_the_final_epoch_of_each_run(saved, monkeypatch):
    at = page(saved, monkeypatch, learn=True, run="letters-4in-rnn")
    at.select_slider(key="inside.epoch.letters-4in-rnn").set_value(3).run()
    at.switch_page(PAGE)
    at.query_params["run"] = "letters-bigru"
    at.run()
    assert not at.exception, at.exception
    assert at.select_slider(key="inside.epoch.letters-bigru").value == 5  # its last epoch, not the other run's 3


@pytest.mark.slow
def test_the_bundled_imdb_run_is_shared_across_sessions(record_figure, monkeypatch):
    """Point 3: the model, the validation reviews and the built figure are cached across sessions, so a fresh
    session opens the bundled IMDB run on Inside at once after the first has: it builds nothing again (counted)
    and its script run is short (printed)."""
    import time

    from app import run_access
    from app.inside import examples, figure, shared

    built: list[int] = []
    real_build = figure.fig_unrolled

    def counted(*args, **kwargs):
        built.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(figure, "fig_unrolled", counted)  # the page imports it from the module on every run

    # Cold caches, whatever ran earlier in this process: the first session here has to do the work.
    for cached in (run_access.load_model, examples._val, shared._built):
        cached.clear()
    times, builds = [], []
    for _ in range(2):
        at = AppTest.from_file(APP, default_timeout=300).run()
        at.switch_page(PAGE)
        at.query_params["run"] = "imdb-gru"
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
        assert len(figures(at)) == 1  # the training replay is drawn when its expander is opened
        builds.append(len(built))
    print(f"\nInside imdb-gru script run: first session {times[0]:.2f} s, a fresh session after it {times[1]:.2f} s")
    record_figure("inside imdb-gru fresh session script run (s)", times[1])
    assert builds == [1, 1], builds  # the first session built the figure; the fresh one reused it
    assert times[1] < 3.0, times
