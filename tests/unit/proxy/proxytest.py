"""Test helpers for the sidecar: a scriptable upstream app, a worker running in a background
thread, and raw-socket clients. Everything listens on 127.0.0.1 with ephemeral ports, and every
server started here is stopped by the context manager that started it."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import uvloop

from siren.engine import Engine, Policy
from siren.proxy.config import Address, ProxyConfig, Service, Timeouts
from siren.proxy.runtime import Launch, Worker

SOCKET_TIMEOUT = 30.0  # a safety net against hangs, never a timing assertion


@dataclass
class Seen:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class UpstreamApp:
    """An HTTP/1.1 origin on asyncio streams. Routes (by path):

    ``/chunked`` chunked response; ``/big?n=N`` N bytes with Content-Length; ``/close`` body ended by
    closing; ``/silent`` never answers; ``/status/NNN`` that status; ``/ws`` WebSocket-style 101 then
    echo; ``/wait`` answers when ``gate`` is set; ``/nows`` an upgrade request answered 200; ``/garbage`` not HTTP; ``/bye`` answers, then closes
    without saying so; anything else: 200 with a JSON echo of the request."""

    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    writers: set[asyncio.StreamWriter] = field(default_factory=set)
    gate: asyncio.Event | None = None
    """``/wait`` answers once this is set."""
    server: asyncio.AbstractServer | None = None
    port: int = 0

    async def start(self) -> None:
        self.gate = asyncio.Event()
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = [tuple(x.strip() for x in ln.split(":", 1)) for ln in lines[1:] if ln]
                hmap = {k.lower(): v for k, v in headers}
                body = b""
                if "content-length" in hmap:
                    body = await reader.readexactly(int(hmap["content-length"]))
                elif hmap.get("transfer-encoding", "").lower() == "chunked":
                    while True:
                        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                        if size == 0:
                            await reader.readuntil(b"\r\n")
                            break
                        body += await reader.readexactly(size)
                        await reader.readexactly(2)
                self.seen.append(Seen(method, target, headers, body))  # type: ignore[arg-type]
                path = target.split("?")[0]
                if path == "/wait" and self.gate is not None:
                    await self.gate.wait()
                if path == "/silent":
                    await asyncio.sleep(3600)
                    return
                if path == "/garbage":
                    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
                    await writer.drain()
                    return
                if path == "/bye":  # keep-alive promised, then the connection is closed anyway
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye")
                    await writer.drain()
                    return
                if path == "/chunked":
                    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Up: 1\r\n\r\n")
                    for part in (b"hello ", b"chunked ", b"world"):
                        writer.write(b"%x\r\n%s\r\n" % (len(part), part))
                    writer.write(b"0\r\n\r\n")
                elif path == "/big":
                    n = int(target.split("n=")[1])
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
                    block = b"x" * 65536
                    left = n
                    while left:
                        writer.write(block[: min(left, len(block))])
                        left -= min(left, len(block))
                        await writer.drain()
                elif path == "/close":
                    writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
                    await writer.drain()
                    writer.close()
                    return
                elif path.startswith("/status/"):
                    status = int(path.rsplit("/", 1)[1])
                    writer.write(b"HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n" % status)
                elif path == "/ws":
                    writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
                    await writer.drain()
                    while True:
                        data = await reader.read(65536)
                        if not data:
                            writer.close()
                            return
                        writer.write(b"echo:" + data)
                        await writer.drain()
                else:
                    doc = json.dumps({"method": method, "target": target, "headers": headers, "body": body.decode("latin-1")}).encode()
                    extra = b"Connection: close\r\n" if hmap.get("connection", "").lower() == "close" else b""
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
                                 + extra + b"Content-Length: %d\r\n\r\n" % len(doc) + (b"" if method == "HEAD" else doc))
                    if extra:
                        await writer.drain()
                        writer.close()
                        return
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self.writers.discard(writer)
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in list(self.writers):
            writer.close()


_BASE: list[Engine] = []


TEST_RULES = Path(__file__).with_name("rules.yaml")


def engines_for(config: ProxyConfig) -> dict[str, Engine]:
    """Engines for ``config``'s services: only the test rules (``rules.yaml``; no built-in rules,
    so the sidecar's tests do not change with the engine's), compiled once per test session."""
    if not _BASE:
        _BASE.append(Engine.create(policy=Policy(), builtin=False, rule_paths=[TEST_RULES]))
    base = _BASE[0]
    return {s.name: Engine(base.ruleset, s.policy, base.limits, base.detectors) for s in config.services}


def make_config(upstream_port: int, **changes: Any) -> ProxyConfig:
    policy = changes.pop("policy", Policy())
    services = changes.pop("services", None) or (Service("app", Address("127.0.0.1", upstream_port), policy),)
    timeouts = changes.pop("timeouts", Timeouts())
    return replace(ProxyConfig(listen=Address("127.0.0.1", 0), admin=Address("127.0.0.1", 0)), services=services, timeouts=timeouts, **changes)


class Running:
    """A worker and an upstream app on one event loop in a background thread."""

    def __init__(self, config: ProxyConfig | None, launch: Launch, engines: Any = None, with_upstream: bool = True) -> None:
        self.loop = uvloop.new_event_loop()
        self.app = UpstreamApp()
        self.config = config
        self.launch = launch
        self.engines = engines
        self.with_upstream = with_upstream
        self.worker: Worker | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(SOCKET_TIMEOUT)

    def start(self, make: Any) -> None:
        self.thread.start()
        if self.with_upstream:
            self.call(self.app.start())
        config = make(self.app.port)
        self.worker = Worker(config, self.launch, engines=self.engines or engines_for(config), build=engines_for)
        self.call(self.worker.start())

    @property
    def port(self) -> int:
        assert self.worker is not None and self.worker.listen_address is not None
        return self.worker.listen_address.port

    @property
    def admin_port(self) -> int:
        assert self.worker is not None and self.worker.admin_address is not None
        return self.worker.admin_address.port

    @property
    def stats(self) -> Any:
        assert self.worker is not None
        return self.worker.stats

    def stop(self) -> None:
        try:
            if self.worker is not None and not self.worker.stopping:
                self.call(self.worker.stop())
            self.call(self.app.stop())
            self.call(_cancel_all())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(SOCKET_TIMEOUT)
            self.loop.close()


async def _cancel_all() -> None:
    """Cancel every task left on the loop (the app's handlers) and let them finish."""
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0)


