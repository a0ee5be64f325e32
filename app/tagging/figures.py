"""The Tagging page's views: words as tag-coloured chips (confidence, runner-up, gold tag and mistakes, tags
that change with the backward direction off) and the test-set confusion matrix."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from app.style import FONT

# One colour per UPOS tag, grouped by kind: nominal blues, verbal greens, modifiers oranges, function words
# purples and greys, punctuation and symbols grey.
TAG_COLOURS = {
    "NOUN": "#2563eb", "PROPN": "#1e40af", "PRON": "#60a5fa", "NUM": "#0891b2",
    "VERB": "#16a34a", "AUX": "#65a30d",
    "ADJ": "#ea580c", "ADV": "#d97706",
    "ADP": "#9333ea", "DET": "#a855f7", "CCONJ": "#c026d3", "SCONJ": "#db2777", "PART": "#7c3aed",
    "INTJ": "#e11d48", "PUNCT": "#6b7280", "SYM": "#4b5563", "X": "#9ca3af",
}
TAG_NAMES = {
    "ADJ": "adjective", "ADP": "adposition", "ADV": "adverb", "AUX": "auxiliary", "CCONJ": "coordinating conjunction",
    "DET": "determiner", "INTJ": "interjection", "NOUN": "noun", "NUM": "numeral", "PART": "particle",
    "PRON": "pronoun", "PROPN": "proper noun", "PUNCT": "punctuation", "SCONJ": "subordinating conjunction",
    "SYM": "symbol", "VERB": "verb", "X": "other",
}
READ_CHIPS = (
    "How to read this: each word sits on its predicted tag's colour, with the model's confidence and, smaller, "
    "its second choice. A dotted outline marks a word training never showed (the tag comes from its letters and "
    "its neighbours); a red outline a wrong tag, with the right one named."
)
READ_CONFUSION = (
    "How to read this: rows are the right tags, columns what the model said; each row is shaded by its share "
    "(0 to 1), so the diagonal is accuracy per tag and bright cells off it are the usual mix-ups. Hover for counts."
)


def chips_html(words: Sequence[str], tags: Sequence[str], confidence: Sequence[float] | None = None,
               runner_up: Sequence[str] | None = None, runner_up_p: Sequence[float] | None = None,
               seen: Sequence[bool] | None = None, gold: Sequence[str] | None = None,
               changed: Sequence[int] = ()) -> str:
    """Words as coloured chips (every text escaped). ``gold``: the right tags — wrong ones get a red outline;
    ``changed``: positions to ring in amber (tags that differ from another reading of the sentence)."""
    parts = []
    marked = set(changed)
    for i, (w, t) in enumerate(zip(words, tags)):
        colour = TAG_COLOURS.get(t, "#9ca3af")
        lines = [f"<b>{html.escape(t)}</b>" + (f" {confidence[i]:.0%}" if confidence is not None else "")]
        title = f"{w}: {t} ({TAG_NAMES.get(t, t)})"
        if confidence is not None:
            title += f", {confidence[i]:.1%}"
        if runner_up is not None and runner_up_p is not None:
            lines.append(f'<span style="opacity:.8;font-size:.72rem">then {html.escape(runner_up[i])} '
                         f"{runner_up_p[i]:.0%}</span>")
            title += f"; runner-up {runner_up[i]} {runner_up_p[i]:.1%}"
        border = "2px solid transparent"
        if seen is not None and not seen[i]:
            border, title = "2px dotted #111827", title + " · not seen in training"
        if gold is not None and gold[i] != t:
            border, title = "3px solid #dc2626", title + f" · right tag: {gold[i]}"
            lines.append(f'<span style="font-size:.72rem">right: <b>{html.escape(gold[i])}</b></span>')
        if i in marked:
            border = "3px solid #f59e0b"
        parts.append(
            f'<span title="{html.escape(title)}" style="display:inline-block;margin:3px;padding:3px 7px;'
            f'border-radius:6px;background:{colour};color:#fff;border:{border};text-align:center;line-height:1.25">'
            f'<span style="font-size:1rem">{html.escape(w)}</span><br>'
            f'<span style="font-size:.78rem">{"<br>".join(lines)}</span></span>'
        )
    return f'<div style="font-family:{FONT}">' + "".join(parts) + "</div>"


def legend_html(tags: Sequence[str]) -> str:
    """A one-line legend of the tags in use."""
    return " ".join(
        f'<span style="background:{TAG_COLOURS[t]};color:#fff;padding:1px 6px;border-radius:4px;'
        f'font-size:.78rem;margin:1px;display:inline-block" title="{TAG_NAMES[t]}">{t} · {TAG_NAMES[t]}</span>'
        for t in tags if t in TAG_COLOURS
    )


def fig_confusion(confusion: np.ndarray, labels: Sequence[str], height: int = 520) -> go.Figure:
    """Row-normalised confusion matrix (gold rows × predicted columns), counts and shares on hover."""
    counts = np.asarray(confusion, dtype=np.int64)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig = go.Figure(go.Heatmap(
        z=share, x=list(labels), y=list(labels), zmin=0, zmax=1, colorscale="Blues", customdata=counts,
        colorbar=dict(title="share of row"),
        hovertemplate="right %{y}, said %{x}<br>%{customdata:,} words (%{z:.1%} of %{y})<extra></extra>",
    ))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), font=dict(family=FONT),
                      xaxis=dict(title="predicted", side="top"), yaxis=dict(title="right tag", autorange="reversed"))
    return fig
