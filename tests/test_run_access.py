"""The one way a page reaches a run (app/run_access.py): the label names the task's own metric, the loader
reloads a run saved again under the same name, one replay gives the per-step prediction with the bidirectional
prefix rule, and no other app module or page loads or lists runs on its own."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import torch

from app import run_access
from rnn_core.model import build_model
from rnn_core.runs import save_run
from rnn_core.tasks import get_task

REPO = Path(__file__).resolve().parents[1]


def row(name: str, task: str, metrics: dict, pretrained: bool = False, status: str = "finished") -> dict:
    return {"name": name, "task": task, "cell": "gru", "status": status, "final_metrics": metrics,
            "pretrained": pretrained, "path": f"/x/{name}"}


def test_label_shows_the_tasks_metric_test_split_first():
    assert run_access.run_label(row("s", "sine", {"val_mse": 0.00234, "val_loss": 1.0})) == \
        "s (your run, GRU, val MSE 0.0023)"
    imdb = row("i", "imdb", {"val_accuracy": 0.85, "test_accuracy": 0.8712}, pretrained=True)
    assert run_access.run_label(imdb) == "i (bundled, GRU, test accuracy 87.1%)"
    assert run_access.run_label(imdb, with_task=True) == "i (bundled, imdb, GRU, test accuracy 87.1%)"
    assert run_access.run_label(row("d", "letters", {}, status="diverged")) == "d (your run, GRU, diverged)"


def test_loader_reloads_a_run_saved_again_under_the_same_name(tmp_path, monkeypatch):
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(tmp_path))
    task = get_task("letters")
    mcfg, tcfg = task.configs("seed")
    first = save_run(build_model(mcfg, seed=0), task, tcfg, name="again", root=tmp_path)
    a = run_access.load(first)
    assert run_access.load(first) is a  # cached
    shutil.rmtree(first)  # saved again under the same name: only the weights file tells the two apart
    second = save_run(build_model(mcfg, seed=1), task, tcfg, name="again", root=tmp_path)
    b = run_access.load(second)
    assert b is not a
    wa, wb = (next(iter(r.model.parameters())) for r in (a, b))
    assert not torch.equal(wa, wb)


def test_replay_of_a_bidirectional_classifier_is_the_prediction_for_each_prefix():
    task = get_task("letters")
    mcfg, _ = task.configs("seed", bidirectional=True, cell="gru", hidden_size=6)
    mcfg = mcfg.replace(head="last")
    model = build_model(mcfg, seed=0).eval()
    rep = run_access.replay(model, task, "abcd")
    x, _ = task.encode("abcd")
    assert rep.steps == list("abcd") and rep.directions == ("fwd", "bwd")
    for t in range(4):
        expected = torch.softmax(model(x[:, : t + 1]), dim=-1)[0].detach().numpy()  # [classes]
        np.testing.assert_allclose(rep.prediction.values[t], expected, atol=1e-5)
    assert set(rep.views(0)) == {"fwd", "bwd"} and rep.views(0)["bwd"]["h"].shape == (4, 6)


def test_only_run_access_loads_or_lists_runs():
    offenders = []
    for path in [*(REPO / "app").rglob("*.py"), *(REPO / "pages").glob("*.py")]:
        rel = path.relative_to(REPO).as_posix()
        if rel in ("app/run_access.py", "app/runs/runlist.py"):  # the Runs table lists every run, damaged too
            continue
        if re.search(r"\b(load_run|list_runs|prefix_logits)\b", path.read_text()):
            offenders.append(rel)
    assert offenders == []
