"""The client side of the sidecar: one asyncio ``Protocol`` per client connection.

It parses HTTP/1.1 with httptools (llhttp), adds the checks llhttp leaves out, enforces the
limits and timeouts, and hands each request, as an :class:`Exchange`, to a :class:`Handler`:
the proxy forwards it (``forward.py``), the authz service answers it (``authz.py``). Requests on
one connection are served strictly in order (pipelining works; reading pauses while a complete
request waits its turn).

What it must never do: let an ambiguous or malformed request reach a handler (they get a clear
4xx and the connection closes, since its framing can no longer be trusted), buffer without bound
(bodies stop at the inspection limit; reading pauses under back-pressure), or raise out of an
asyncio callback.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol, cast

import httptools

from siren.proxy import response
from siren.proxy.config import ProxyConfig, Service
from siren.proxy.metrics import Stats

# Request headers the sidecar consumes or rewrites instead of forwarding as they came.
# Hop-by-hop (RFC 9110 7.6.1) plus framing, which is re-done, and the ones the proxy sets.
HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade"}
)
_NOT_FORWARDED = HOP_BY_HOP | {b"content-length", b"expect", b"x-forwarded-for", b"x-forwarded-proto", b"x-request-id"}
_SPECIAL = _NOT_FORWARDED | {b"host"}
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32}")
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")

# What one read may hold beyond a request's header section (uvloop reads up to 256 KiB).
_READ_SLACK = 262_144

# Lingering close: how long and how much a closing connection reads and discards.
_LINGER_SECONDS = 2.0
_LINGER_BYTES = 1_048_576

# Connection read-pause reasons (a bit mask: reading resumes when none is left).
PAUSE_QUEUE = 1  # a complete request waits for the one before it
PAUSE_UPSTREAM = 2  # the upstream is not taking the streamed body fast enough
PAUSE_CLOSING = 4  # the connection will close: read nothing more


class Reject(Exception):
    """Raised inside a parser callback: answer ``status`` and close the connection."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Exchange:
    """One request on its way through the sidecar (and, once handled, its response)."""

    __slots__ = (
        "admitted",
        "body",
        "body_end",
        "body_received",
        "body_sink",
        "chunked",
        "complete",
        "connection_tokens",
        "content_length",
        "continue_sent",
        "expect_continue",
        "extra",
        "forward_head",
        "forwarded_for",
        "head_request",
        "head_size",
        "headers",
        "headers_done",
        "host",
        "host_count",
        "keep_alive",
        "method",
        "overflow",
        "raw_head",
        "rejection",
        "request_id",
        "response_started",
        "service",
        "started",
        "status",
        "truncated",
        "upgrade",
        "url",
        "version",
    )

    def __init__(self, started: float) -> None:
        self.started = started
        self.url = b""
        self.method = b""
        self.version = "1.1"
        self.headers: list[tuple[bytes, bytes]] = []
        self.forward_head = bytearray()
        """Header lines to forward as they came (everything not in ``_NOT_FORWARDED``)."""
        self.head_size = 0
        self.raw_head = 0
        """Bytes received while this request's header section was incomplete (a bound on what
        llhttp may buffer for a header that never ends)."""
        self.host = b""
        self.host_count = 0
        self.content_length: int | None = None
        self.chunked = False
        self.expect_continue = False
        self.continue_sent = False
        self.upgrade = False
        self.connection_tokens: list[bytes] = []
        self.forwarded_for = b""
        self.request_id = ""
        self.keep_alive = True
        self.headers_done = False
        self.body = bytearray()
        """Body bytes kept for inspection (at most the inspection limit)."""
        self.body_received = 0
        self.truncated = False
        """The body is longer than the inspection limit; ``overflow`` holds what came past it."""
        self.overflow: list[bytes] = []
        self.complete = False
        self.rejection: tuple[int, str] | None = None
        self.admitted = False
        self.service: Service | None = None
        self.body_sink: Callable[[bytes], None] | None = None
        """Once the request is dispatched with a body still arriving: where the rest goes."""
        self.body_end: Callable[[], None] | None = None
        self.status = 0
        self.response_started = False
        self.head_request = False
        self.extra: Any = None
        """Handler-private state (the forwarder's upstream connection)."""

    @property
    def ready(self) -> bool:
        """Can be handed to the handler: fully read, or its inspectable part is."""
        return self.complete or self.truncated

    @property
    def target(self) -> str:
        return self.url.decode("latin-1")

    def header(self, name: bytes) -> bytes | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def str_headers(self) -> tuple[tuple[str, str], ...]:
        return tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in self.headers)


