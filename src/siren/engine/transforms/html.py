"""HTML entity decoding, including entities without the trailing semicolon and numeric forms."""

from __future__ import annotations

import html
import re

_NUMERIC_NO_SEMI = re.compile(r"&#(x[0-9a-fA-F]{1,6}|[0-9]{1,7})(?![0-9a-fA-F;])", re.IGNORECASE)


def _numeric(match: re.Match[str]) -> str:
    text = match.group(1)
    try:
        code = int(text[1:], 16) if text[0] in "xX" else int(text)
        return chr(code) if 0 < code < 0x110000 else ""
    except ValueError:
        return ""


def html_entity_decode(value: str) -> str:
    """Decode named and numeric entities (twice, for double-encoded input); total."""
    if "&" not in value:
        return value
    for _ in range(2):
        decoded = html.unescape(_NUMERIC_NO_SEMI.sub(_numeric, value))
        if decoded == value:
            break
        value = decoded
    return value
