"""Base64 blobs that decode to text: attackers wrap payloads to slip past signature scans."""

from __future__ import annotations

import binascii
import re

_B64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_MIN_PRINTABLE = 0.95


def base64_decode_text(value: str) -> str:
    """Return the decoded text of every base64 run that decodes to printable UTF-8, joined by
    newlines; ``""`` when there is none. Total: invalid input yields ``""``."""
    if len(value) < 16:
        return ""
    out: list[str] = []
    for match in _B64.finditer(value):
        blob = match.group(0).rstrip("=")
        blob = blob.replace("-", "+").replace("_", "/")
        blob += "=" * (-len(blob) % 4)
        try:
            raw = binascii.a2b_base64(blob)
            text = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        if not text:
            continue
        printable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
        if printable / len(text) >= _MIN_PRINTABLE:
            out.append(text)
    return "\n".join(out)


_WHOLE = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


def decode_base64_value(value: str) -> str | None:
    """The text a whole value decodes to when the value is one base64 token (standard or URL
    alphabet, padding optional) and decodes to printable UTF-8 with some non-alphanumeric
    character; ``None`` otherwise. Used to add a decoded twin of a target, since payloads are
    often sent base64-wrapped."""
    if len(value) < 8 or not _WHOLE.fullmatch(value) or len(value.rstrip("=")) % 4 == 1:
        return None
    blob = value.rstrip("=").replace("-", "+").replace("_", "/")
    blob += "=" * (-len(blob) % 4)
    try:
        text = binascii.a2b_base64(blob).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not text or not all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return None
    if text.isalnum():
        return None
    return text
