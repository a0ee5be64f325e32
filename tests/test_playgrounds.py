"""The Sine and Letters playgrounds driven through AppTest: preset waves through the bundled sine model (the
curves, the error, the unrolled heatmaps with their step controls), switching to a sine run trained elsewhere,
typed and clicked letters through both bundled letters models, and letters outside a–e flagged, never crashed on."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from apptest_helpers import APP, REPO, figures, open_app_page
from apptest_helpers import plotly_array as array
from streamlit.testing.v1 import AppTest

from app import run_access
from app.playgrounds import sine
from rnn_core.model import build_model
from rnn_core.predict import predict
from rnn_core.runs import load_run, save_run
from rnn_core.tasks import get_task
from rnn_core.tasks.letters import patterns
from rnn_core.tasks.sine import make_wave
from rnn_core.train import fit

SINE, LETTERS = "pages/sine_playground.py", "pages/letters_playground.py"


def trace(fig: dict, name: str) -> dict:
    return next(t for t in fig["data"] if t.get("name") == name)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def preset(at: AppTest, kind: str = "sine", freq: float = 2.0, phase: int = 0, amp: float = 1.0) -> AppTest:
    at.segmented_control(key="sine_source").set_value("Preset wave").run()
    at.selectbox(key="sine_kind").set_value(kind)
    at.slider(key="sine_freq").set_value(freq)
    at.slider(key="sine_phase").set_value(phase)
    at.slider(key="sine_amp").set_value(amp)
    at.run()
    assert not at.exception, at.exception
    return at


# ------------------------------------------------------------------------------------------------- sine
def test_sine_opens_on_the_bundled_model_with_a_blank_canvas_and_says_what_to_do():
    at = open_app_page(SINE)
    assert at.title[0].value == "Sine playground"
    assert at.selectbox(key="sine_run").value.endswith("pretrained/sine-tiny")
    assert any("blank" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_a_preset_sine_gives_the_cosine_with_per_step_error_and_the_unrolled_lstm():
    at = preset(open_app_page(SINE), "sine", freq=2.0, phase=90)
    curves, inside = figures(at)
    assert [t["name"] for t in curves["data"]] == ["input", "true cosine", "prediction", "error"]
    values, cosine = make_wave("sine", 60, 2.0, np.radians(90), 1.0)
    np.testing.assert_allclose(array(trace(curves, "input")["y"]), values, atol=1e-6)
    np.testing.assert_allclose(array(trace(curves, "true cosine")["y"]), cosine, atol=1e-6)
    run = load_run(REPO / "pretrained" / "sine-tiny")
    pred = array(trace(curves, "prediction")["y"])
    # The replayed answer is what the fused model says for the same curve.
    np.testing.assert_allclose(pred, predict(run.model, run.task, values)["per_step"], atol=1e-4)
    np.testing.assert_allclose(array(trace(curves, "error")["y"]), pred - cosine, atol=1e-6)
    mse = float(np.mean((pred[10:] - cosine[10:]) ** 2))
    assert mse < 0.02  # the bundled model really does turn a sine into its cosine
    assert any(f"{mse:.4f}" in c.value for c in at.caption)
    # Under the curves: every LSTM quantity over the same 60 steps, with Play / Pause and a step slider.
    heat = [t.get("name") for t in inside["data"] if t["type"] == "heatmap"]
    assert heat == ["fwd h", "fwd c", "fwd i", "fwd f", "fwd g", "fwd o"]
    assert array(trace(inside, "fwd h")["z"]).shape == (16, 60)
    assert len(inside["layout"]["sliders"][0]["steps"]) == 60 and len(inside["frames"]) == 60
    assert [b["label"] for b in inside["layout"]["updatemenus"][0]["buttons"]] == ["▶ Play", "❚❚ Pause"]
    np.testing.assert_allclose(array(trace(inside, "predicted cos")["y"]), pred, atol=1e-5)
    assert any("How to read this" in c.value for c in at.caption)


@pytest.mark.parametrize("kind", ["square", "sawtooth"])
def test_a_wave_that_is_not_a_sine_has_no_true_cosine(kind):
    at = preset(open_app_page(SINE), kind)
    curves = figures(at)[0]
    assert [t["name"] for t in curves["data"]] == ["input", "prediction"]
    np.testing.assert_allclose(array(trace(curves, "input")["y"]), make_wave(kind, 60, 2.0)[0], atol=1e-6)
    assert any("not a sine" in c.value for c in at.caption)


def test_a_noisy_sine_uses_the_noise_slider():
    at = open_app_page(SINE)
    at.segmented_control(key="sine_source").set_value("Preset wave").run()
    at.selectbox(key="sine_kind").set_value("noisy_sine").run()
    at.slider(key="sine_noise").set_value(0.3).run()
    assert not at.exception, at.exception
    curves = figures(at)[0]
    np.testing.assert_allclose(array(trace(curves, "input")["y"]), make_wave("noisy_sine", 60, 2.0, noise=0.3)[0],
                               atol=1e-6)
    assert "true cosine" in [t["name"] for t in curves["data"]]


def test_picking_a_trained_sine_run_switches_the_model_and_a_resave_reloads_it(runs_dir):
    task = get_task("sine", window=30)  # the window length comes from the run
    mcfg, tcfg = task.configs("default", cell="gru", hidden_size=5)
    path = save_run(build_model(mcfg, seed=1), task, tcfg, name="my-sine", root=runs_dir)
    at = preset(open_app_page(SINE))
    assert "my-sine (your run, GRU)" in at.selectbox(key="sine_run").options
    at.selectbox(key="sine_run").set_value(str(path)).run()
    curves, inside = figures(at)
    assert len(array(trace(curves, "input")["y"])) == 30
    assert [t.get("name") for t in inside["data"] if t["type"] == "heatmap"] == ["fwd h", "fwd r", "fwd z", "fwd n"]
    first = array(trace(curves, "prediction")["y"])
    stamp = run_access.run_stamp(str(path))
    run = load_run(path)
    np.testing.assert_allclose(first, predict(run.model, run.task, make_wave("sine", 30, 2.0)[0])["per_step"],
                               atol=1e-4)

    # Saved again under the same name (new weights): the page loads the new model, not the cached one.
    save_run(build_model(mcfg, seed=2), task, tcfg, name="my-sine", root=runs_dir, overwrite=True)
    assert run_access.run_stamp(str(path)) != stamp
    at.run()
    second = array(trace(figures(at)[0], "prediction")["y"])
    assert not np.allclose(first, second)


def test_a_stacked_bidirectional_run_shows_the_chosen_layer_both_ways(runs_dir):
    task = get_task("sine")
    mcfg, tcfg = task.configs("default", hidden_size=6, num_layers=2, bidirectional=True)
    model = build_model(mcfg, seed=3)
    path = save_run(model, task, tcfg, name="deep-sine", root=runs_dir)
    at = preset(open_app_page(SINE))
    at.selectbox(key="sine_run").set_value(str(path)).run()
    assert at.selectbox(key="sine_layer").value == 1
    values = make_wave("sine", 60, 2.0)[0]
    _, cache = model.run_with_cache(task.encode(values)[0])
    inside = figures(at)[1]
    assert [t.get("name") for t in inside["data"] if t["type"] == "heatmap"][:2] == ["fwd h", "fwd c"]
    assert "bwd h" in [t.get("name") for t in inside["data"]]
    np.testing.assert_allclose(array(trace(inside, "bwd h")["z"]), cache["layers.1.bwd.hook_h"][0].numpy().T,
                               atol=1e-5)
    at.selectbox(key="sine_layer").set_value(0).run()
    np.testing.assert_allclose(array(trace(figures(at)[1], "bwd h")["z"]), cache["layers.0.bwd.hook_h"][0].numpy().T,
                               atol=1e-5)


def test_a_diverged_run_is_flagged_not_crashed_on(runs_dir):
    task = get_task("sine")
    mcfg, tcfg = task.configs("default", hidden_size=4)
    model = build_model(mcfg)
    with torch.no_grad():
        model.head.weight.fill_(float("nan"))
    path = save_run(model, task, tcfg, name="blown-up", root=runs_dir, status="diverged")
    at = preset(open_app_page(SINE))
    at.selectbox(key="sine_run").set_value(str(path)).run()
    assert not at.exception, at.exception
    # NaN weights are refused at load (never replayed): the page says so and why, instead of drawing nonsense.
    assert any("NaN or infinite" in e.value for e in at.error)


def test_the_run_last_trained_is_preselected(runs_dir):
    task = get_task("sine")
    mcfg, tcfg = task.configs("default", hidden_size=4, epochs=1, limit=64)
    model = build_model(mcfg)
    # Validated once: a run stopped before its first validation is never opened (tests/test_opening_runs.py).
    path = save_run(model, task, tcfg, fit(model, task, tcfg), name="just-trained", root=runs_dir)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["current_run"] = "just-trained"
    at.run()
    at.switch_page(SINE).run()
    assert at.selectbox(key="sine_run").value == str(path)

    # A pick here becomes the session's current run (the Inside page opens it) and is kept on coming back...
    bundled = str(REPO / "pretrained" / "sine-tiny")
    at.selectbox(key="sine_run").set_value(bundled).run()
    assert at.session_state["current_run"] == "sine-tiny"
    at.switch_page("pages/home.py").run()
    at.switch_page(SINE).run()
    assert at.selectbox(key="sine_run").value == bundled
    # ...until a run is trained or picked elsewhere.
    at.session_state["current_run"] = "just-trained"
    at.switch_page("pages/home.py").run()
    at.switch_page(SINE).run()
    assert at.selectbox(key="sine_run").value == str(path)


@pytest.mark.parametrize("freq, phase, amp", [(2.3, 1.0, 0.8), (1.0, -2.0, 1.0), (3.7, 0.2, 1.5)])
def test_the_nearest_sine_of_a_sine_gives_its_true_cosine(freq, phase, amp):
    values, cosine = make_wave("sine", 60, freq, phase, amp)
    fit = sine.nearest_sine(values)
    assert fit.is_sine() and fit.freq == pytest.approx(freq, abs=0.006) and fit.r2 > 0.9999
    np.testing.assert_allclose(fit.cosine, cosine, atol=0.03)


@pytest.mark.parametrize("kind", ["square", "sawtooth"])
def test_other_waves_are_not_taken_for_a_sine(kind):
    assert not sine.nearest_sine(make_wave(kind, 60, 2.0)[0]).is_sine()
    assert not sine.nearest_sine(np.linspace(-1, 1, 60)).is_sine()  # a ramp fits a slice of a slow sine
    assert not sine.nearest_sine(np.sin(np.linspace(0, np.pi / 2, 60))).is_sine()  # a quarter of one

# ---------------------------------------------------------------------------------------------- letters
def test_letters_opens_on_the_one_letter_model_and_predicts_b_after_a():
    at = open_app_page(LETTERS)
    assert at.title[0].value == "Letters playground"
    assert at.selectbox(key="letters_run").value.endswith("pretrained/letters-1in")
    assert metric(at, "Next letter") == "b"
    bars, inside = figures(at)
    assert [t["name"] for t in bars["data"]] == ["step 0"]
    probs = array(bars["data"][0]["y"])
    assert probs.argmax() == 1 and probs.sum() == pytest.approx(1, abs=1e-5)
    # The simple RNN's hidden state (its only memory) over the letters, the one-hot input, p(next) per step.
    assert [t.get("name") for t in inside["data"] if t["type"] == "heatmap"] == ["fwd h", None, None]
    assert array(trace(inside, "fwd h")["z"]).shape == (3, 1)


def test_letter_buttons_append_and_every_step_gets_its_bars():
    at = open_app_page(LETTERS)
    for ch in "bc":
        at.button(key=f"letter_{ch}").click().run()
    assert at.text_input(key="letters_text").value == "abc"
    bars = figures(at)[0]
    assert [t["name"] for t in bars["data"]] == ["step 0", "step 1", "step 2"]
    titles = [a["text"] for a in bars["layout"]["annotations"]]
    assert titles[0].startswith("after <b>a</b> → <b>b</b>")
    at.button(key="letters_back").click().run()
    assert at.text_input(key="letters_text").value == "ab"
    at.button(key="letters_clear").click().run()
    assert any("at least one letter" in i.value for i in at.info) and not at.exception


def test_letters_outside_the_alphabet_are_struck_and_left_out():
    at = open_app_page(LETTERS)
    at.text_input(key="letters_text").set_value("abXcd!").run()
    assert not at.exception, at.exception
    warning = at.warning[0].value
    assert "'x'" in warning and "'!'" in warning
    shown = "".join(h.proto.body for h in at.get("html"))
    assert "<s" in shown and ">X</s>" in shown and ">!</s>" in shown
    assert metric(at, "Letters read") == "abcd"
    assert len(figures(at)[0]["data"]) == 4
    at.text_input(key="letters_text").set_value("<xyz>").run()
    assert not at.exception and any("at least one letter" in i.value for i in at.info)
    assert "&lt;" in "".join(h.proto.body for h in at.get("html"))  # escaped, not markup


@pytest.mark.parametrize("inp, out", patterns("4in"))
def test_the_four_letter_model_names_the_fifth(inp, out):
    at = open_app_page(LETTERS)
    assert any(label.startswith("letters-4in (bundled, RNN") for label in at.selectbox(key="letters_run").options)
    at.selectbox(key="letters_run").set_value(str(REPO / "pretrained" / "letters-4in")).run()
    at.text_input(key="letters_text").set_value(inp).run()
    assert metric(at, "Next letter") == out
    inside = figures(at)[1]
    assert len(inside["layout"]["sliders"][0]["steps"]) == 4
    marks = trace(inside, "target")
    assert list(marks["y"])[-1] == out  # the ○ row marks what follows in the cycle


def test_a_trained_gru_letters_run_shows_its_gates(runs_dir):
    task = get_task("letters", variant="4in")
    mcfg, tcfg = task.configs("default")
    path = save_run(build_model(mcfg), task, tcfg, name="my-letters", root=runs_dir)
    at = open_app_page(LETTERS)
    at.selectbox(key="letters_run").set_value(str(path)).run()
    at.text_input(key="letters_text").set_value("cdea").run()
    assert not at.exception, at.exception
    inside = figures(at)[1]
    assert [t.get("name") for t in inside["data"] if t["type"] == "heatmap"][:4] == ["fwd h", "fwd r", "fwd z", "fwd n"]
    run = load_run(path)
    probs = predict(run.model, run.task, "cdea")["per_step"]
    shown = np.stack([array(t["y"]) for t in figures(at)[0]["data"]])  # [steps, 5]
    np.testing.assert_allclose(shown, [[p[ch] for ch in "abcde"] for p in probs], atol=1e-5)


def test_long_input_is_cut_to_the_last_letters():
    at = open_app_page(LETTERS)
    at.text_input(key="letters_text").set_value("abcde" * 6).run()
    assert any("Only the last 24 of your 30" in c.value for c in at.caption)
    assert len(figures(at)[0]["data"]) == 24
