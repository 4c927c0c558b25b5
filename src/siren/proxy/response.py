"""Responses the sidecar writes itself: the block page (403, JSON or HTML by ``Accept``) and
short error answers (400, 408, 413, 431, 502, 503, 504...). Pure functions returning bytes."""

from __future__ import annotations

from http import HTTPStatus

import orjson

_REASONS = {s.value: s.phrase for s in HTTPStatus}


def reason(status: int) -> str:
    return _REASONS.get(status, "Unknown")


def wants_json(accept: str) -> bool:
    """JSON when the client prefers it to HTML (``application/json`` or ``+json`` ranked above
    ``text/html``); browsers, which ask for HTML first, get HTML."""
    if not accept:
        return False
    best_json = best_html = -1.0
    for n, item in enumerate(accept.lower().split(",")):
        media, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        rank = q - n * 1e-6  # earlier wins on a tie
        media = media.strip()
        if media == "application/json" or media.endswith("+json"):
            best_json = max(best_json, rank)
        elif media in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, rank)
    return best_json > 0 and best_json > best_html


def head(status: int, headers: list[tuple[str, str]], body_length: int, *, close: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason(status)}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append(f"Content-Length: {body_length}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def simple(
    status: int, message: str, request_id: str = "", *, close: bool = False, extra: list[tuple[str, str]] | None = None,
    head_only: bool = False,
) -> bytes:
    """A short plain-text answer (errors the client should be able to read and act on)."""
    body = f"{status} {reason(status)}: {message}\n".encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")]
    if request_id:
        headers.append(("X-Request-Id", request_id))
    headers += extra or []
    return head(status, headers, len(body), close=close) + (b"" if head_only else body)


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Request blocked</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}}
code{{background:#f3f3f3;padding:.1em .3em}}</style></head>
<body><h1>Request blocked</h1>
<p>This request was blocked by the web application firewall.</p>
<p>If you think this is a mistake, contact the site's operators and quote the incident id
<code>{incident}</code>.</p></body></html>
"""


def blocked(incident_id: str, request_id: str, accept: str, *, close: bool = False, head_only: bool = False) -> bytes:
    """The 403 a blocked client gets: an incident id to quote, never the rule or the evidence."""
    headers = [("Cache-Control", "no-store"), ("X-Request-Id", request_id), ("X-Siren-Incident", incident_id)]
    if wants_json(accept):
        body = orjson.dumps({"error": "blocked", "incident_id": incident_id, "request_id": request_id}) + b"\n"
        headers.insert(0, ("Content-Type", "application/json"))
    else:
        body = _HTML.format(incident=incident_id).encode()
        headers.insert(0, ("Content-Type", "text/html; charset=utf-8"))
    return head(403, headers, len(body), close=close) + (b"" if head_only else body)
