"""Quiet Pause: plotly rejects the promise of an animation that Pause (or a slider drag) interrupts, with no reason
at all, and its own Play/Pause buttons never catch it — so every Pause in an animated figure would show up as an
uncaught browser error. A tiny Components-v2 script, run once per page, marks exactly those reason-less
rejections as handled; any other error still reaches the console."""

from __future__ import annotations

import streamlit as st

_JS = r"""
export default function () {
  if (window.__unrolledAnimationGuard) return;
  window.__unrolledAnimationGuard = true;
  window.addEventListener("unhandledrejection", (event) => {
    if (event.reason === undefined) event.preventDefault();  // plotly's interrupted animation, nothing else
  });
}
"""

_component = st.components.v2.component("unrolled_animation_guard", html="<span></span>", js=_JS)


def guard_animation_errors() -> None:
    """Install the guard in this browser tab (idempotent; renders nothing visible)."""
    _component(key="animation_guard")
