"""The pages attack, second part (AppTest, whole app): what a person types into the pages added since the first
attack (Sweeps' grid form, the Dynamics word, the Tagging sentence) and the text boxes of the playgrounds and
Inside, damaged runs under the Digits, Tagging and Dynamics pickers, and damaged sweep records on the Sweeps page.
Each asserts no traceback, the text shown as text, a clean refusal where one is due, and nothing lost."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest
from attack_helpers import fingerprint, make_run
from test_attack_pages import EVIL, IMG, PRETRAINED, _assert_clean, _open, _texts
from test_attack_runs import CASES as DAMAGE

pytestmark = pytest.mark.slow  # whole-app sessions: seconds each on two busy cores


@pytest.fixture(scope="module", autouse=True)
def _restore_threads(app_threads_restored):
    """The app runs in-process (see conftest.app_threads_restored)."""


# ------------------------------------------------------------------------------------------- typed text
TEXTS = {
    "link": EVIL,
    "image": IMG,
    "script": "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "control": "a\x00b\x1b[31mc\u202ed\x07",
    "huge": "word " * 60_000,  # 300,000 characters
    "blank": "   \n\t ",
    "emoji": "🙂" * 300,
}
BOXES = {  # page → (session key of its text box, session state the page needs first)
    "pages/letters_playground.py": ("letters_text", {}),
    "pages/sentiment.py": ("sentiment_text", {}),
    "pages/tagging.py": ("tagging_text", {}),
    "pages/dynamics.py": ("dynamics_word", {"dynamics_input": "token"}),
}


@pytest.mark.parametrize("text", list(TEXTS))
@pytest.mark.parametrize("page", list(BOXES))
def test_typed_text_is_text(page, text, tmp_path, monkeypatch):
    key, state = BOXES[page]
    current = "imdb-gru" if page == "pages/dynamics.py" else None  # a word is held constant in token models only
    at = _open(page, tmp_path, monkeypatch, current=current, state={**state, key: TEXTS[text]})
    _assert_clean(at, f"{page} {text}")
    assert at.title, "the page drew its title"


def test_inside_own_input_is_text(tmp_path, monkeypatch):
    for text in TEXTS.values():
        at = _open("pages/inside.py", tmp_path, monkeypatch, current="letters-1in",
                   state={"inside.source": "Your own input", "inside.text.letters": text})
        _assert_clean(at, f"inside own input {text[:20]!r}")


# ------------------------------------------------------------------------------------------- sweeps form
GRIDS = {  # text box key → value; every one must be refused before anything starts
    "hidden-link": {"sweep_hidden_size": EVIL},
    "hidden-image": {"sweep_hidden_size": IMG},
    "hidden-overflow": {"sweep_hidden_size": "1e400"},
    "hidden-huge": {"sweep_hidden_size": "4096", "sweep_num_layers": "16"},
    "lr-nan": {"sweep_lr": "nan"},
    "lr-inf": {"sweep_lr": "inf,1e-3"},
    "epochs-zero": {"sweep_epochs": "0"},
    "epochs-long": {"sweep_epochs": "9" * 400},
    "seeds-range-huge": {"sweep_seeds": "0-9999999999"},
    "seeds-negative": {"sweep_seeds": "-5"},
    "seeds-link": {"sweep_seeds": EVIL},
    "seeds-empty": {"sweep_seeds": " , ,"},
    "other-unknown": {"sweep_other": "flux_capacitor=1,2"},
    "other-seed": {"sweep_other": "seed=1,2"},
    "other-script": {"sweep_other": "<script>alert(1)</script>=1"},
    "other-grid-huge": {"sweep_other": "batch_size=" + ",".join(str(i) for i in range(1, 2002))},
    "other-sine-memory": {"sweep_other": "window=100000"},
}


@pytest.mark.parametrize("case", list(GRIDS))
def test_bad_sweep_grid_is_refused_and_nothing_starts(case, tmp_path, monkeypatch):
    at = _open("pages/sweeps.py", tmp_path, monkeypatch)
    if case == "other-sine-memory":
        at.selectbox(key="sweep_task").set_value("sine").run()
    for key, value in GRIDS[case].items():
        widget = at.text_area(key=key) if key == "sweep_other" else at.text_input(key=key)
        widget.input(value)
    at.button[0].click().run()
    _assert_clean(at, f"sweeps {case}")
    assert any("Can't launch this sweep" in e.value for e in at.error), f"ACCEPTED: {case}: no refusal"
    assert not [p for p in tmp_path.iterdir() if p.is_dir()], f"ACCEPTED: {case}: a sweep started"


# --------------------------------------------------------------------------------------- damaged runs
NEW_PAGES = {"pages/digits.py": "digits-8x8", "pages/tagging.py": "pos-bilstm", "pages/dynamics.py": "letters-1in"}
NEW_DAMAGE = ["config.json-fifo", "weights-nan", "config-head-mismatch", "config-final-metrics-list",
              "probe-garbage", "metrics-no-epoch", "metrics-etc-shadow"]


@pytest.mark.parametrize("case", NEW_DAMAGE)
@pytest.mark.parametrize("page", list(NEW_PAGES))
def test_damaged_run_on_newer_pages(page, case, tmp_path, monkeypatch):
    root = tmp_path / "runs"
    root.mkdir()
    victim = shutil.copytree(PRETRAINED / NEW_PAGES[page], root / "victim")
    neighbor = make_run(root, "letters", name="neighbor")
    before = fingerprint(neighbor)
    DAMAGE[case][2](victim)
    try:
        at = _open(page, root, monkeypatch, current="victim")
    finally:
        for p in victim.iterdir():  # release a reader a failed test left on a FIFO
            if p.is_fifo():
                with contextlib.suppress(OSError):
                    os.close(os.open(p, os.O_WRONLY | os.O_NONBLOCK))
    _assert_clean(at, f"{page} {case}")
    assert at.title, "the page drew its title"
    if DAMAGE[case][1] == "refuse":  # shown as damaged, with the reason, where the run would be
        shown = " ".join(_texts(at)) + " ".join(e.label for e in at.expander)
        assert "damaged" in shown or "Can't load this run" in shown, f"ACCEPTED: {page} {case}: no reason shown"
    assert fingerprint(neighbor) == before, "LOST"


# ---------------------------------------------------------------------------------------- sweep records
def _sweep(root: Path, record: bytes | None = None, link: str | None = None) -> Path:
    folder = root / "sweep-x"
    folder.mkdir(parents=True)
    target = folder / "sweep.json"
    if link:
        target.symlink_to(link)
    elif record is None:
        os.mkfifo(target)
    else:
        target.write_bytes(record)
    return folder


SWEEP_RECORDS = {
    "fifo": {},
    "link-passwd": {"link": "/etc/passwd"},
    "garbage": {"record": b"\x00\xff not json"},
    "runs-strings": {"record": b'{"spec": {"task": "letters"}, "runs": ["a", "b"]}'},
    "spec-list": {"record": b'{"spec": [], "runs": []}'},
    "name-escape": {"record": b'{"spec": {"task": "letters", "grid": {}}, "runs": [{"name": "../../etc", '
                              b'"point": {}, "seed": 0, "state": "finished"}], "state": "finished"}'},
    "grid-odd": {"record": b'{"spec": {"task": "letters", "grid": "lots"}, "runs": [{"name": "r", "point": 7}], '
                           b'"state": "finished"}'},
}


@pytest.mark.parametrize("case", list(SWEEP_RECORDS))
def test_damaged_sweep_record_never_takes_the_page_down(case, tmp_path, monkeypatch):
    folder = _sweep(tmp_path, **SWEEP_RECORDS[case])
    neighbor = make_run(tmp_path, "letters", name="neighbor")
    before = fingerprint(neighbor)
    try:
        at = _open("pages/sweeps.py", tmp_path, monkeypatch)
    finally:
        if (folder / "sweep.json").is_fifo():
            with contextlib.suppress(OSError):
                os.close(os.open(folder / "sweep.json", os.O_WRONLY | os.O_NONBLOCK))
    _assert_clean(at, f"sweeps {case}")
    assert at.title
    assert fingerprint(neighbor) == before, "LOST"


REVIEW_LINKS = {"link": EVIL, "image": IMG, "script": "<script>alert(1)</script> great film",
                "huge": "great " * 20_000, "control": "good\x00\x1b[31m film"}


@pytest.mark.parametrize("case", list(REVIEW_LINKS))
def test_sentiment_review_link_is_text(case, tmp_path, monkeypatch):
    """``/sentiment?review=…`` fills the review box: whatever it holds is read as a review and shown as text."""
    at = _open("pages/sentiment.py", tmp_path, monkeypatch, review=REVIEW_LINKS[case])
    _assert_clean(at, f"sentiment ?review= {case}")
    assert at.title
