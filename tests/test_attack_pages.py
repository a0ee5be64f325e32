"""The pages attack (AppTest, whole app): hostile query strings on Train and Inside, and damaged runs opened on
Runs, Inside and the playgrounds. No page may show an exception; a link's text is shown as text (escaped,
shortened), a damaged run is shown as damaged with the reason, and the other runs keep working."""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

import pytest
from attack_helpers import copy_run, fingerprint, make_run
from streamlit.testing.v1 import AppTest
from test_attack_runs import CASES as DAMAGE

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "streamlit_app.py")
PRETRAINED = REPO / "pretrained"
pytestmark = pytest.mark.slow  # ~100 whole-app sessions: minutes on two busy cores

EVIL = "[Click here to log in](https://evil.example/login)"
IMG = "![x](https://evil.example/pixel.png)"


@pytest.fixture(scope="module", autouse=True)
def _restore_threads(app_threads_restored):
    """The app runs in-process (see conftest.app_threads_restored)."""


def _texts(at: AppTest) -> list[str]:
    """Every piece of markdown the page rendered (alerts, captions, markdown, titles)."""
    out = []
    for kind in ("markdown", "caption", "warning", "error", "info", "success", "title", "subheader"):
        out += [str(getattr(e, "value", "") or getattr(e, "body", "")) for e in at.get(kind)]
    return out


def _open(page: str, runs: Path, monkeypatch, current: str | None = None, state: dict | None = None,
          **query: str) -> AppTest:
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(runs))
    at = AppTest.from_file(APP, default_timeout=60)
    if current:
        at.session_state["current_run"] = current
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    at.switch_page(page)
    at.query_params.update(query)
    return at.run()


def _assert_clean(at: AppTest, where: str) -> None:
    assert not at.exception, f"TRACEBACK: {where}: {[e.value for e in at.exception][:1]}"
    for text in _texts(at):
        assert "Traceback" not in text, f"TRACEBACK: {where}: {text[:300]}"
        # The app's last guard (streamlit_app.py) must not be what catches an attack: each is handled where it lands.
        assert "Something went wrong" not in text, f"TRACEBACK: {where}: {text[:300]}"
        live = re.search(r"(?<!\\)\]\(http|(?<!\\)<script", text)  # not backslash-escaped: Markdown would act
        assert not live, f"ACCEPTED: {where} rendered a link: {text[:300]}"
        assert "root:x:0:0" not in text and "root:*:" not in text, f"ACCEPTED: {where} showed a system file"


QUERY = {
    "task-link": {"task": EVIL},
    "task-image": {"task": IMG},
    "task-script": {"task": "<script>alert(1)</script>"},
    "task-long": {"task": "x" * 20_000},
    "preset-link": {"preset": EVIL},
    "hidden-link": {"hidden_size": EVIL},
    "hidden-image": {"hidden_size": IMG},
    "hidden-overflow": {"hidden_size": "1e400"},
    "hidden-nan": {"hidden_size": "nan"},
    "hidden-neg": {"hidden_size": "-1"},
    "lr-inf": {"lr": "inf"},
    "lr-link": {"lr": EVIL},
    "epochs-huge": {"epochs": "9" * 400},
    "seed-neg": {"seed": "-1"},
    "cell-image": {"cell": IMG},
    "bidirectional-odd": {"bidirectional": "**maybe**"},
    "optimizer-html": {"optimizer": "<img src=x onerror=alert(1)>"},
    "dropout-two": {"dropout": "2"},
    "many-bad": {"task": EVIL, "preset": IMG, "hidden_size": EVIL, "lr": IMG, "epochs": EVIL},
}


@pytest.mark.parametrize("case", list(QUERY))
def test_train_link_values_are_text(case, tmp_path, monkeypatch):
    at = _open("pages/train.py", tmp_path, monkeypatch, **QUERY[case])
    _assert_clean(at, case)
    notices = [w.value for w in at.warning if "From the link" in str(w.value)]
    for value in QUERY[case].values():
        if value in ("-1", "nan", "inf", "1e400", "2") or value.isdigit():
            continue
        assert notices, f"ACCEPTED: {case}: the ignored value got no notice"
    for n in notices:
        assert len(n) < 600, f"ACCEPTED: {case}: notice not shortened ({len(n)} characters)"


INSIDE_QUERY = {"run-escape": "../../etc", "run-link": EVIL, "run-script": "<script>x</script>", "run-long": "r" * 5000,
                "run-image": IMG}


@pytest.mark.parametrize("case", list(INSIDE_QUERY))
def test_inside_link_values_are_text(case, tmp_path, monkeypatch):
    make_run(tmp_path, "letters", name="mine")
    at = _open("pages/inside.py", tmp_path, monkeypatch, run=INSIDE_QUERY[case])
    _assert_clean(at, case)


PAGE_DAMAGE = ["config-final-metrics-list", "config-final-metrics-str", "config-final-metrics-nan", "metrics-no-epoch",
               "metrics-text-values", "metrics-etc-shadow", "metrics.csv-etc-passwd", "metrics.csv-fifo",
               "config.json-fifo", "probe-garbage", "probe-wrong-shape", "probe-no-input", "config-head-mismatch",
               "weights-nan", "weights-float64", "batches-binary", "config-task-unknown", "vocab-alphabet-wrong",
               "config-status-odd", "config-created-odd", "config-name-markdown"]


@pytest.fixture(scope="module")
def letters_template(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("pages-template"), "letters", name="victim")


def _room(tmp_path: Path, template: Path, case: str) -> Path:
    root = tmp_path / "runs"
    root.mkdir()
    copy_run(template, root / "victim")
    copy_run(template, root / "neighbor")
    DAMAGE[case][2](root / "victim")
    return root


def _unblock(root: Path) -> None:
    """Release any reader a FIFO still holds (so a failed test doesn't leave a blocked thread)."""
    import os

    for p in (root / "victim").iterdir():
        if p.is_fifo():
            with contextlib.suppress(OSError):
                os.close(os.open(p, os.O_WRONLY | os.O_NONBLOCK))


@pytest.mark.parametrize("page", ["pages/runs.py", "pages/inside.py", "pages/letters_playground.py"])
@pytest.mark.parametrize("case", PAGE_DAMAGE)
def test_damaged_run_never_takes_a_page_down(page, case, tmp_path, letters_template, monkeypatch):
    root = _room(tmp_path, letters_template, case)
    before = fingerprint(root / "neighbor")
    try:
        at = _open(page, root, monkeypatch, current="victim", **({"run": "victim"} if "inside" in page else {}))
    finally:
        _unblock(root)
    _assert_clean(at, f"{page} {case}")
    assert at.title, "the page drew its title"
    assert fingerprint(root / "neighbor") == before, "LOST"


@pytest.mark.parametrize("case", ["weights-nan", "config-head-mismatch", "probe-garbage", "metrics-no-epoch"])
def test_damaged_sine_and_imdb_runs_on_their_playgrounds(case, tmp_path, monkeypatch):
    root = tmp_path / "runs"
    root.mkdir()
    sine = make_run(root, "sine", name="victim")
    DAMAGE[case][2](sine)
    shutil.copytree(PRETRAINED / "imdb-gru", root / "imdb-victim")
    DAMAGE[case][2](root / "imdb-victim")
    at = _open("pages/sine_playground.py", root, monkeypatch, current="victim")
    _assert_clean(at, f"sine {case}")
    at = _open("pages/sentiment.py", root, monkeypatch, state={"sentiment_run": str((root / "imdb-victim").resolve())})
    _assert_clean(at, f"sentiment {case}")
