"""Load test: N browser sessions open at once, spread over Sentiment, Inside and Train (the first Train session
also trains a letters model to the end), each timed from navigation to its first complete render. Prints the
first-render p50 / p95, the server's health-check answer times while the sessions load (what a browser's
connection checks wait for: Streamlit's client gives up on one after 15 s), and every error as one JSON line.

    .venv/bin/python scripts/load_test.py [--sessions 20] [--url http://127.0.0.1:8501]

Without --url it starts its own server (localhost, a free port, a temporary runs folder).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
PAGES = [("sentiment", "Sentiment"), ("inside", "Inside"), ("train", "Train")]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
RENDER_LIMIT_MS = 600_000  # generous: 20 sessions on 2 busy cores queue behind each other
TRAIN_LIMIT_MS = 900_000


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


async def one_session(browser, base: str, i: int, train: bool) -> dict:
    """Open the app in a fresh browser context and go to one page; time until that page has rendered (its
    script run finished); optionally train to the end."""
    path, heading = PAGES[i % len(PAGES)]
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    out = {"session": i, "page": path, "trained": False}
    try:
        start = time.perf_counter()
        # In through the front door and the sidebar, as a person comes (a deep link makes Streamlit's frontend
        # probe <page>/_stcore/health first, a harmless 404 the browser logs as an error).
        await page.goto(base, timeout=RENDER_LIMIT_MS)
        link = page.locator('[data-testid="stSidebarNav"] a', has_text=re.compile(f"{re.escape(heading)}$"))
        await link.click(timeout=RENDER_LIMIT_MS)
        await page.get_by_role("heading", name=heading, level=1).wait_for(timeout=RENDER_LIMIT_MS)
        await page.wait_for_selector(IDLE, timeout=RENDER_LIMIT_MS)
        out["first_render_ms"] = (time.perf_counter() - start) * 1000
        shown = await page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').all_inner_texts()
        errors += [f"on the page: {t[:200]}" for t in shown]
        if train:
            await page.get_by_role("button", name="Train", exact=True).click(timeout=RENDER_LIMIT_MS)
            await page.get_by_text("Saved as run").wait_for(timeout=TRAIN_LIMIT_MS)
            out["trained"] = True
    except Exception as e:
        errors.append(f"{type(e).__name__}: {str(e).splitlines()[0][:200]}")
    finally:
        await context.close()
    out["errors"] = errors
    return out


async def health_times(base: str, done: asyncio.Event, every: float = 1.0) -> list[float]:
    """Time one health check a second (milliseconds each; a check with no answer in 60 s counts as 60 s) until
    ``done``."""
    times: list[float] = []

    def check() -> float:
        start = time.perf_counter()
        _healthy(base, timeout=60)
        return (time.perf_counter() - start) * 1000

    while not done.is_set():
        times.append(await asyncio.to_thread(check))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), every)
    return times


async def run_load(base: str, sessions: int, chromium: str = CHROMIUM) -> dict:
    """Drive ``sessions`` sessions against ``base`` at once; return the figures."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=ARGS)
        done = asyncio.Event()
        try:
            start = time.perf_counter()
            probe = asyncio.create_task(health_times(base, done))
            trainer = next((i for i in range(sessions) if PAGES[i % len(PAGES)][0] == "train"), None)
            results = await asyncio.gather(*(one_session(browser, base, i, i == trainer) for i in range(sessions)))
            wall = time.perf_counter() - start
        finally:
            done.set()
            health = await probe
            await browser.close()
    times = [r["first_render_ms"] for r in results if "first_render_ms" in r]
    healthy = _healthy(base)
    return {
        "sessions": sessions,
        "rendered": len(times),
        "errors": [f"session {r['session']} ({r['page']}): {e}" for r in results for e in r["errors"]],
        "trained": any(r["trained"] for r in results),
        "first_render_p50_ms": round(statistics.median(times), 0) if times else None,
        "first_render_p95_ms": round(percentile(times, 95), 0) if times else None,
        "first_render_max_ms": round(max(times), 0) if times else None,
        "per_page_p50_ms": {p: round(statistics.median(t), 0) for p, _ in PAGES
                            if (t := [r["first_render_ms"] for r in results if r["page"] == p and
                                      "first_render_ms" in r])},
        "health_check_p50_ms": round(statistics.median(health), 0) if health else None,
        "health_check_max_ms": round(max(health), 0) if health else None,
        "wall_s": round(wall, 1),
        "server_healthy_after": healthy,
    }


def _healthy(base: str, timeout: float = 10) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(runs_dir: str) -> tuple[subprocess.Popen, str]:
    """``streamlit run streamlit_app.py`` on a free localhost port; returns (process, base URL) once healthy."""
    port = _free_port()
    env = {**os.environ, "UNROLLED_RUNS_DIR": runs_dir}
    env.setdefault("UNROLLED_DATA_DIR", str(REPO.parent / "shared" / "data"))
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while not _healthy(base):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the Streamlit server did not start")
        time.sleep(0.5)
    return proc, base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--url", help="a running server (default: start one)")
    args = ap.parse_args()
    proc = None
    with tempfile.TemporaryDirectory(prefix="unrolled-load-") as runs:
        base = args.url
        if base is None:
            proc, base = start_server(runs)
        try:
            figures = asyncio.run(run_load(base, args.sessions))
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
