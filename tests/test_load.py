"""The load test (scripts/load_test.py) as a marked test: 20 browser sessions at once over Sentiment, Inside and
Train, one of them training. The server must stay up, every session must render with no error, and the
first-render p50 / p95 are printed among the measured figures (README records them)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import os
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "load_test.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("load_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_percentile_interpolates_between_ranks():
    lt = _load_script()
    assert lt.percentile([1, 2, 3, 4], 50) == 2.5 and lt.percentile([5], 95) == 5
    assert lt.percentile(list(range(101)), 95) == 95


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.quiet  # 20 sessions on two cores: run alone (make test)
def test_twenty_sessions_render_without_errors(streamlit_server, chromium_path, record_figure):
    lt = _load_script()
    n = int(os.environ.get("UNROLLED_LOAD_SESSIONS", "20"))
    # On a thread of its own: a sync Playwright fixture used earlier in the session leaves its event loop running
    # on this one, where asyncio.run refuses to start.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        figures = pool.submit(asyncio.run, lt.run_load(streamlit_server, n, chromium_path)).result()
    print(figures)
    record_figure("load: first render p50 ms", figures["first_render_p50_ms"])
    record_figure("load: first render p95 ms", figures["first_render_p95_ms"])
    record_figure("load: health check max ms", figures["health_check_max_ms"])
    assert figures["server_healthy_after"], "the server went down under load"
    assert figures["errors"] == [], figures["errors"]
    assert figures["rendered"] == n, figures
    assert figures["trained"], "the training session did not finish its job"
