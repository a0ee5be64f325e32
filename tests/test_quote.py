"""Query-string values echoed in notices: Markdown is escaped, control characters dropped, the value shortened."""

from __future__ import annotations

import pytest

from app.quote import LIMIT, quote
from app.train.settings import from_query


@pytest.mark.parametrize("value", ["[Click here to log in](https://evil.example/login)",
                                   "![x](https://evil.example/pixel.png)", "<img src=x onerror=alert(1)>",
                                   ":red[alarm] :material/error:", "**bold** _it_ `code` # head", "www.evil.example",
                                   "a\nb\tc\x1b[31m\x00d"])
def test_markdown_and_control_characters_are_escaped(value):
    out = quote(value)
    for i, ch in enumerate(out):  # every Markdown / HTML character is backslash-escaped
        if ch in "[]()!<>:*_`#" and out[i - 1] != "\\":
            pytest.fail(f"unescaped {ch!r} in {out!r}")
    assert not any(not ch.isprintable() for ch in out)
    assert out.replace("\\", "") == " ".join(value.split()).replace("\x1b", "").replace("\x00", "")[:LIMIT]


def test_long_values_are_shortened():
    out = quote("x" * 10_000)
    assert len(out) == LIMIT and out.endswith("…")


def test_train_link_notices_escape_the_value():
    _, notices = from_query({"task": "[Click here to log in](https://evil.example/login)", "lr": "![x](http://e/a.png)"})
    assert len(notices) == 2
    for n in notices:
        assert "](http" not in n and "\\[" in n
