"""The responses the sidecar writes itself."""

from __future__ import annotations

import pytest

from siren.proxy import response


@pytest.mark.parametrize(
    "accept,json",
    [
        ("", False),
        ("*/*", False),
        ("application/json", True),
        ("application/problem+json", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("application/json, text/html", True),
        ("text/html, application/json", False),
        ("text/html;q=0.5, application/json", True),
        ("application/json;q=0", False),
        ("application/json;q=bad", False),
    ],
)
def test_json_or_html_by_accept(accept: str, json: bool) -> None:
    assert response.wants_json(accept) is json


def test_block_page_carries_the_incident_and_no_evidence() -> None:
    data = response.blocked("00ff00ff00ff00ff", "req-1", "application/json")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert b"X-Siren-Incident: 00ff00ff00ff00ff" in head
    assert body == b'{"error":"blocked","incident_id":"00ff00ff00ff00ff","request_id":"req-1"}\n'
    assert b"Content-Length: %d" % len(body) in head
    html = response.blocked("abc", "req-2", "text/html", close=True)
    assert b"Connection: close" in html and b"<code>abc</code>" in html


def test_simple_answers() -> None:
    data = response.simple(503, "overloaded", "r", close=True, extra=[("Retry-After", "1")])
    assert data.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert b"Retry-After: 1\r\n" in data and data.endswith(b"503 Service Unavailable: overloaded\n")
    assert response.simple(400, "x", head_only=True).endswith(b"\r\n\r\n")
