"""Shared by the sweep tests: start ``python -m rnn_core sweep`` and SIGKILL it while its second run trains."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run 0 finishes in a moment; run 1 (10,000 epochs) is still training when the sweep is killed.
KILL_GRID = ["--task", "letters", "--grid", "epochs=3,10000", "--seeds", "0", "--workers", "1"]


def kill_sweep_mid_run(out: Path, *backend: str) -> int:
    """Run a sweep into ``out`` (with ``backend`` arguments such as ``--backend ray --address …``), SIGKILL it once
    run 0 is finished and run 1 is running, and return the pid that trained run 1."""
    proc = subprocess.Popen([sys.executable, "-m", "rnn_core", "sweep", *KILL_GRID, *backend, "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                runs = json.loads((out / "sweep.json").read_text())["runs"]
            except (OSError, ValueError, KeyError):  # not written yet, or caught mid-replace
                runs = []
            if runs and runs[0]["state"] == "finished" and runs[1]["state"] == "running":
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                return int(runs[1]["pid"])
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.2)
        raise AssertionError("the sweep never got to its second run")
    finally:
        if proc.poll() is None:
            proc.kill()
