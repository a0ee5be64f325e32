"""The Digits page through AppTest: it opens on the bundled 8×8 model with a blank canvas and says so; a held-out
image is shown as the model sees it, read row by row (Play, slider, the row boxed), with the probabilities after
each row equal to the model's own and the shared Inside figure beneath; an MNIST test-files-only run is labelled
as such; and the Inside page opens digits runs too."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from apptest_helpers import APP, REPO, figures, open_app_page
from apptest_helpers import plotly_array as array
from streamlit.testing.v1 import AppTest

from rnn_core import build_model
from rnn_core.predict import prefix_logits
from rnn_core.runs import load_run, save_run
from rnn_core.tasks import get_task

PAGE = "pages/digits.py"


def held_out(at: AppTest, i: int) -> AppTest:
    at.segmented_control(key="digits_source").set_value("Held-out image").run()
    at.number_input(key="digits_image").set_value(i).run()
    assert not at.exception, at.exception
    return at


def test_opens_on_the_bundled_model_and_a_blank_canvas_says_so():
    at = open_app_page(PAGE)
    assert at.title[0].value == "Digits"
    assert at.selectbox(key="digits_run").value.endswith("pretrained/digits-8x8")
    assert any("blank" in i.value for i in at.info)
    assert not at.get("plotly_chart")  # no guess for an empty canvas
    assert any("scikit-learn 8×8 digits" in c.value for c in at.caption)


@pytest.mark.slow
def test_a_held_out_image_is_read_row_by_row():
    at = held_out(open_app_page(PAGE), 5)
    run = load_run(REPO / "pretrained" / "digits-8x8")
    test = run.task.load().test
    eye, reading, inside = figures(at)
    np.testing.assert_allclose(array(eye["data"][0]["z"]), test.x[5].numpy(), atol=1e-6)  # the real 8×8 pixels
    assert any(f"True label: **{int(test.y[5])}**" in c.value for c in at.caption)
    # Reading: the image, one probability line per digit, 8 frames that move the row box down.
    assert [t["name"] for t in reading["data"]] == ["image"] + [str(d) for d in range(10)]
    probs = torch.softmax(prefix_logits(run.model, test.x[5:6]), -1).numpy()  # [8, 10], the fused path per prefix
    for d in range(10):
        np.testing.assert_allclose(array(reading["data"][1 + d]["y"]), probs[:, d], atol=1e-5)
    assert len(reading["frames"]) == 8 and len(reading["layout"]["sliders"][0]["steps"]) == 8
    assert [b["label"] for b in reading["layout"]["updatemenus"][0]["buttons"]] == ["▶ Play", "❚❚ Pause"]
    boxes = [f["layout"]["shapes"][0] for f in reading["frames"]]
    assert [b["y0"] for b in boxes] == [t - 0.5 for t in range(8)]  # row t boxed at frame t
    final = int(probs[-1].argmax())
    assert any(f"The model says **{final}**" in m.value for m in at.markdown)
    # Beneath: the Inside figure (GRU: h, r, z, n over the 8 rows), the same per-step probabilities.
    heat = [t.get("name") for t in inside["data"] if t["type"] == "heatmap"]
    assert heat[:4] == ["fwd h", "fwd r", "fwd z", "fwd n"]
    assert array(next(t for t in inside["data"] if t.get("name") == "fwd h")["z"]).shape == (64, 8)
    assert any("How to read this" in c.value for c in at.caption)


def test_an_mnist_test_files_only_run_is_labelled_as_such(runs_dir):
    task = get_task("digits", source="mnist", split="test-files-only")
    mcfg, tcfg = task.configs("mnist", hidden_size=8)
    save_run(build_model(mcfg, seed=0), task, tcfg, name="mnist-tiny", root=runs_dir, preset="mnist")
    at = open_app_page(PAGE)
    at.selectbox(key="digits_run").set_value(str(runs_dir / "mnist-tiny")).run()
    at = held_out(at, 3)
    assert any("MNIST test files only" in c.value and "2,000 held-out" in c.value for c in at.caption)
    eye, reading, _ = figures(at)
    assert array(eye["data"][0]["z"]).shape == (28, 28) and len(reading["frames"]) == 28


def test_inside_page_opens_a_digits_run():
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page("pages/inside.py").run()
    at.selectbox(key="inside.run").set_value(str(REPO / "pretrained" / "digits-8x8")).run()  # values are run folders
    assert not at.exception, at.exception
    fig = figures(at)[0]
    heat = [t.get("name") for t in fig["data"] if t["type"] == "heatmap"]
    assert heat[0] == "fwd h" and len(fig["frames"]) == 8


def test_train_page_offers_test_files_only_when_mnist_training_files_are_missing():
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="w.task").set_value("digits").run()
    at.selectbox(key="w.preset").set_value("seed").run()
    assert not at.exception, at.exception
    split = at.radio(key="w.option.digits.split")
    assert split.value == "test-files-only"  # only the test files are here: that is what is offered first
    assert "training files are not in" in split.help
    assert any("Data: MNIST test files only" in c.value for c in at.caption)
    split.set_value("official").run()
    assert not any("test files only" in c.value for c in at.caption)
