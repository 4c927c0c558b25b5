"""The admin port: ``/healthz`` (the process serves), ``/readyz`` (it accepts traffic: engines
loaded, not draining), ``/metrics`` (Prometheus text). Tiny and separate from the data path:
one request per connection, GET/HEAD only, never exposed on the proxy's own port."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST

from siren.proxy import response

_READ_TIMEOUT = 5.0


class AdminServer:
    def __init__(self, ready: Callable[[], bool], metrics: Callable[[], bytes]) -> None:
        self.ready = ready
        self.metrics = metrics

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _READ_TIMEOUT)
            writer.write(self.answer(head))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    def answer(self, head: bytes) -> bytes:
        parts = head.split(b"\r\n", 1)[0].split(b" ")
        if len(parts) != 3:
            return response.simple(400, "bad request line", close=True)
        method, target = parts[0], parts[1].split(b"?", 1)[0]
        if method not in (b"GET", b"HEAD"):
            return response.simple(405, "GET or HEAD only", close=True, extra=[("Allow", "GET, HEAD")])
        head_only = method == b"HEAD"
        if target == b"/healthz":
            return _text(200, b"ok\n", "text/plain; charset=utf-8", head_only)
        if target == b"/readyz":
            if self.ready():
                return _text(200, b"ready\n", "text/plain; charset=utf-8", head_only)
            return _text(503, b"not ready\n", "text/plain; charset=utf-8", head_only)
        if target == b"/metrics":
            return _text(200, self.metrics(), CONTENT_TYPE_LATEST, head_only)
        return response.simple(404, "try /healthz, /readyz or /metrics", close=True)


def _text(status: int, body: bytes, content_type: str, head_only: bool) -> bytes:
    data = response.head(status, [("Content-Type", content_type), ("Cache-Control", "no-store")], len(body), close=True)
    return data if head_only else data + body
