"""Shared test setup: data and runs folders, torch threads, and fixtures that run the app in headless chromium.

Data is found through UNROLLED_DATA_DIR (default: ../shared/data beside the checkout); runs go to a
per-session temporary UNROLLED_RUNS_DIR so tests never touch a person's runs/.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in a container: chromium's sandbox cannot start there
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Set at import time so subprocesses (CLI tests, the Streamlit server) inherit them too.
os.environ.setdefault("UNROLLED_DATA_DIR", str((REPO.parent / "shared" / "data").resolve()))
_OWN_RUNS_DIR = None
if not os.environ.get("UNROLLED_RUNS_DIR"):
    _OWN_RUNS_DIR = tempfile.mkdtemp(prefix="unrolled-test-runs-")
    os.environ["UNROLLED_RUNS_DIR"] = _OWN_RUNS_DIR

# Two cores on the CI machine: more threads only contend with the Streamlit server and chromium.
torch.set_num_threads(2)


def pytest_unconfigure(config):
    if _OWN_RUNS_DIR:
        shutil.rmtree(_OWN_RUNS_DIR, ignore_errors=True)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


# --------------------------------------------------------------------------------------------- browser
@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium. Missing: a failure in CI (the browser tests must run there), a skip elsewhere."""
    if not CHROMIUM.exists():
        msg = f"{CHROMIUM} not found; install it with 'apt-get install -y chromium' (make browser does this as root)"
        if _in_ci():
            pytest.fail(msg)
        pytest.skip(msg)
    return str(CHROMIUM)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_python() -> str:
    venv_python = REPO / ".venv" / "bin" / "python"
    return str(venv_python) if venv_python.exists() else sys.executable


@pytest.fixture(scope="session")
def streamlit_server():
    """Start ``streamlit run streamlit_app.py`` on a free localhost port; yield its base URL."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    log_path = ARTIFACTS / "streamlit-server.log"
    cmd = [
        _server_python(),
        "-m",
        "streamlit",
        "run",
        "streamlit_app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"streamlit exited with code {proc.returncode}:\n{log_path.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not become healthy in 60 s:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.25)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser(chromium_path):
    """One headless chromium for the session, driven by Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def browser_page(browser, request):
    """A fresh page. ``page.console_errors`` collects console errors and uncaught page errors;
    ``page.snap(name)`` saves a screenshot into test-artifacts/, and one is saved when the test ends."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(90_000)  # generous: the suite must pass while other CPU-bound work runs
    page.console_errors = []
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.console_errors.append(f"pageerror: {exc}"))
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def snap(name: str = "") -> Path:
        path = ARTIFACTS / (f"{stem}-{name}.png" if name else f"{stem}.png")
        page.screenshot(path=str(path), full_page=True)
        return path

    page.snap = snap
    try:
        yield page
    finally:
        with contextlib.suppress(Exception):  # a crashed page must not hide the test's own failure
            snap()
        context.close()


# ----------------------------------------------------------------------------------------- parallel runs
# make test runs the suite in two worker processes (pytest -n 2 --dist loadfile): a test file stays in one worker,
# and the files holding browser tests all go to the same worker, one after another, so that one app server and one
# chromium run at a time while the other worker takes the remaining files.
BROWSER_FILES = re.compile(r"(^|/)test_(browser\w*|inside_page|light_chart|load|server_watch)\.py$")


def pytest_collection_modifyitems(config, items):
    stray = sorted({i.nodeid.split("::")[0] for i in items if i.get_closest_marker("browser")
                    and not BROWSER_FILES.search(i.nodeid.split("::")[0])})
    if stray:
        raise pytest.UsageError(f"browser tests in {', '.join(stray)}: add the file to BROWSER_FILES in conftest.py, "
                                "so that parallel runs keep the browser tests in one worker")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class BrowserFilesTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "browser files" if BROWSER_FILES.search(path) else path

    return BrowserFilesTogether(config, log)


# --------------------------------------------------------------------------------------------- figures
FIGURE = "unrolled_figure"  # a measured figure travels in the test report's user_properties (so xdist relays it)
_figures: dict[str, float] = {}


@pytest.fixture
def record_figure(request):
    """``record_figure(name, value)``: keep the largest value seen under ``name`` and print it in the
    terminal summary, so measured figures (parity error, ...) show up in every CI log. The value rides on the
    test's report, which reaches the controlling process also when the tests run in parallel workers."""

    def record(name: str, value: float) -> None:
        request.node.user_properties.append((FIGURE, (name, float(value))))

    return record


def pytest_runtest_logreport(report):
    if report.when == "teardown":  # one report per test carries the values recorded during it
        for key, value in report.user_properties:
            if key == FIGURE:
                name, number = value
                _figures[name] = max(number, _figures.get(name, float("-inf")))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _figures:
        terminalreporter.section("measured figures")
        for name, value in sorted(_figures.items()):
            terminalreporter.write_line(f"{name}: {value:.3g}")


@pytest.fixture
def single_thread():
    """Run a test with one torch thread: tests on tiny tensors are several times faster without
    intra-op threading, which only synchronises (and spins against other processes on 2 cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def app_threads_restored():
    """For AppTest modules: the app's job manager sets torch's (process-global) thread count and keeps
    worker threads; afterwards shut it down and give the other tests their thread count back."""
    threads = torch.get_num_threads()
    yield
    from app.train.panel import job_manager

    job_manager().shutdown()
    torch.set_num_threads(threads)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a test that opened the app, wait for the job manager's warm-up thread (app/train/job_manager.py)
    before the test's teardown begins. That thread imports torch's compiler stack, registering loggers as it
    goes, while pytest's log capture iterates the logger registry at the start of every test phase: a phase
    begun while those imports still ran failed with "dictionary changed size during iteration" (seen after the
    Sweeps page's tests on a busy machine, where the imports take half a minute)."""
    try:
        return (yield)
    finally:
        for thread in threading.enumerate():
            if thread.name == "unrolled-warm-up":
                thread.join(300)


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """A runs folder of this test's own (the app and the CLI read UNROLLED_RUNS_DIR on every call)."""
    monkeypatch.setenv("UNROLLED_RUNS_DIR", str(tmp_path))
    return tmp_path
