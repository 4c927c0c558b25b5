"""The request as the engine sees it, and a strict parser from raw HTTP/1.x bytes.

Sans-I/O: the proxy builds :class:`Request` from its own wire parser; ``siren test`` and the
tests build it from raw bytes with :func:`parse_http`. A parse problem is returned as a
:class:`ParseError` value carrying the status the caller should answer with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_VERSION = re.compile(rb"^HTTP/1\.[01]$")


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request. ``target`` is the raw request-target (path and query, still encoded)."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    client: str = ""
    route: str = ""
    version: str = "HTTP/1.1"
    service: str = ""

    def header(self, name: str) -> str | None:
        """First value of a header (case-insensitive), or ``None``."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [value for key, value in self.headers if key.lower() == lname]

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        parts = self.target.split("?", 1)
        return parts[1] if len(parts) == 2 else ""


@dataclass(frozen=True, slots=True)
class ParseError:
    """Malformed input, with the HTTP status a server should answer."""

    reason: str
    status_hint: int = 400
    partial: Request | None = field(default=None)


def parse_http(raw: bytes, *, max_header_bytes: int = 65536) -> Request | ParseError:
    """Parse one request. Accepts LF or CRLF line ends (files written by hand use LF)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    if len(head) > max_header_bytes:
        return ParseError("header section too large", 431)
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return ParseError("empty request")
    parts = lines[0].split(b" ")
    if len(parts) != 3:
        return ParseError("bad request line")
    method, target, version = parts
    if not _TOKEN.match(method):
        return ParseError("bad method token")
    if not _VERSION.match(version):
        return ParseError("unsupported HTTP version", 505)
    if not target or any(b <= 0x20 or b == 0x7F for b in target):
        return ParseError("bad request-target")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            return ParseError("obsolete line folding")
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.match(name):
            return ParseError("bad header line")
        headers.append((name.decode("ascii"), value.strip(b" \t").decode("latin-1")))
    request = Request(
        method=method.decode("ascii"),
        target=target.decode("latin-1"),
        headers=tuple(headers),
        body=body,
        version=version.decode("ascii"),
    )
    te = request.header("Transfer-Encoding")
    if te is not None and te.strip().lower() == "chunked":
        decoded = _dechunk(body)
        if decoded is None:
            return ParseError("invalid chunked body", 400, request)
        return Request(request.method, request.target, request.headers, decoded, version=request.version)
    return request


def _dechunk(body: bytes) -> bytes | None:
    out = bytearray()
    pos = 0
    while True:
        end = body.find(b"\n", pos)
        if end < 0:
            return None
        size_text = body[pos:end].rstrip(b"\r").split(b";", 1)[0].strip()
        if not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
            return None
        size = int(size_text, 16)
        pos = end + 1
        if size == 0:
            return bytes(out)
        out += body[pos : pos + size]
        pos += size
        if body[pos : pos + 2] == b"\r\n":
            pos += 2
        elif body[pos : pos + 1] == b"\n":
            pos += 1
        else:
            return None
