"""``siren proxy``'s handler: inspect each request, then answer 403 or forward it upstream and
stream the response back.

Nothing reaches the upstream before the engine has seen the request (its whole body, or the
first ``limits.body_inspect_bytes`` of it). Responses are relayed piece by piece as they are
parsed, re-framed for the client (hop-by-hop headers dropped, chunked or Content-Length), never
buffered whole. An upstream that is down or silent gives 502 or 504, never a hang.
"""

from __future__ import annotations

import asyncio
from typing import Any

from siren.engine import Action, Request
from siren.proxy import response
from siren.proxy.config import ProxyConfig, Service
from siren.proxy.inspection import Inspector
from siren.proxy.metrics import Stats
from siren.proxy.server import HOP_BY_HOP, ClientConnection, Exchange
from siren.proxy.upstream import UpstreamConnection, UpstreamError, UpstreamPool

_IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS", b"PUT", b"DELETE", b"TRACE"})
_STANDARD_CONNECTION_TOKENS = frozenset({b"close", b"keep-alive", b"upgrade"})
_RESPONSE_SKIP = HOP_BY_HOP | {b"content-length"}

# Connect tasks in flight (asyncio keeps only weak references to tasks).
_TASKS: set[asyncio.Task[None]] = set()


def _spawn(loop: asyncio.AbstractEventLoop, coro: Any) -> None:
    task = loop.create_task(coro)
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


# How the response body is framed for the client.
RAW = 0  # as it comes (Content-Length from the upstream, or none)
CHUNK = 1  # re-chunked
UNTIL_CLOSE = 2  # HTTP/1.0 client, unknown length: the body runs to the connection's end


def build_request_head(ex: Exchange, client: str, config: ProxyConfig, *, streaming: bool) -> bytearray:
    """The request line and headers sent upstream: the client's headers minus hop-by-hop ones,
    plus X-Forwarded-For/-Proto, X-Request-Id and our own framing."""
    head = bytearray(b"%s %s HTTP/1.1\r\n" % (ex.method, ex.url))
    extra = [t for t in ex.connection_tokens if t not in _STANDARD_CONNECTION_TOKENS]
    if extra:  # headers named in Connection are hop-by-hop too
        drop = set(extra)
        for line in bytes(ex.forward_head).split(b"\r\n"):
            if line and line.split(b":", 1)[0].strip().lower() not in drop:
                head += line + b"\r\n"
    else:
        head += ex.forward_head
    addr = client.encode("latin-1")
    xff = ex.forwarded_for + b", " + addr if ex.forwarded_for and config.forwarded == "append" else addr
    head += b"X-Forwarded-For: %s\r\nX-Forwarded-Proto: http\r\nX-Request-Id: %s\r\n" % (xff, ex.request_id.encode("latin-1"))
    if ex.upgrade:
        head += b"Connection: Upgrade\r\nUpgrade: websocket\r\n"
    if streaming:
        if ex.content_length is not None:
            head += b"Content-Length: %d\r\n" % ex.content_length
        else:
            head += b"Transfer-Encoding: chunked\r\n"
    elif ex.body or ex.content_length is not None or ex.chunked:
        head += b"Content-Length: %d\r\n" % len(ex.body)
    head += b"\r\n"
    return head


def engine_request(ex: Exchange, client: str, service: Service) -> Request:
    return Request(
        ex.method.decode("latin-1"),
        ex.url.decode("latin-1"),
        ex.str_headers(),
        bytes(ex.body),
        client=client,
        version="HTTP/1.1" if ex.version == "1.1" else "HTTP/1.0",
        service=service.name,
    )


class ProxyHandler:
    def __init__(self, config: ProxyConfig, inspector: Inspector, pools: dict[str, UpstreamPool], stats: Stats, log: Any) -> None:
        self.config = config
        self.inspector = inspector
        self.pools = pools
        self.stats = stats
        self.log = log

    def handle(self, conn: ClientConnection, ex: Exchange) -> None:
        service = ex.service or self.config.services[0]
        outcome = self.inspector.inspect(service, engine_request(ex, conn.client, service), ex.request_id)
        shadow = False
        if outcome is not None:
            if outcome.blocked:
                self.stats.inc("requests", (service.name, "blocked"))
                keep = conn.keep_alive(ex) and ex.complete
                accept = (ex.header(b"accept") or b"").decode("latin-1")
                ex.status = 403
                data = response.blocked(outcome.incident_id, ex.request_id, accept, close=not keep, head_only=ex.head_request)
                conn.respond(ex, data, keep_alive=keep)
                self.access(conn, ex, service)
                return
            shadow = outcome.verdict.action is Action.LOG
        Relay(self, conn, ex, service, shadow).start()

    def abort(self, conn: ClientConnection, ex: Exchange) -> None:
        relay = ex.extra
        if isinstance(relay, Relay):
            relay.cancel()

    def access(self, conn: ClientConnection, ex: Exchange, service: Service) -> None:
        if self.config.access_log:
            self.log.info(
                "access", request_id=ex.request_id, service=service.name, client=conn.client, method=ex.method.decode("latin-1"),
                target=ex.target[:300], status=ex.status, ms=round((conn.ctx.loop.time() - ex.started) * 1000, 3),
            )


