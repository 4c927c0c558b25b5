"""JavaScript and CSS escape decoding (``\\xNN``, ``\\uNNNN``, ``\\u{N}``, octal; CSS ``\\NNNNNN``)."""

from __future__ import annotations

import re

_JS = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|([0-7]{1,3})|(.))", re.DOTALL)
_CSS = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.DOTALL)
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _chr(code: int) -> str:
    return chr(code) if 0 <= code < 0x110000 and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def _js(match: re.Match[str]) -> str:
    hex2, brace, hex4, octal, other = match.groups()
    if hex2 is not None:
        return _chr(int(hex2, 16))
    if brace is not None:
        return _chr(int(brace, 16))
    if hex4 is not None:
        return _chr(int(hex4, 16))
    if octal is not None:
        return _chr(int(octal, 8))
    return _SIMPLE.get(other, other)


def js_decode(value: str) -> str:
    """Decode JavaScript string escapes; unknown escapes drop the backslash."""
    if "\\" not in value:
        return value
    return _JS.sub(_js, value)


def _css(match: re.Match[str]) -> str:
    hexdigits, other = match.groups()
    if hexdigits is not None:
        return _chr(int(hexdigits, 16))
    return "" if other == "\n" else other


def css_decode(value: str) -> str:
    """Decode CSS escapes (``\\3c`` → ``<``, ``\\e`` → ``\\x0e``…)."""
    if "\\" not in value:
        return value
    return _CSS.sub(_css, value)