class Handler(Protocol):
    def handle(self, conn: ClientConnection, ex: Exchange) -> None:
        """Serve ``ex``; call ``conn.finish(ex, keep_alive)`` once its response is written."""

    def abort(self, conn: ClientConnection, ex: Exchange) -> None:
        """The client went away while ``ex`` was being served: release what it holds."""


class ServerContext:
    """What every connection of one worker shares; swapped wholesale on a configuration reload."""

    def __init__(self, config: ProxyConfig, stats: Stats, log: Any, handler: Handler, loop: asyncio.AbstractEventLoop) -> None:
        self.config = config
        self.stats = stats
        self.log = log
        self.handler = handler
        self.loop = loop
        self.connections: set[ClientConnection] = set()
        self.draining = False
        self._id_prefix = os.urandom(4).hex()
        self._id_counter = 0
        self.services_by_host: dict[bytes, Service] = {}
        self.set_config(config)

    def set_config(self, config: ProxyConfig) -> None:
        self.config = config
        self.services_by_host = {h.encode("latin-1"): s for s in config.services for h in s.hosts}

    def service_for(self, host: bytes) -> Service:
        if self.services_by_host:
            name = host.rsplit(b":", 1)[0] if not host.endswith(b"]") else host
            found = self.services_by_host.get(name.lower())
            if found is not None:
                return found
        return self.config.services[0]

    def next_request_id(self) -> str:
        self._id_counter += 1
        return f"{self._id_prefix}-{self._id_counter:08x}"


