"""URL decoding: ``%XX``, ``+``, IIS-style ``%uXXXX``, bounded multi-pass.

Malformed escapes are kept literally (never an error): attackers use them to confuse decoders,
and the protocol detector reports them separately. Overlong UTF-8 escapes of ASCII (``%c0%ae``,
``%e0%80%af``, ``%f8%80%80%80%ae``…) are decoded to the ASCII character a lenient decoder (old IIS,
some Java and PHP stacks) would see, instead of U+FFFD: see :func:`decode_overlong`.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus

_PCT_U = re.compile(r"%u([0-9a-fA-F]{4})")
MAX_PASSES = 3
# A lead byte that can only start an overlong form (C0/C1; E0 80, F0 80 80, F8 80 80 80,
# FC 80 80 80 80; ``%bg`` is C0 written with IIS's lax hex digits), then the last byte, whose
# digits may be any letter (IIS read ``%pc`` as 0x19c, ``%9v`` as 0xaf, ``%qf`` as 0x1af).
_OVERLONG = re.compile(
    r"%(?:(c[01]|bg)|e0%[48]0|f0%80%80|f8%80%80%80|fc%80%80%80%80)%([0-9a-z])([0-9a-z])", re.IGNORECASE
)
_OVERLONG_HINT = re.compile(r"%(?:c[01]|bg|e0|f0|f8|fc)%", re.IGNORECASE)


def _lax_hex(c: str) -> int:
    c = c.lower()
    return ord(c) - 48 if c <= "9" else ord(c) - 87


def _overlong_char(m: re.Match[str]) -> str:
    byte = _lax_hex(m.group(2)) * 16 + _lax_hex(m.group(3))
    high = 1 if (m.group(1) or "").lower() == "c1" else 0
    code = (high << 6) | (byte & 0x3F)
    if code < 0x20 and 0x20 <= byte < 0x7F:
        # a plain ASCII byte after a bare lead byte (``%c0%5c``): strict decoders drop the lead
        return chr(byte)
    return chr(code)


def decode_overlong(value: str) -> str:
    """Overlong and IIS-lax UTF-8 escapes of ASCII → the character (``%c0%af`` → ``/``, ``%c1%9c`` →
    ``\\``, ``%c0%2e`` → ``.``); valid UTF-8 escapes never match (their lead bytes differ)."""
    if "%" not in value or not _OVERLONG_HINT.search(value):
        return value
    return _OVERLONG.sub(_overlong_char, value)


def url_decode(value: str) -> str:
    """One pass of form decoding: ``+`` is a space, ``%XX`` a UTF-8 byte (invalid bytes kept as U+FFFD)."""
    if "%" not in value and "+" not in value:
        return value
    value = decode_overlong(value)
    return unquote_plus(value, errors="surrogateescape").encode("utf-8", "surrogateescape").decode(
        "utf-8", "replace"
    )


def url_decode_uni(value: str) -> str:
    """Decode IIS ``%uXXXX`` escapes, then ``%XX`` (without ``+`` → space)."""
    if "%" not in value:
        return value
    if "%u" in value or "%U" in value:
        value = _PCT_U.sub(lambda m: chr(int(m.group(1), 16)), value)
    value = decode_overlong(value)
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
