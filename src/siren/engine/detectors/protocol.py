"""Protocol anomalies: framing that smuggles requests, malformed encodings, odd methods."""

from __future__ import annotations

import re

from siren.engine.context import Context
from siren.engine.verdict import Finding

KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
     "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH"}
)
_BAD_PCT = re.compile(r"%(?![0-9a-fA-F]{2}|[uU][0-9a-fA-F]{4})")


def _f(rule: str, target: str, fragment: str, score: int, message: str) -> Finding:
    return Finding("protocol", rule, "protocol", target, fragment[:120], (), score, message)


class ProtocolDetector:
    name = "protocol"

    def detect(self, ctx: Context) -> list[Finding]:
        req = ctx.request
        out: list[Finding] = []
        if req.method.upper() not in KNOWN_METHODS:
            out.append(_f("protocol.method", "METHOD", req.method, 2, "unknown request method"))
        # One pass over the headers (names compared case-insensitively).
        cls: list[str] = []
        tes: list[str] = []
        has_host = False
        nul_header: str | None = None
        for name, value in req.headers:
            lname = name.lower()
            if lname == "content-length":
                cls.append(value)
            elif lname == "transfer-encoding":
                tes.append(value)
            elif lname == "host":
                has_host = True
            if nul_header is None and "\x00" in value:
                nul_header = name
        if cls and tes:
            out.append(_f("protocol.cl_te", "HEADERS", "", 5, "both Content-Length and Transfer-Encoding (request smuggling)"))
        if cls and (len(set(v.strip() for v in cls)) > 1 or any(not v.strip().isdigit() for v in cls)):
            out.append(_f("protocol.content_length", "HEADER:Content-Length", ",".join(cls), 5, "conflicting or invalid Content-Length"))
        if tes and any(t.strip().lower() != "chunked" for t in tes):
            out.append(_f("protocol.transfer_encoding", "HEADER:Transfer-Encoding", ",".join(tes), 4, "unsupported Transfer-Encoding"))
        if req.version == "HTTP/1.1" and not has_host:
            out.append(_f("protocol.host", "HEADERS", "", 2, "HTTP/1.1 request without Host"))
        if "%" in req.target:
            m = _BAD_PCT.search(req.target)
            if m:
                out.append(_f("protocol.percent", "URI", req.target[m.start() : m.start() + 12], 2, "invalid percent-encoding"))
            if "%00" in req.target:
                out.append(_f("protocol.nul", "URI", "%00", 4, "NUL byte in the request-target"))
        if nul_header is not None:
            out.append(_f("protocol.nul", f"HEADER:{nul_header}", "\\0", 4, "NUL byte in a header"))
        return out
