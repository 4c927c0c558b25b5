"""URL decoding: ``%XX``, ``+``, IIS-style ``%uXXXX``, bounded multi-pass.

Malformed escapes are kept literally (never an error): attackers use them to confuse decoders,
and the protocol detector reports them separately.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus

_PCT_U = re.compile(r"%u([0-9a-fA-F]{4})")
MAX_PASSES = 3


def url_decode(value: str) -> str:
    """One pass of form decoding: ``+`` is a space, ``%XX`` a UTF-8 byte (invalid bytes kept as U+FFFD)."""
    if "%" not in value and "+" not in value:
        return value
    return unquote_plus(value, errors="surrogateescape").encode("utf-8", "surrogateescape").decode(
        "utf-8", "replace"
    )


def url_decode_uni(value: str) -> str:
    """Decode IIS ``%uXXXX`` escapes, then ``%XX`` (without ``+`` → space)."""
    if "%" not in value:
        return value
    if "%u" in value or "%U" in value:
        value = _PCT_U.sub(lambda m: chr(int(m.group(1), 16)), value)
    return unquote(value, errors="replace")


def url_decode_multi(value: str) -> str:
    """Repeat ``%uXXXX``/``%XX`` decoding until stable, at most :data:`MAX_PASSES` passes."""
    for _ in range(MAX_PASSES):
        if "%" not in value:
            break
        decoded = url_decode_uni(value)
        if decoded == value:
            break
        value = decoded
    return value