class ClientConnection(asyncio.Protocol):
    """One client connection: parse, check, queue, hand over, write back."""

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.client = ""
        self.pending: deque[Exchange] = deque()
        self.cur: Exchange | None = None
        self.active: Exchange | None = None
        self.last_activity = ctx.loop.time()
        self.closing = False
        self.lingering_since = 0.0
        self.discarded = 0
        self.broken = False
        """Parsing stopped at a malformed request: what is queued before it is still served."""
        self.eof = False
        self.paused = 0
        self.write_paused_since = 0.0
        self.on_writable: Callable[[bool], None] | None = None
        """Called with ``False`` when the client stops taking data and ``True`` when it takes it again."""
        self.tunnel: asyncio.Transport | None = None
        self.upgrade_buffer: bytearray | None = None
        self._advancing = False
        self._method_override = b""
        self._stash = b""
        self._boundary = True

    # -- asyncio callbacks ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        peer = transport.get_extra_info("peername")
        self.client = str(peer[0]) if isinstance(peer, tuple) else ""
        transport.set_write_buffer_limits(high=262_144)
        self.ctx.connections.add(self)
        self.ctx.stats.connections += 1
        if self.ctx.draining:
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.ctx.connections.discard(self)
        self.ctx.stats.connections -= 1
        if self.active is not None:
            ex, self.active = self.active, None
            self._release(ex)
            self.ctx.handler.abort(self, ex)
        while self.pending:
            self._release(self.pending.popleft())
        self.cur = None
        if self.tunnel is not None:
            self.tunnel.close()
            self.tunnel = None
        self.transport = None

    def pause_writing(self) -> None:
        self.write_paused_since = self.ctx.loop.time()
        if self.on_writable is not None:
            self.on_writable(False)

    def resume_writing(self) -> None:
        self.write_paused_since = 0.0
        if self.on_writable is not None:
            self.on_writable(True)

    def eof_received(self) -> bool:
        self.eof = True
        if self.lingering_since:
            return False
        if self.tunnel is not None:
            if self.tunnel.can_write_eof():
                self.tunnel.write_eof()
            return True
        if self.cur is not None:
            if self.cur is self.active:
                return False  # the body being streamed upstream will never be complete
            self._drop_cur()  # an unfinished request can never be served
        if self.active is None and not self.pending:
            return False  # nothing in progress: close
        return True  # half-closed: answer what was asked, then close

    def data_received(self, data: bytes) -> None:
        self.last_activity = self.ctx.loop.time()
        if self.tunnel is not None:
            self.tunnel.write(data)
            return
        if self.upgrade_buffer is not None:
            self.upgrade_buffer += data
            if len(self.upgrade_buffer) > 262_144:
                self._pause(PAUSE_UPSTREAM)
            return
        if self.closing or self.broken:
            if self.lingering_since:
                self.discarded += len(data)
                if self.discarded > _LINGER_BYTES and self.transport is not None:
                    self.transport.close()
            return
        if self._stash:
            data, self._stash = self._stash + data, b""
        self._feed(data)
        cur = self.cur
        if cur is not None and not cur.headers_done and not self.broken:
            cur.raw_head += len(data)
            if cur.raw_head > self.ctx.config.limits.header_bytes + _READ_SLACK:
                self._reject(431, "header section too large")
        self._advance()

    # -- parsing ----------------------------------------------------------------------------

    def _feed(self, data: bytes) -> None:
        self._boundary = self.cur is None
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self._upgraded(data[int(exc.args[0]) :])
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, Reject):
                self._reject(cause.status, cause.reason)
            else:
                self.ctx.log.error("parser_callback_failed", error=repr(cause), client=self.client)
                self._reject(500, "internal error")
        except httptools.HttpParserInvalidMethodError:
            self._unknown_method(data)
        except httptools.HttpParserError as exc:
            self._reject(400, str(exc) or "malformed request")

    def _unknown_method(self, data: bytes) -> None:
        """llhttp knows a fixed list of methods; any other token is a legal method. Parse such a
        request with a stand-in method, then put the real one back."""
        if not self._boundary or self._method_override:
            self._reject(400, "Invalid method encountered")
            return
        start = len(data) - len(data.lstrip(b"\r\n"))
        method, space, _ = data[start:].partition(b" ")
        if not space:
            if len(method) < 32 and (not method or _TOKEN.fullmatch(method)):
                self._drop_cur()
                self.parser = httptools.HttpRequestParser(self)
                self._stash = data  # the method token is not complete yet
                return
            self._reject(400, "Invalid method encountered")
            return
        if not _TOKEN.fullmatch(method):
            self._reject(400, "Invalid method encountered")
            return
        self._drop_cur()
        self.parser = httptools.HttpRequestParser(self)
        self._method_override = method
        self._feed(b"POST" + data[start + len(method) :])

    def _drop_cur(self) -> None:
        if self.cur is not None and self.pending and self.pending[-1] is self.cur:
            self.pending.pop()
        self.cur = None

    def on_message_begin(self) -> None:
        ex = Exchange(self.ctx.loop.time())
        self.cur = ex
        self.pending.append(ex)

    def on_url(self, url: bytes) -> None:
        ex = self.cur
        assert ex is not None
        ex.url += url
        ex.head_size += len(url)
        if ex.head_size > self.ctx.config.limits.header_bytes:
            raise Reject(414, "request-target too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        ex = self.cur
        assert ex is not None
        if ex.headers_done:
            return  # a chunked trailer field: not forwarded
        limits = self.ctx.config.limits
        ex.head_size += len(name) + len(value) + 4
        if ex.head_size > limits.header_bytes:
            raise Reject(431, "header section too large")
        if len(ex.headers) >= limits.headers:
            raise Reject(431, "too many header fields")
        ex.headers.append((name, value))
        lname = name.lower()
        if lname not in _SPECIAL:
            ex.forward_head += b"%s: %s\r\n" % (name, value)
            return
        if lname == b"host":
            ex.host = value
            ex.host_count += 1
            ex.forward_head += b"%s: %s\r\n" % (name, value)
        elif lname == b"content-length":
            ex.content_length = int(value)  # llhttp accepts digits only and rejects duplicates
        elif lname == b"transfer-encoding":
            if value.strip().lower() != b"chunked":
                raise Reject(400, "unsupported Transfer-Encoding (only 'chunked' is accepted)")
            ex.chunked = True
        elif lname == b"connection":
            ex.connection_tokens += [t.strip().lower() for t in value.split(b",") if t.strip()]
        elif lname == b"expect":
            if value.strip().lower() != b"100-continue":
                raise Reject(417, "unsupported Expect value")
            ex.expect_continue = True
        elif lname == b"x-forwarded-for":
            ex.forwarded_for = ex.forwarded_for + b", " + value if ex.forwarded_for else value
        elif lname == b"x-request-id":
            if self.ctx.config.trust_request_id and _REQUEST_ID.fullmatch(value):
                ex.request_id = value.decode("ascii")
        elif lname == b"upgrade":
            ex.upgrade = value.strip().lower() == b"websocket"

    def on_headers_complete(self) -> None:
        ex = self.cur
        assert ex is not None
        ex.headers_done = True
        parser = self.parser
        version = parser.get_http_version()
        if version not in ("1.1", "1.0"):
            raise Reject(400 if version.startswith("0") else 505, f"unsupported HTTP version {version}")
        ex.version = version
        if self._method_override:
            ex.method, self._method_override = self._method_override, b""
        else:
            ex.method = parser.get_method()
        ex.head_request = ex.method == b"HEAD"
        ex.keep_alive = parser.should_keep_alive()
        if not ex.request_id:
            ex.request_id = self.ctx.next_request_id()
        url = ex.url
        if not url.startswith(b"/") and not (url == b"*" and ex.method == b"OPTIONS"):
            if ex.method == b"CONNECT":
                raise Reject(405, "CONNECT is not supported")
            raise Reject(400, "request-target must be origin-form (/path?query)")
        if ex.host_count > 1:
            raise Reject(400, "more than one Host header")
        if ex.host_count == 0 and version == "1.1":
            raise Reject(400, "HTTP/1.1 request without Host")
        if ex.chunked and version == "1.0":
            raise Reject(400, "Transfer-Encoding in an HTTP/1.0 request")
        has_body = ex.chunked or bool(ex.content_length)
        if parser.should_upgrade():
            # llhttp treats whatever follows an Upgrade request as the new protocol: a body
            # there would be read differently by us and the upstream.
            if has_body or ex.method != b"GET":
                raise Reject(400, "an Upgrade request must be a GET without a body")
            if not (ex.upgrade and self.ctx.config.websocket):
                ex.upgrade = False  # not a WebSocket: served as a plain request, Upgrade dropped
        else:
            ex.upgrade = False
        limits = self.ctx.config.limits
        if ex.content_length is not None:
            if limits.body_max_bytes and ex.content_length > limits.body_max_bytes:
                raise Reject(413, "request body larger than the limit")
            if ex.content_length > limits.body_inspect_bytes and limits.body_over_limit == "reject":
                raise Reject(413, "request body larger than the inspection limit")
        stats = self.ctx.stats
        if stats.in_flight >= self.ctx.config.max_in_flight:
            raise Reject(503, "overloaded")
        stats.in_flight += 1
        ex.admitted = True
        ex.service = self.ctx.service_for(ex.host)
        if ex.expect_continue and has_body and self.active is None and self.pending and self.pending[0] is ex:
            self._send_continue(ex)

    def on_body(self, body: bytes) -> None:
        ex = self.cur
        assert ex is not None
        if self.closing:
            return
        ex.body_received += len(body)
        limits = self.ctx.config.limits
        if limits.body_max_bytes and ex.body_received > limits.body_max_bytes:
            if ex.body_sink is not None:
                self.abort()  # already streaming upstream: nothing clean can be said any more
                return
            raise Reject(413, "request body larger than the limit")
        if ex.body_sink is not None:
            ex.body_sink(body)
            return
        room = limits.body_inspect_bytes - len(ex.body)
        if len(body) <= room:
            ex.body += body
            return
        if limits.body_over_limit == "reject":
            raise Reject(413, "request body larger than the inspection limit")
        if room > 0:
            ex.body += body[:room]
            body = body[room:]
        ex.truncated = True
        ex.overflow.append(bytes(body))
        # Hold the rest until the inspected part is dispatched and the upstream connected.
        self._pause(PAUSE_QUEUE if self.active is not ex else PAUSE_UPSTREAM)

    def on_message_complete(self) -> None:
        ex = self.cur
        assert ex is not None
        ex.complete = True
        self.cur = None
        self._boundary = False
        if ex.body_end is not None:
            ex.body_end()

    def _upgraded(self, rest: bytes) -> None:
        """llhttp stopped after an Upgrade request; ``rest`` is what followed it."""
        ex = self.pending[-1] if self.pending else None
        if ex is None or not ex.upgrade:
            # Not a WebSocket upgrade we pass: the connection stays HTTP.
            if rest:
                self._feed(rest)
            return
        self.upgrade_buffer = bytearray(rest)

    # -- serving ----------------------------------------------------------------------------

    def _advance(self) -> None:
        if self._advancing or self.transport is None:
            return
        self._advancing = True
        try:
            while self.active is None and self.pending:
                ex = self.pending[0]
                if ex.rejection is not None:
                    self.pending.clear()
                    self._send_rejection(ex)
                    return
                if not ex.ready:
                    if ex.headers_done and ex.expect_continue and not ex.continue_sent:
                        self._send_continue(ex)
                    break
                self.pending.popleft()
                self.active = ex
                self.ctx.handler.handle(self, ex)
                if self.transport is None:
                    return
        finally:
            self._advancing = False
        if self.active is not None and self.pending and self.pending[0].ready:
            self._pause(PAUSE_QUEUE)  # a complete request waits for the one being served
        else:
            self._resume(PAUSE_QUEUE)
        if self.eof and self.active is None and not self.pending:
            self.close()

    def _send_continue(self, ex: Exchange) -> None:
        ex.continue_sent = True
        if self.transport is not None and ex.version == "1.1":
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def keep_alive(self, ex: Exchange) -> bool:
        """Whether the connection stays open after ``ex``'s response."""
        return ex.keep_alive and not self.closing and not self.ctx.draining and not self.eof

    def write(self, data: bytes | bytearray) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def finish(self, ex: Exchange, keep_alive: bool) -> None:
        """``ex``'s response is written: serve the next request, or close."""
        if self.active is ex:
            self.active = None
        self._release(ex)
        self.on_writable = None
        if not keep_alive or self.transport is None:
            self.close()
            return
        self._advance()

    def respond(self, ex: Exchange, data: bytes, *, keep_alive: bool) -> None:
        """Write a complete local answer for ``ex`` and finish it."""
        ex.response_started = True
        self.write(data)
        if not ex.complete:
            keep_alive = False  # the rest of the body was never read
        self.finish(ex, keep_alive)

    def start_tunnel(self, ex: Exchange, peer: asyncio.Transport) -> None:
        """Switch to a byte tunnel with ``peer`` (after a 101 from the upstream)."""
        if self.active is ex:
            self.active = None
        self._release(ex)
        buffered, self.upgrade_buffer = self.upgrade_buffer, None
        self.tunnel = peer
        self._resume(PAUSE_UPSTREAM)
        if buffered:
            peer.write(bytes(buffered))

    def cancel_upgrade(self) -> None:
        """The upstream refused the upgrade: what the client sent after it is HTTP again."""
        buffered, self.upgrade_buffer = self.upgrade_buffer, None
        self._resume(PAUSE_UPSTREAM)
        if buffered:
            self._feed(bytes(buffered))

    def _release(self, ex: Exchange) -> None:
        if ex.admitted:
            ex.admitted = False
            self.ctx.stats.in_flight -= 1

    def _reject(self, status: int, reason: str) -> None:
        ex = self.cur
        if ex is not None and ex is self.active:
            # Its first bytes already went upstream (a streamed body): only a cut connection is
            # honest with both sides now.
            self.ctx.stats.inc("protocol_rejects", (str(status), reason))
            self.ctx.log.info("rejected", status=status, reason=reason, client=self.client, request_id=ex.request_id, streaming=True)
            self.abort()
            return
        if ex is None or (self.pending and self.pending[-1] is not ex):
            ex = Exchange(self.ctx.loop.time())
            self.pending.append(ex)
        elif ex not in self.pending:
            self.pending.append(ex)
        self.cur = None
        ex.rejection = (status, reason)
        self.broken = True
        self._pause(PAUSE_CLOSING)
        # Overload answers are counted, not logged one by one: a flood must not become a log flood.
        (self.ctx.log.debug if status == 503 else self.ctx.log.info)(
            "rejected", status=status, reason=reason, client=self.client, request_id=ex.request_id or None
        )

    def _send_rejection(self, ex: Exchange) -> None:
        assert ex.rejection is not None
        status, reason = ex.rejection
        stats = self.ctx.stats
        service = (ex.service or self.ctx.config.services[0]).name
        extra: list[tuple[str, str]] = []
        if status == 503:
            stats.inc("overload_drops")
            stats.inc("requests", (service, "overloaded"))
            extra.append(("Retry-After", str(self.ctx.config.retry_after)))
        else:
            stats.inc("protocol_rejects", (str(status), reason))
            stats.inc("requests", (service, "rejected"))
        ex.status = status
        self.respond(ex, response.simple(status, reason, ex.request_id, close=True, extra=extra, head_only=ex.head_request), keep_alive=False)

    # -- flow control, timeouts, closing ------------------------------------------------------

    def _pause(self, reason: int) -> None:
        if not self.paused and self.transport is not None:
            self.transport.pause_reading()
        self.paused |= reason

    def _resume(self, reason: int) -> None:
        if not self.paused & reason:
            return
        self.paused &= ~reason
        if not self.paused and self.transport is not None:
            self.transport.resume_reading()

    def pause_for_upstream(self, paused: bool) -> None:
        (self._pause if paused else self._resume)(PAUSE_UPSTREAM)

    def check_timeouts(self, now: float) -> None:
        """Called by the worker's sweep (a few times a second)."""
        if self.transport is None:
            return
        if self.lingering_since:
            if now - self.lingering_since > _LINGER_SECONDS:
                self.transport.close()
            return
        t = self.ctx.config.timeouts
        if self.tunnel is not None:
            if now - self.last_activity > t.tunnel_idle:
                self.abort()
            return
        if self.write_paused_since and now - self.write_paused_since > t.idle:
            self.abort()  # the client stopped reading its response
            return
        if self.active is not None:
            if self.active.body_sink is not None and not self.active.complete and now - self.last_activity > t.body:
                self.abort()
            return
        ex = self.cur
        if ex is not None and not self.broken:
            if not ex.headers_done:
                if now - ex.started > t.header:
                    self._timeout("timed out waiting for the request headers")
            elif now - self.last_activity > t.body:
                self._timeout("timed out waiting for the request body")
            return
        if not self.pending and now - self.last_activity > t.idle:
            self.close()

    def _timeout(self, reason: str) -> None:
        self._reject(408, reason)
        self._advance()

    def close(self) -> None:
        """Close after what is written. A client may still be sending (a body we refused, the
        next pipelined request): closing a socket with unread data makes the kernel answer with
        a reset that can destroy our last response before the client reads it. So half-close,
        read and discard for a moment (bounded), then close: nginx's "lingering close"."""
        transport = self.transport
        if transport is None or self.lingering_since:
            return
        self.closing = True
        if self.eof or self.tunnel is not None or not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        self.lingering_since = self.ctx.loop.time()
        self.paused = 0
        transport.resume_reading()

    def abort(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.abort()

    def drain(self) -> None:
        """Graceful shutdown: close now if idle; otherwise after the current response."""
        if self.active is None and self.cur is None and not self.pending and self.tunnel is None:
            self.close()
