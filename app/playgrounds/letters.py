"""The Letters playground's parts: the typed letters as HTML (letters outside the alphabet struck through), what
the training patterns say comes next, and the next-letter bar charts. Pure: no ``st.*``.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rnn_core.tasks.letters import ALPHABET

from ..style import FONT

BAD = "#c62828"  # a character the model does not read
BAR_COLUMNS = 8  # next-letter bar charts per row

def letters_html(text: str) -> str:
    """The typed text as HTML: letters of the alphabet as they are, every other character struck through in
    red (all of it escaped), so a person sees exactly which characters the model will not read."""
    parts = []
    for ch in str(text):
        if ch.isspace():
            parts.append(" ")
        elif ch.lower() in ALPHABET:
            parts.append(html.escape(ch))
        else:
            parts.append(f'<s style="color:{BAD};font-weight:600" title="not one of {", ".join(ALPHABET)}">'
                         f"{html.escape(ch)}</s>")
    return ('<div style="font-family:monospace;font-size:1.4rem;letter-spacing:0.15em">' + "".join(parts)
            + "</div>")


def next_in_cycle(letters: list[str], variant: str) -> np.ndarray:
    """What the training patterns say follows each typed letter: the next of "abcde", with e → a in the
    4-letter variant (its windows wrap round) and nothing (−1) after e in the 1-letter one."""
    nxt = [ALPHABET.index(ch) + 1 for ch in letters]
    return np.array([k % len(ALPHABET) if variant == "4in" else (k if k < len(ALPHABET) else -1) for k in nxt])


def fig_letter_bars(letters: list[str], probs: np.ndarray, expected: np.ndarray | None = None) -> go.Figure:
    """One bar chart per step: the model's probability for each next letter after reading the letters so far
    ([seq, 5] probabilities). The predicted letter is the dark bar; the expected one (if known) is outlined."""
    seq = len(letters)
    cols = min(BAR_COLUMNS, seq)
    rows = -(-seq // cols)
    titles = []
    for t in range(seq):
        k = int(probs[t].argmax())
        titles.append(f"after <b>{html.escape(''.join(letters[max(0, t - 5): t + 1]))}</b> → "
                      f"<b>{ALPHABET[k]}</b> {probs[t, k]:.0%}")
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.025,
                        vertical_spacing=0.5 / rows if rows > 1 else 0.0, shared_yaxes=True)
    for t in range(seq):
        r, c = divmod(t, cols)
        k = int(probs[t].argmax())
        colours = ["#1f2430" if j == k else "#9ca3af" for j in range(len(ALPHABET))]
        outline = [3 if expected is not None and j == expected[t] else 0 for j in range(len(ALPHABET))]
        fig.add_trace(go.Bar(x=list(ALPHABET), y=probs[t], name=f"step {t}", showlegend=False,
                             marker=dict(color=colours, line=dict(color="#ff7f0e", width=outline)),
                             hovertemplate=f"step {t} ('{html.escape(letters[t])}')<br>p(next = %{{x}}) = "
                                           "%{y:.3f}<extra></extra>"),
                      row=r + 1, col=c + 1)
    fig.update_yaxes(range=[0, 1], tickvals=[0, 0.5, 1], tickformat=".0%", gridcolor="#eef0f3")
    fig.update_xaxes(tickfont=dict(size=12), fixedrange=True)
    fig.update_annotations(font=dict(size=12, family=FONT))
    fig.update_layout(height=190 * rows + 30, margin=dict(l=50, r=20, t=40, b=20), template="plotly_white",
                      font=dict(family=FONT, size=12), bargap=0.25)
    return fig