@contextmanager
def running(make: Any = None, *, launch: Launch | None = None, engines: Any = None, with_upstream: bool = True, **changes: Any) -> Iterator[Running]:
    r = Running(None, launch or Launch(), engines, with_upstream)
    r.start(make or (lambda port: make_config(port, **changes)))
    try:
        yield r
    finally:
        r.stop()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    raw_head: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self) -> Any:
        return json.loads(self.body)


class Reader:
    """Reads responses off a blocking socket (Content-Length, chunked or until close)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def _until(self, sep: bytes) -> bytes:
        while sep not in self.buf:
            if not self._fill():
                raise EOFError(f"connection closed; unread: {self.buf[:200]!r}")
        out, _, self.buf = self.buf.partition(sep)
        return out + sep

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise EOFError("connection closed inside a body")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response(self, *, head_request: bool = False) -> Response:
        while True:
            head = self._until(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            _, status, reason = ([*lines[0].split(" ", 2), ""])[:3]
            headers = [tuple(x.strip() for x in ln.split(":", 1)) for ln in lines[1:] if ln]
            if int(status) >= 200 or int(status) == 101:
                break
        hmap = {k.lower(): v for k, v in headers}
        code = int(status)
        if head_request or code in (101, 204, 304):
            body = b""
        elif hmap.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self._until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self._until(b"\r\n")
                    break
                body += self._exact(size)
                self._exact(2)
        elif "content-length" in hmap:
            body = self._exact(int(hmap["content-length"]))
        else:
            while self._fill():
                pass
            body, self.buf = self.buf, b""
        return Response(code, reason, headers, body, head)  # type: ignore[arg-type]

    def closed(self) -> bool:
        """True when the peer closed (EOF or reset) with nothing more to read."""
        try:
            return not self.buf and not self._fill()
        except (ConnectionResetError, BrokenPipeError):
            return True


def exchange(port: int, raw: bytes, *, head_request: bool = False) -> Response:
    """Send raw bytes on a new connection, read one response."""
    with connect(port) as sock:
        sock.sendall(raw)
        return Reader(sock).response(head_request=head_request)


def get(port: int, target: str = "/", headers: str = "", body: bytes = b"", method: str = "GET") -> Response:
    extra = f"Content-Length: {len(body)}\r\n" if body or method in ("POST", "PUT") else ""
    raw = f"{method} {target} HTTP/1.1\r\nHost: app.test\r\n{headers}{extra}\r\n".encode() + body
    return exchange(port, raw, head_request=method == "HEAD")
