"""The server's garbage collector: the objects of the libraries loaded at start are frozen out of later
collections.

Why: a full collection walks every tracked object, and torch, plotly, pandas and streamlit bring about 300,000 of
them, which live as long as the process. Each full collection took 0.3 s of CPU (0.6-0.9 s beside two busy
processes) holding the GIL, during which the server answers no browser. Frozen, they are skipped (a full collection
then takes microseconds of their share); objects made later are collected as usual.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_frozen = False


def freeze_loaded() -> bool:
    """Once per process: collect what is garbage now, then freeze every object still alive (``gc.freeze``).
    Call after the libraries are imported; True when this call did it."""
    global _frozen
    with _lock:
        if _frozen:
            return False
        gc.collect()  # garbage of the imports themselves is not kept for ever
        gc.freeze()
        _frozen = True
        return True
