"""Text from outside (a link's query string, a run folder's config) shown inside Markdown: every Markdown
character escaped, control characters dropped, whitespace collapsed and the whole shortened, so it reads as
the text it is — never as a link, an image, an icon or a colour directive."""

from __future__ import annotations

import re

LIMIT = 60  # characters of an echoed value kept; the rest is shown as "…"
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'@/])")  # ASCII punctuation Markdown or HTML may act on


def quote(value: object, limit: int = LIMIT) -> str:
    """``value`` as safe Markdown text: ``quote("[x](https://e.example)")`` renders literally as ``[x](https://e.example)``.

    Shortened to ``limit`` characters (plus "…") before escaping, so a long value can't flood a notice."""
    text = "".join(ch for ch in " ".join(str(value).split()) if ch.isprintable())
    if len(text) > limit:
        text = text[: max(1, limit - 1)] + "…"
    return _MARKDOWN.sub(r"\\\1", text)
