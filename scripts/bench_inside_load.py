"""Benchmark: how long a fresh browser session takes to open the bundled IMDB run on Inside, where the time goes,
and which process spends the CPU (issue #10, point 3).

    .venv/bin/python scripts/bench_inside_load.py [--runs 5] [--url http://127.0.0.1:8501] [--cpus 1]

One warm-up session fills the server's caches; then each run opens ``/inside?run=imdb-gru`` in a new browser
context (empty HTTP cache, new Streamlit session) and prints, in milliseconds from navigation:

- ``script``: the page script starts running (Streamlit's frontend has loaded and connected);
- ``figure msg``: the figure's websocket message has reached the page (the largest message);
- ``mounted``: the chart element exists (Streamlit has rendered every element before it);
- ``drawn``: plotly.js has drawn the heatmaps (the figure the issue times);

and, on Linux, the CPU seconds each process group used during that load: the page's renderer (its main thread and
its worker threads apart), chromium's browser, GPU and network processes, the app server, the Playwright driver.
Their sum against cores × wall time shows how saturated the machine is. One JSON line of medians ends it.

Without --url it starts its own server (localhost, a free port, a temporary runs folder).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from load_test import ARGS, CHROMIUM, start_server

RUN = "imdb-gru"
DRAWN = ".unrolled-chart .hm image"
# Marks the load's milestones (ms since navigation) and the arrival of the largest websocket message.
MARKS = """
window.__ev = {}; window.__big = [0, null];
const mark = k => { if (!(k in window.__ev)) window.__ev[k] = performance.now(); };
const _WS = window.WebSocket;
window.WebSocket = function (...a) {
  const ws = new _WS(...a);
  ws.addEventListener('message', e => {
    const n = e.data.byteLength ?? e.data.size ?? e.data.length ?? 0;
    if (n > window.__big[0]) window.__big = [n, performance.now()];
  });
  return ws;
};
window.WebSocket.prototype = _WS.prototype;
Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
new MutationObserver(() => {
  if (document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState === 'running') mark('script');
  if (document.querySelector('.unrolled-chart')) mark('mounted');
  if (document.querySelector('__DRAWN__')) mark('drawn');
}).observe(document, {subtree: true, childList: true, attributes: true});
""".replace("__DRAWN__", DRAWN)


def cpu_seconds(server_pid: int | None) -> dict[str, float]:
    """CPU seconds (user + system) used so far, per process group; {} where /proc is missing."""
    if not Path("/proc/self/stat").exists():
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    out: collections.Counter[str] = collections.Counter()

    def used(stat: str) -> float:
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime, stime

    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        if int(pid) == server_pid:
            out["app server"] += used(stat)
        elif "chromium" in cmd and "--type=renderer" in cmd:
            try:  # the main thread apart from V8's and the rasteriser's worker threads
                for tid in os.listdir(f"/proc/{pid}/task"):
                    tstat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
                    main = tid == pid
                    out["renderer main thread" if main else "renderer workers"] += used(tstat)
            except OSError:
                continue
        elif "chromium" in cmd:
            kind = cmd.split("--type=")[1].split()[0] if "--type=" in cmd else "browser"
            out[f"chromium {kind}"] += used(stat)
        elif "playwright" in cmd and "node" in cmd:
            out["playwright driver"] += used(stat)
    return dict(out)


def one_load(browser, base: str, server_pid: int | None) -> dict:
    """Open Inside on the bundled run in a new context; the milestones (ms) and the CPU used per process group."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.add_init_script(MARKS)
        before = cpu_seconds(server_pid)
        start = time.perf_counter()
        page.goto(f"{base}/inside?run={RUN}")
        page.wait_for_selector(DRAWN, timeout=240_000)
        wall = time.perf_counter() - start
        after = cpu_seconds(server_pid)
        marks = page.evaluate("window.__ev")
        size, arrived = page.evaluate("window.__big")
    finally:
        context.close()
    cpu = {k: round(after[k] - before.get(k, 0.0), 2) for k in after if after[k] - before.get(k, 0.0) > 0.005}

    def ms(t: float | None) -> int | None:  # a milestone the observer did not see stays None
        return None if t is None else round(t)

    return {"wall_s": round(wall, 2), "script_ms": ms(marks.get("script")), "figure_msg_ms": ms(arrived),
            "figure_msg_bytes": size, "mounted_ms": ms(marks.get("mounted")), "drawn_ms": ms(marks.get("drawn")),
            "cpu_s": dict(sorted(cpu.items(), key=lambda kv: -kv[1]))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--url", help="a running server (default: start one, whose CPU is then counted too)")
    ap.add_argument("--cpus", type=int, help="run everything (server, browser, driver) on this many of the machine's "
                    "cores: a slower machine's stand-in (Linux; a --url server keeps its own cores)")
    args = ap.parse_args()
    if args.cpus:  # inherited by every process started from here on
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cpus])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="unrolled-bench-") as runs:
        proc, base = (None, args.url) if args.url else start_server(runs)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                warm = browser.new_context()
                page = warm.new_page()
                page.goto(base)
                page.get_by_role("heading", name="Unrolled").first.wait_for(timeout=240_000)
                page.goto(f"{base}/inside?run={RUN}")
                page.wait_for_selector(DRAWN, timeout=240_000)
                warm.close()
                loads = []
                for i in range(args.runs):
                    loads.append(one_load(browser, base, proc.pid if proc else None))
                    r = loads[-1]
                    cpu = sum(r["cpu_s"].values())
                    print(f"run {i + 1}: drawn {r['wall_s']:.2f} s | script {r['script_ms']} ms, figure msg "
                          f"{r['figure_msg_ms']} ms ({r['figure_msg_bytes'] / 1e3:.0f} kB), mounted "
                          f"{r['mounted_ms']} ms, drawn {r['drawn_ms']} ms | CPU {cpu:.2f} s of "
                          f"{cores * r['wall_s']:.2f} core-s: {r['cpu_s']}", flush=True)
                browser.close()
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)

    def median(key: str) -> float | None:
        seen = [r[key] for r in loads if r[key] is not None]
        return round(statistics.median(seen), 2) if seen else None

    groups = sorted({k for r in loads for k in r["cpu_s"]})
    print(json.dumps({"runs": len(loads), "cores": cores, "drawn_s_median": median("wall_s"),
                      "drawn_s_min": min(r["wall_s"] for r in loads), "script_ms_median": median("script_ms"),
                      "figure_msg_ms_median": median("figure_msg_ms"), "mounted_ms_median": median("mounted_ms"),
                      "cpu_s_median": {g: round(statistics.median(r["cpu_s"].get(g, 0.0) for r in loads), 2)
                                       for g in groups}}))


if __name__ == "__main__":
    sys.exit(main())
