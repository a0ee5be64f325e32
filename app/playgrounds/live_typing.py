"""Live typing for an ``st.text_area`` or ``st.text_input``: commit its value a moment after the person stops typing.

Streamlit sends a text area's value on Ctrl+Enter (a text input's on Enter) or when the box loses focus. The
Sentiment, Tagging and Letters pages should instead follow the typing, debounced. A tiny Components-v2 script (no
iframe, no widget state of its own) listens for ``input`` events inside the keyed box and, once typing pauses for
``delay_ms``, sends the same key press the person could have pressed — so the box stays a normal Streamlit widget
(session state, AppTest, examples placed by buttons) and only the moment of committing changes.
"""

from __future__ import annotations

import streamlit as st

_JS = r"""
export default function ({ data }) {
  // One document-level listener per text area, kept across reruns; later renders only update the delay.
  const live = (window.__unrolledLiveText = window.__unrolledLiveText || {});
  const selector = data.selector;
  if (live[selector]) { live[selector].delay = data.delay; return; }
  const entry = (live[selector] = { delay: data.delay, timer: null });
  document.addEventListener("input", (event) => {
    const box = event.target;
    const area = box instanceof HTMLTextAreaElement;
    if (!(area || box instanceof HTMLInputElement) || !box.closest(selector)) return;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      if (!box.isConnected) return;
      // Streamlit's text area commits on Ctrl+Enter, its text input on Enter: that key press, sent for the person.
      for (const type of area ? ["keydown"] : ["keydown", "keypress"]) {
        box.dispatchEvent(new KeyboardEvent(type, {
          key: "Enter", code: "Enter", keyCode: 13, which: 13, ctrlKey: area, bubbles: true, cancelable: true,
        }));
      }
    }, entry.delay);
  }, true);
}
"""

_component = st.components.v2.component("unrolled_live_text", html="<span></span>", js=_JS)


def follow_typing(key: str, delay_ms: int = 400) -> None:
    """Make the ``st.text_area`` or ``st.text_input`` with widget key ``key`` send its value ``delay_ms`` after
    typing pauses."""
    _component(data={"selector": f".st-key-{key}", "delay": int(delay_ms)}, key=f"live_text_{key}")