class Relay:
    """One forwarded exchange: request out, response back."""

    __slots__ = (
        "cancelled",
        "conn",
        "data",
        "ex",
        "handler",
        "keep",
        "mode",
        "out",
        "pool",
        "response_done",
        "retried",
        "service",
        "shadow",
        "streaming",
        "upstream",
    )

    def __init__(self, handler: ProxyHandler, conn: ClientConnection, ex: Exchange, service: Service, shadow: bool) -> None:
        self.handler = handler
        self.conn = conn
        self.ex = ex
        self.service = service
        self.shadow = shadow
        self.pool = handler.pools[service.name]
        self.upstream: UpstreamConnection | None = None
        self.out = bytearray()
        self.mode = RAW
        self.keep = False
        self.streaming = ex.truncated
        self.data = build_request_head(ex, conn.client, handler.config, streaming=self.streaming)
        if not self.streaming or ex.content_length is not None:
            self.data += ex.body
        elif ex.body:
            self.data += b"%x\r\n%s\r\n" % (len(ex.body), ex.body)
        self.retried = False
        self.cancelled = False
        self.response_done = False
        ex.extra = self

    # -- sending ----------------------------------------------------------------------------

    def start(self) -> None:
        up = self.pool.acquire()
        if up is None:
            _spawn(self.pool.loop, self._connect_and_send())
        else:
            self._send(up)

    async def _connect_and_send(self) -> None:
        try:
            up = await self.pool.connect()
        except UpstreamError as exc:
            self._failed(exc)
            return
        if self.cancelled:
            self.pool.release(up)
            return
        self._send(up)

    def _send(self, up: UpstreamConnection) -> None:
        self.upstream = up
        ex = self.ex
        up.send(self, self.data, head_only=ex.head_request)
        self.conn.on_writable = up.set_reading
        if self.streaming and not self.retried:
            for piece in ex.overflow:
                self._body_piece(piece)
            ex.overflow = []
            if ex.complete:
                self._body_end()
            else:
                ex.body_sink = self._body_piece
                ex.body_end = self._body_end
            self.conn.pause_for_upstream(False)

    def _body_piece(self, data: bytes) -> None:
        if self.upstream is None:
            return
        if self.ex.content_length is not None:
            self.upstream.write(data)
        else:
            self.upstream.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _body_end(self) -> None:
        self.ex.body_sink = self.ex.body_end = None
        if self.upstream is not None and self.ex.content_length is None:
            self.upstream.write(b"0\r\n\r\n")

    # -- ResponseListener -------------------------------------------------------------------

    def on_response_head(self, up: UpstreamConnection, status: int, reason: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        ex = self.ex
        conn = self.conn
        ex.status = status
        ex.response_started = True
        out = self.out
        out += b"HTTP/1.1 %d %s\r\n" % (status, reason or response.reason(status).encode())
        chunked = False
        length: bytes | None = None
        has_id = False
        drop: set[bytes] = set()
        for name, value in headers:
            lname = name.lower()
            if lname in _RESPONSE_SKIP:
                if lname == b"transfer-encoding":
                    chunked = True
                elif lname == b"content-length":
                    length = value
                elif lname == b"connection":
                    drop.update(t.strip().lower() for t in value.split(b","))
                continue
            if lname == b"x-request-id":
                has_id = True
            out += b"%s: %s\r\n" % (name, value)
        if drop - _STANDARD_CONNECTION_TOKENS:
            self._drop_listed(drop - _STANDARD_CONNECTION_TOKENS)
        if not has_id:
            out += b"X-Request-Id: %s\r\n" % ex.request_id.encode("latin-1")
        keep = conn.keep_alive(ex) and ex.complete
        if status == 101:
            out += b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
            return
        if ex.head_request or status in (204, 304):
            if length is not None:
                out += b"Content-Length: %s\r\n" % length
            self.mode = RAW
        elif chunked or length is None:
            if ex.version == "1.1":
                out += b"Transfer-Encoding: chunked\r\n"
                self.mode = CHUNK
            else:
                self.mode = UNTIL_CLOSE
                keep = False
        else:
            out += b"Content-Length: %s\r\n" % length
            self.mode = RAW
        if not keep:
            out += b"Connection: close\r\n\r\n"
        elif ex.version == "1.0":
            out += b"Connection: keep-alive\r\n\r\n"
        else:
            out += b"\r\n"
        self.keep = keep

    def _drop_listed(self, names: set[bytes]) -> None:
        lines = bytes(self.out).split(b"\r\n")
        kept = [lines[0]] + [ln for ln in lines[1:] if ln and ln.split(b":", 1)[0].strip().lower() not in names]
        self.out = bytearray(b"\r\n".join(kept) + b"\r\n")

    def on_response_body(self, data: bytes) -> None:
        if self.mode == CHUNK:
            if data:
                self.out += b"%x\r\n%s\r\n" % (len(data), data)
        else:
            self.out += data

    def flush(self) -> None:
        if self.out:
            self.conn.write(self.out)
            self.out = bytearray()

    def on_response_end(self, up: UpstreamConnection) -> None:
        if self.mode == CHUNK:
            self.out += b"0\r\n\r\n"
        self.flush()
        self.response_done = True
        self.pool.release(up)
        self.upstream = None
        self._count("shadow_blocked" if self.shadow else "forwarded")
        if self.cancelled:
            return
        ex = self.ex
        if not ex.complete and ex.body_sink is not None:
            ex.body_sink = ex.body_end = None  # the upstream answered before the body ended
        if ex.upgrade:
            self.conn.cancel_upgrade()  # the upstream said no: what the client sent next is HTTP
        self.handler.access(self.conn, ex, self.service)
        self.conn.finish(ex, self.keep and ex.complete)

    def on_upgrade(self, up: UpstreamConnection, rest: bytes) -> None:
        if not self.ex.upgrade:
            self.out = bytearray()
            self.ex.response_started = False
            up.abort()
            self._failed(UpstreamError("bad_response", "the upstream switched protocols without being asked"))
            return
        self.flush()
        transport = self.conn.transport
        if transport is None or up.transport is None:
            up.abort()
            return
        self._count("shadow_blocked" if self.shadow else "forwarded")
        self.handler.access(self.conn, self.ex, self.service)
        up.start_tunnel(transport)
        self.conn.start_tunnel(self.ex, up.transport)
        self.conn.on_writable = up.set_reading
        if rest:
            self.conn.write(rest)

    def on_upstream_error(self, up: UpstreamConnection, error: UpstreamError, retryable: bool) -> None:
        self.pool.forget(up)
        self.upstream = None
        if self.cancelled:
            return
        if retryable and not self.retried and not self.ex.response_started and self.ex.method in _IDEMPOTENT and not self.streaming:
            self.retried = True  # a kept-alive connection closed under us: once more on a new one
            _spawn(self.pool.loop, self._connect_and_send())
            return
        self._failed(error)

    def on_upstream_writable(self, writable: bool) -> None:
        self.conn.pause_for_upstream(not writable)

    # -- endings ------------------------------------------------------------------------------

    def _failed(self, error: UpstreamError) -> None:
        ex = self.ex
        stats = self.handler.stats
        stats.inc("upstream_errors", (self.service.name, error.kind))
        self._count("upstream_error")
        self.handler.log.warning(
            "upstream_error", service=self.service.name, request_id=ex.request_id, kind=error.kind, error=str(error),
            method=ex.method.decode("latin-1"), target=ex.target[:200],
        )
        if self.cancelled:
            return
        if ex.response_started:
            self.flush()
            self.conn.abort()  # part of the response is out: only a cut connection tells the client
            return
        ex.body_sink = ex.body_end = None
        status = 504 if error.kind in ("timeout", "connect_timeout") else 502
        ex.status = status
        keep = self.conn.keep_alive(ex) and ex.complete and not ex.upgrade
        message = "the upstream did not answer in time" if status == 504 else "the upstream is unavailable"
        self.conn.respond(ex, response.simple(status, message, ex.request_id, close=not keep, head_only=ex.head_request), keep_alive=keep)
        self.handler.access(self.conn, ex, self.service)

    def cancel(self) -> None:
        """The client is gone: drop the upstream connection unless its response was complete."""
        self.cancelled = True
        up, self.upstream = self.upstream, None
        if up is not None and not self.response_done:
            up.listener = None
            self.pool.forget(up)
            up.abort()

    def _count(self, outcome: str) -> None:
        self.handler.stats.inc("requests", (self.service.name, outcome))
