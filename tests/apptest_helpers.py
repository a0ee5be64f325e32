"""Shared by the AppTest page tests: open a page of the whole app in a fresh session, and read the plotly
figures it sent (their arrays may come as plotly's typed-array form)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "streamlit_app.py")


def open_app_page(script: str, timeout: float = 90, **state: Any) -> AppTest:
    """A fresh session on the whole app (navigation included), with ``state`` put in its session state, switched
    to ``script``; the page ran without an exception."""
    at = AppTest.from_file(APP, default_timeout=timeout).run()
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(script).run()
    assert not at.exception, at.exception
    return at


def figures(at: AppTest) -> list[dict]:
    """The plotly figures the page sent: st.plotly_chart's, then the light charts' (app.light_chart, Inside's), each
    in page order."""
    from app.light_chart import COMPONENT

    light = [c for c in at.get("bidi_component") if c.proto.component_name == COMPONENT]
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")] + [json.loads(c.proto.json)["figure"]
                                                                         for c in light]


def plotly_array(v) -> np.ndarray:
    """A trace's x/y/z as plotly wrote it: a list, or {"dtype", "bdata", "shape"} base64."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return a.reshape([int(s) for s in str(v["shape"]).split(",")]) if "shape" in v else a
    return np.asarray(v)
