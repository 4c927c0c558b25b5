"""Helpers for the sidecar's end-to-end tests: a threaded test app, ``siren`` processes started
from the real command line, and nginx. Everything listens on 127.0.0.1; every process started here
is stopped by PID (TERM, then KILL after a bound) by the context manager that started it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO

TEST_RULES = str(Path(__file__).parents[1] / "unit" / "proxy" / "rules.yaml")
"""The sidecar's stable test ruleset: these tests are about the proxy, not the built-in rules."""
ENGINE = ("--no-builtin", "--rules", TEST_RULES)
STARTUP_SECONDS = 300.0  # first start may compile the rule database; a bound, not an expectation
STOP_SECONDS = 30.0


class _AppHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _App

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path, body))
        if self.path.startswith("/wait"):
            self.server.gate.wait(STOP_SECONDS)
        doc = json.dumps({"method": self.command, "target": self.path, "headers": list(self.headers.items()), "body": body.decode("latin-1")})
        data = doc.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _App(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[tuple[str, str, bytes]]
    gate: threading.Event


@contextmanager
def origin_app() -> Iterator[_App]:
    """An origin answering 200 with a JSON echo; ``/wait`` holds its answer until ``gate`` is set."""
    app = _App(("127.0.0.1", 0), _AppHandler)
    app.seen = []
    app.gate = threading.Event()
    thread = threading.Thread(target=app.serve_forever, daemon=True)
    thread.start()
    try:
        yield app
    finally:
        app.gate.set()
        app.shutdown()
        app.server_close()
        thread.join(STOP_SECONDS)


@dataclass
class Siren:
    proc: subprocess.Popen[bytes]
    port: int
    admin_port: int
    lines: list[dict[str, Any]] = field(default_factory=list)
    _reader: threading.Thread | None = None

    def wait_for(self, event: str, count: int = 1) -> dict[str, Any]:
        """Block until the ``count``-th log line with this event (bounded)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            found = [line for line in self.lines if line.get("event") == event]
            if len(found) >= count:
                return found[count - 1]
            if self.proc.poll() is not None and (self._reader is None or not self._reader.is_alive()):
                raise AssertionError(f"siren exited ({self.proc.returncode}) before logging {event!r}: {self.lines[-5:]}")
            time.sleep(0.02)
        raise AssertionError(f"no {event!r} log line within {STARTUP_SECONDS}s")


def _pump(stream: BinaryIO, lines: list[dict[str, Any]]) -> None:
    for raw in iter(stream.readline, b""):
        try:
            lines.append(json.loads(raw))
        except ValueError:
            lines.append({"event": "raw", "text": raw.decode("utf-8", "replace")})


@contextmanager
def siren(*args: str, expect_listening: bool = True, pythonpath: str = "") -> Iterator[Siren]:
    """``siren ARGS`` as a child process; its JSON log lines are collected from stderr.
    ``pythonpath`` runs another copy of the package (see :func:`snapshot_package`)."""
    cmd = [sys.executable, "-m", "siren.cli", *args]
    env = dict(os.environ, PYTHONPATH=pythonpath) if pythonpath else None
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    lines: list[dict[str, Any]] = []
    assert proc.stderr is not None
    reader = threading.Thread(target=_pump, args=(proc.stderr, lines), daemon=True)
    reader.start()
    handle = Siren(proc, 0, 0, lines, reader)
    try:
        if expect_listening:
            first = handle.wait_for("listening")
            handle.port = int(first["listen"].rsplit(":", 1)[1])
            if first.get("admin"):
                handle.admin_port = int(first["admin"].rsplit(":", 1)[1])
        yield handle
    finally:
        stop(proc)
        reader.join(STOP_SECONDS)
        proc.stderr.close()


def snapshot_package(dest: Path) -> str:
    """Copy the ``siren`` package (code, rules, models) to ``dest``; returns a PYTHONPATH.

    Rules and models change while other work goes on in the tree: a copy guarantees that two
    processes compared with each other run the very same engine."""
    import siren as package

    shutil.copytree(Path(package.__file__).parent, dest / "siren", ignore=shutil.ignore_patterns("__pycache__"))
    return str(dest)


def stop(proc: subprocess.Popen[bytes]) -> int:
    """TERM, then KILL after a bound; only this PID."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_SECONDS)
    return int(proc.returncode)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nginx_binary() -> str | None:
    """/usr/sbin/nginx, installed with apt-get when missing and we are root (as on CI)."""
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if path is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True, timeout=600, env=env)
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "nginx"], check=False, capture_output=True, timeout=900, env=env)
        path = "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    return path


@contextmanager
def nginx(binary: str, prefix: Path, server_block: str) -> Iterator[subprocess.Popen[bytes]]:
    """A private nginx master in the foreground (``daemon off``) with one server block."""
    for sub in ("logs", "tmp"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"""daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
{server_block}
}}
"""
    )
    check = subprocess.run([binary, "-t", "-q", "-p", str(prefix), "-c", str(conf), "-e", f"{prefix}/logs/error.log"],
                           capture_output=True, timeout=60)
    assert check.returncode == 0, check.stderr.decode()
    proc = subprocess.Popen([binary, "-p", str(prefix), "-c", str(conf), "-e", f"{prefix}/logs/error.log"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_SECONDS)


def wait_until(condition: Any) -> None:
    """Poll ``condition`` until true, within a generous bound (a hang guard, not a timing test)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)


def wait_port(port: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def http(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection (``Connection: close`` expected in ``raw``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=STOP_SECONDS) as sock:
        sock.sendall(raw)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, body
