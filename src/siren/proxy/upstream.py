"""The upstream side: HTTP/1.1 client connections on raw asyncio protocols (httptools parses the
responses) and a keep-alive pool per upstream.

A connection reports what it reads to a :class:`ResponseListener` (the forwarder's relay); it
never buffers a response body: each piece goes to the listener as it is parsed. Completion is
reported after the parser returns, never from inside a parser callback, so the listener may at
once put the connection back in the pool and send the next request on it.
"""

from __future__ import annotations

import asyncio
import socket
from time import perf_counter
from typing import Protocol, cast

import httptools

from siren.proxy.config import Address
from siren.proxy.metrics import Histogram


class UpstreamError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        """``connect_timeout``, ``refused``, ``connect``, ``timeout``, ``reset``, ``bad_response``."""


class ResponseListener(Protocol):
    def on_response_head(self, up: UpstreamConnection, status: int, reason: bytes, headers: list[tuple[bytes, bytes]]) -> None: ...
    def on_response_body(self, data: bytes) -> None: ...
    def on_response_end(self, up: UpstreamConnection) -> None: ...
    def on_upgrade(self, up: UpstreamConnection, rest: bytes) -> None: ...
    def on_upstream_error(self, up: UpstreamConnection, error: UpstreamError, retryable: bool) -> None: ...
    def on_upstream_writable(self, writable: bool) -> None: ...
    def flush(self) -> None: ...


