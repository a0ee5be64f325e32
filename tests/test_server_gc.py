"""The server stays responsive between script runs: it runs no full garbage collection after each one (0.3 s of CPU,
holding the GIL with torch, plotly and scikit-learn loaded, after every half-second poll of a training job), and
the libraries' objects are frozen out of Python's own collections while later garbage is still collected."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter in the repository (where ``streamlit run`` reads .streamlit/)."""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_the_server_runs_no_full_collection_after_every_script_run():
    code = ("from streamlit import config; config.get_config_options(force_reparse=True); "
            "print(config.get_option('runner.postScriptGC'))")
    assert _python(code) == "False"


def test_loaded_libraries_are_frozen_out_of_collections_and_later_garbage_is_still_collected():
    code = """
import gc, weakref
import plotly.graph_objects, streamlit, torch
from app import heap
tracked = len(gc.get_objects())
first, again = heap.freeze_loaded(), heap.freeze_loaded()
class Node: pass
node = Node(); node.self = node; ref = weakref.ref(node); del node  # a reference cycle made after the freeze
gc.collect()
print(tracked, gc.get_freeze_count(), len(gc.get_objects()), first, again, ref() is None)
"""
    tracked, frozen, left, first, again, collected = _python(code).split()
    assert int(tracked) > 100_000  # what every full collection walked before
    assert int(frozen) > 0.9 * int(tracked) and int(left) < 0.01 * int(tracked)
    assert (first, again) == ("True", "False")  # once per process
    assert collected == "True"
