"""Plotly figures drawn by plotly.js's cartesian bundle instead of ``st.plotly_chart``.

``st.plotly_chart`` draws with Streamlit's own plotly chunk: 4.7 MB of JavaScript that a fresh browser fetches and
evaluates in one long task (1.1-1.6 s here) before the first chart can draw, after the script has already sent its
figure. The Inside page draws heatmaps and lines only, which plotly.js's official cartesian bundle (1.5 MB, the
same plotly.js release as the Python package's) holds. It is served from ``static/`` (``server.enableStaticServing``)
and loaded once per browser tab by this Components-v2 element, which then draws the figure in the page itself
(no iframe), with its frames, so Play and Pause animate in the browser as before.

The figure is sent as plotly's own JSON (``plotly.io.to_json``: arrays as base64 typed arrays), made once per figure
by the caller and cached (app.inside.shared): a rerun costs only Streamlit's ``json.dumps`` of it, no validation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

STATIC = Path(__file__).resolve().parents[1] / "static"
BUNDLE = "plotly-cartesian.min.js"
COMPONENT = "unrolled_light_chart"

# ``./app/static/…`` is relative to the page's URL, so it also works under a server.baseUrlPath.
_JS = r"""
const BUNDLE = "./app/static/__BUNDLE__";

function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  window.__unrolledPlotly ??= new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = BUNDLE;
    s.onload = () => resolve(window.Plotly);
    s.onerror = () => { window.__unrolledPlotly = undefined; reject(new Error(BUNDLE)); };
    document.head.appendChild(s);
  });
  return window.__unrolledPlotly;
}

function say(box, text, kind = "error") {
  const p = document.createElement("p");
  p.className = "unrolled-chart-" + kind;
  p.textContent = text;
  if (kind === "wait") p.style.opacity = "0.65";
  box.replaceChildren(p);
}

export default function ({ data, parentElement }) {
  let box = parentElement.querySelector(".unrolled-chart");
  if (!box) {
    box = document.createElement("div");
    box.className = "unrolled-chart";
    parentElement.appendChild(box);
  }
  if (box.dataset.figure !== data.id) {  // the same figure again (a rerun) is left as it is, animation and all
    box.dataset.figure = data.id;
    const fig = data.figure, layout = fig.layout || {};
    box.style.width = layout.width ? layout.width + "px" : "100%";
    box.style.minHeight = (layout.height || 450) + "px";
    // A fresh tab fetches and compiles the library first (about a second on two cores): say so meanwhile.
    if (!window.Plotly && !box.classList.contains("js-plotly-plot")) say(box, "Loading the chart library…", "wait");
    loadPlotly().then((Plotly) => {
      if (box.dataset.figure !== data.id) return;  // a newer figure arrived while the library loaded
      // Removed in the same task that draws, so no blank frame comes between the message and the figure.
      box.querySelectorAll(".unrolled-chart-error, .unrolled-chart-wait").forEach((p) => p.remove());
      return Plotly.react(box, {data: fig.data, layout: layout, frames: fig.frames || [], config: data.config})
        .catch((e) => {
          box.dataset.figure = "";
          say(box, "This figure could not be drawn: " + e + ". Reload the page; if this stays, show fewer quantities.");
          throw e;  // still reported in the browser console
        });
    }, () => {
      box.dataset.figure = "";
      say(box, "The chart library could not be loaded. Reload the page; if this stays, the server was started "
        + "without static serving (see .streamlit/config.toml).");
    });
  }
  return () => {  // unmounted: free plotly's listeners, and let a later mount draw afresh
    box.dataset.figure = "";
    if (window.Plotly) window.Plotly.purge(box);
  };
}
""".replace("__BUNDLE__", BUNDLE)

_component = st.components.v2.component(COMPONENT, html="<div></div>", js=_JS, isolate_styles=False)


def figure_spec(fig: go.Figure) -> dict[str, Any]:
    """``fig`` in the form sent to the browser: plotly's JSON (arrays as base64 typed arrays), parsed back into a
    dict of plain values. Costs a full serialisation, so callers make it once per figure."""
    return json.loads(pio.to_json(fig, validate=False))


def light_chart(spec: dict[str, Any], figure_id: str, key: str, config: dict[str, Any] | None = None) -> None:
    """Draw ``spec`` (from :func:`figure_spec`) in the page with plotly.js's cartesian bundle. ``figure_id`` names
    the figure: the browser redraws only when it changes, so a rerun does not restart a playing animation."""
    _component(key=key, data={"id": figure_id, "figure": spec,
                              "config": {"displaylogo": False, "responsive": True, **(config or {})}})


def plotly_js_version(path: Path = STATIC / BUNDLE) -> str:
    """The plotly.js release of a bundle, from its licence header (``plotly.js (…) v4.1.1``)."""
    with open(path, encoding="utf-8") as f:
        head = f.read(400)
    match = re.search(r"plotly\.js\b[^\n]*? v(\d+\.\d+\.\d+)", head)
    if not match:
        raise ValueError(f"{path} does not start with a plotly.js licence header")
    return match.group(1)
