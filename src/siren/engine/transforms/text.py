"""Text normalisation: case folding, whitespace, NUL removal, UTF-8 overlong sequences."""

from __future__ import annotations

import re

_WS = re.compile(r"\s+")
# Overlong two-byte encodings of ASCII as they look after a latin-1 view or a %-decode
# that kept the bytes: C0/C1 lead byte followed by a continuation byte.
_OVERLONG2 = re.compile("[\u00c0\u00c1]([\u0080-\u00bf])")
_OVERLONG3 = re.compile("\u00e0\u0080([\u0080-\u00bf])")
_OVERLONG_PCT = re.compile(r"%(c0|c1|e0%80)%([89ab][0-9a-f])", re.IGNORECASE)


def lowercase(value: str) -> str:
    return value.lower()


def compress_whitespace(value: str) -> str:
    """Every run of whitespace (including vertical tab and form feed) becomes one space."""
    return _WS.sub(" ", value)


def remove_nulls(value: str) -> str:
    return value.replace("\x00", "") if "\x00" in value else value


def _pct_overlong(match: re.Match[str]) -> str:
    lead = match.group(1).lower()
    low = int(match.group(2), 16) & 0x3F
    code = ((1 if lead == "c1" else 0) << 6 | low) if lead in ("c0", "c1") else low
    return chr(code)


def utf8_overlong_decode(value: str) -> str:
    """Map overlong UTF-8 forms of ASCII (``%c0%af``, ``\\xc0\\xae``…) to the ASCII they hide."""
    if "%" in value:
        value = _OVERLONG_PCT.sub(_pct_overlong, value)
    if "\u00c0" in value or "\u00c1" in value:
        value = _OVERLONG2.sub(lambda m: chr(((ord(m.group(0)[0]) & 1) << 6) | (ord(m.group(1)) & 0x3F)), value)
    if "\u00e0" in value:
        value = _OVERLONG3.sub(lambda m: chr(ord(m.group(1)) & 0x3F), value)
    return value
