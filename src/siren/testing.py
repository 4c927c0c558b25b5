"""Test factories shipped with the package, for Siren's tests and for anyone embedding the engine."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from siren.engine.request import Request


def make_request(
    target: str = "/",
    *,
    method: str = "GET",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    body: bytes | str | None = None,
    form: dict[str, str] | None = None,
    json_body: object = None,
    client: str = "127.0.0.1",
) -> Request:
    """A well-formed request with browser-like headers; ``form``/``json_body`` set the body and
    its Content-Type."""
    hdrs: list[tuple[str, str]] = [
        ("Host", "localhost"),
        ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"),
        ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
    ]
    raw = b""
    if form is not None:
        raw = urlencode(form).encode()
        hdrs.append(("Content-Type", "application/x-www-form-urlencoded"))
    elif json_body is not None:
        raw = json.dumps(json_body).encode()
        hdrs.append(("Content-Type", "application/json"))
    elif body is not None:
        raw = body.encode("utf-8") if isinstance(body, str) else body
    if headers:
        items = list(headers.items()) if isinstance(headers, dict) else list(headers)
        names = {k.lower() for k, _ in items}
        hdrs = [(k, v) for k, v in hdrs if k.lower() not in names] + items
    if raw:
        if method == "GET":
            method = "POST"
        hdrs.append(("Content-Length", str(len(raw))))
    return Request(method, target, tuple(hdrs), raw, client=client)
