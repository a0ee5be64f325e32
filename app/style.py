"""The app's look in one place: the font every figure uses and the colours shared between pages."""

from __future__ import annotations

FONT = "Inter, 'Source Sans Pro', Arial, sans-serif"
