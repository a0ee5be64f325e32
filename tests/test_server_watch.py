"""`make run` and `make dev` start servers that hold no inotify watches: a visit must not fill the server log with
inotify overflows from watching the virtualenv (a visit once logged ~12,700 "Inotify queue overflowed" lines).

The watches are counted from /proc (one ``inotify wd:`` line per watch) after a real browser session ran the
app, and the same count on a server with Streamlit's default watcher shows the measure sees watches when there are
some: that watcher puts one on every folder under the repo, .venv's included, which is why neither target uses it."""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, _free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="counts watches through /proc")]


def make_command(target: str = "run") -> list[str]:
    """The streamlit command `make <target>` executes, as ``make -n <target>`` prints it."""
    out = subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.replace("\\\n", " ").splitlines() if "streamlit run" in ln)
    return shlex.split(line)


def inotify_watches(pid: int) -> int:
    total = 0
    for fd in Path(f"/proc/{pid}/fdinfo").iterdir():
        with contextlib.suppress(OSError):  # a descriptor closed while we looked
            total += fd.read_text().count("inotify wd:")
    return total


@contextlib.contextmanager
def server(cmd: list[str], log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    port = str(_free_port())
    cmd = [str(Path(sys.executable).with_name("streamlit")), *cmd[1:], "--server.headless", "true"]
    cmd[cmd.index("--server.port") + 1] = port
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the server did not become healthy in 120 s"
            time.sleep(0.5)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def visit(browser, base: str) -> None:
    page = browser.new_page()
    try:
        page.goto(base)
        page.get_by_role("heading", name="Unrolled").first.wait_for(timeout=90_000)  # the script ran
    finally:
        page.close()


def test_make_run_watches_no_files(browser, tmp_path):
    cmd = make_command("run")
    assert cmd[cmd.index("--server.fileWatcherType") + 1] == "none"
    with server(cmd, tmp_path / "run.log") as (base, proc):
        visit(browser, base)
        assert inotify_watches(proc.pid) == 0
    assert "Inotify" not in (tmp_path / "run.log").read_text()


def test_make_dev_polls_instead_of_watching_every_folder(browser, tmp_path):
    cmd = make_command("dev")
    assert cmd[cmd.index("--server.fileWatcherType") + 1] == "poll" and "--server.runOnSave" in cmd
    with server(cmd, tmp_path / "dev.log") as (base, proc):
        visit(browser, base)
        time.sleep(1)
        assert inotify_watches(proc.pid) == 0
    assert "Inotify" not in (tmp_path / "dev.log").read_text()

    # Control: Streamlit's default watcher, on the same command, is seen by the same count.
    auto = [*cmd[: cmd.index("--server.fileWatcherType")], "--server.fileWatcherType", "auto"]
    with server(auto, tmp_path / "auto.log") as (base, proc):
        visit(browser, base)
        time.sleep(1)
        n = inotify_watches(proc.pid)
    print(f"\ninotify watches with the default watcher: {n}")
    assert n > 0