class UpstreamConnection(asyncio.Protocol):
    def __init__(self, pool: UpstreamPool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser: httptools.HttpResponseParser | None = None
        self.listener: ResponseListener | None = None
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.status = 0
        self.interim = False
        self.head_seen = False
        self.done = False
        self.head_only = False
        self.close_delimited = False
        self.keep_alive = False
        self.received = 0
        self.uses = 0
        self.sent_at = 0.0
        self.last_activity = 0.0
        self.idle_since = 0.0
        self.read_paused = False
        self.tunnel: asyncio.Transport | None = None

    # -- asyncio callbacks ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        transport.set_write_buffer_limits(high=262_144)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.pool.forget(self)
        if self.tunnel is not None:
            self.tunnel.close()
            self.tunnel = None
            return
        listener, self.listener = self.listener, None
        if listener is None:
            return
        if self.head_seen and self.close_delimited and exc is None:
            listener.on_response_end(self)  # the body ran to the end of the connection
            return
        retryable = self.received == 0 and self.uses > 1  # a kept-alive connection the upstream had closed
        listener.on_upstream_error(self, UpstreamError("reset", "upstream closed the connection"), retryable)

    def data_received(self, data: bytes) -> None:
        self.last_activity = self.pool.loop.time()
        self.received += len(data)
        if self.tunnel is not None:
            self.tunnel.write(data)
            return
        listener = self.listener
        if listener is None or self.parser is None:
            self.close()  # bytes nobody asked for: this connection cannot be trusted any more
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            if self.status == 101:
                self.listener = None
                listener.on_upgrade(self, data[int(exc.args[0]) :])
                return
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError("bad_response", f"malformed response from the upstream: {exc}"))
            return
        if self.done:
            self.done = False
            self.listener = None
            listener.on_response_end(self)
        else:
            listener.flush()

    def pause_writing(self) -> None:
        if self.listener is not None:
            self.listener.on_upstream_writable(False)

    def resume_writing(self) -> None:
        if self.listener is not None:
            self.listener.on_upstream_writable(True)

    # -- parser callbacks -------------------------------------------------------------------

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.head_seen:
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        assert self.parser is not None and self.listener is not None
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self.interim = True  # 100 Continue, 103 Early Hints: not relayed
            self.headers = []
            self.reason = b""
            return
        self.status = status
        self.head_seen = True
        self.keep_alive = self.parser.should_keep_alive()
        self.pool.stats_upstream(perf_counter() - self.sent_at)
        framed = any(n.lower() in (b"content-length", b"transfer-encoding") for n, _ in self.headers)
        no_body = self.head_only or status in (204, 304) or status == 101
        self.close_delimited = not framed and not no_body
        self.listener.on_response_head(self, status, self.reason, self.headers)
        if self.head_only and status != 101:
            self.done = True  # llhttp would wait for a HEAD response's body

    def on_body(self, body: bytes) -> None:
        if self.listener is not None and not self.done:
            self.listener.on_response_body(body)

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            return
        self.done = True

    # -- requests ---------------------------------------------------------------------------

    def send(self, listener: ResponseListener, data: bytes | bytearray, *, head_only: bool) -> None:
        assert self.transport is not None
        self.listener = listener
        self.parser = httptools.HttpResponseParser(self)
        self.reason = b""
        self.headers = []
        self.status = 0
        self.head_seen = self.done = self.interim = self.close_delimited = self.keep_alive = False
        self.head_only = head_only
        self.received = 0
        self.uses += 1
        self.sent_at = perf_counter()
        self.last_activity = self.pool.loop.time()
        self.transport.write(data)

    def write(self, data: bytes | bytearray) -> None:
        if self.transport is not None:
            self.transport.write(data)

    @property
    def reusable(self) -> bool:
        return (
            self.transport is not None
            and not self.transport.is_closing()
            and self.keep_alive
            and not self.close_delimited
            and self.tunnel is None
        )

    def set_reading(self, reading: bool) -> None:
        """Back-pressure from the client: stop reading the upstream while the client is slow."""
        if self.transport is None or reading != self.read_paused:
            return
        self.read_paused = not reading
        if reading:
            self.transport.resume_reading()
        else:
            self.transport.pause_reading()

    def start_tunnel(self, peer: asyncio.Transport) -> None:
        self.tunnel = peer
        self.pool.forget(self)

    def check_timeout(self, now: float, read_timeout: float) -> None:
        if self.listener is not None and not self.read_paused and now - self.last_activity > read_timeout:
            self._fail(UpstreamError("timeout", f"no response from the upstream within {read_timeout:g}s"))

    def _fail(self, error: UpstreamError) -> None:
        listener, self.listener = self.listener, None
        self.abort()
        if listener is not None:
            listener.on_upstream_error(self, error, False)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class UpstreamPool:
    """Kept-alive connections to one upstream, most recently used first."""

    def __init__(
        self,
        address: Address,
        loop: asyncio.AbstractEventLoop,
        *,
        max_idle: int,
        idle_timeout: float,
        connect_timeout: float,
        read_timeout: float,
        latency: Histogram | None = None,
    ) -> None:
        self.address = address
        self.loop = loop
        self.max_idle = max_idle
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.idle: list[UpstreamConnection] = []
        self.busy: set[UpstreamConnection] = set()
        self.closed = False
        self.latency = latency

    def stats_upstream(self, seconds: float) -> None:
        if self.latency is not None:
            self.latency.observe(seconds)

    def acquire(self) -> UpstreamConnection | None:
        while self.idle:
            conn = self.idle.pop()
            if conn.transport is not None and not conn.transport.is_closing():
                self.busy.add(conn)
                return conn
        return None

    async def connect(self) -> UpstreamConnection:
        try:
            _, conn = await asyncio.wait_for(
                self.loop.create_connection(lambda: UpstreamConnection(self), self.address.host, self.address.port),
                self.connect_timeout,
            )
        except TimeoutError as exc:
            raise UpstreamError("connect_timeout", f"connecting to the upstream {self.address} timed out") from exc
        except ConnectionRefusedError as exc:
            raise UpstreamError("refused", f"the upstream {self.address} refused the connection") from exc
        except OSError as exc:
            raise UpstreamError("connect", f"cannot connect to the upstream {self.address}: {exc.strerror or exc}") from exc
        if self.closed:
            conn.close()
            raise UpstreamError("connect", "shutting down")
        self.busy.add(conn)
        return conn

    def release(self, conn: UpstreamConnection) -> None:
        """A finished exchange: keep the connection for the next request if it is reusable."""
        self.busy.discard(conn)
        if not self.closed and conn.reusable and len(self.idle) < self.max_idle:
            conn.idle_since = self.loop.time()
            conn.listener = None
            self.idle.append(conn)
        else:
            conn.close()

    def forget(self, conn: UpstreamConnection) -> None:
        self.busy.discard(conn)
        if conn in self.idle:
            self.idle.remove(conn)

    def check_timeouts(self, now: float) -> None:
        if self.idle and now - self.idle[0].idle_since > self.idle_timeout:
            keep = [c for c in self.idle if now - c.idle_since <= self.idle_timeout]
            for conn in self.idle:
                if now - conn.idle_since > self.idle_timeout:
                    conn.close()
            self.idle = keep
        for conn in list(self.busy):
            conn.check_timeout(now, self.read_timeout)

    def close(self) -> None:
        self.closed = True
        for conn in self.idle:
            conn.close()
        self.idle = []
