"""The worker's lifecycle: admin endpoints, configuration reload without dropping connections,
graceful drain."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest
from proxytest import Reader, Running, connect, get, running

from siren.proxy.config import load_config

H = b"Host: app.test\r\n"
ATTACK = b"/?q=%27%20OR%201%3D1--"


def _admin(r: Running, path: str) -> tuple[int, bytes]:
    with connect(r.admin_port) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        resp = Reader(sock).response()
        return resp.status, resp.body


def test_admin_endpoints(proxy: Running) -> None:
    get(proxy.port, "/hello")
    get(proxy.port, ATTACK.decode())
    assert _admin(proxy, "/healthz") == (200, b"ok\n")
    assert _admin(proxy, "/readyz") == (200, b"ready\n")
    status, text = _admin(proxy, "/metrics")
    assert status == 200
    assert b'siren_requests_total{outcome="forwarded",service="app"}' in text
    assert b'siren_blocks_total{category="sqli"' in text
    assert b"siren_inspection_seconds_count" in text and b"siren_upstream_seconds_count" in text
    assert _admin(proxy, "/nope")[0] == 404


def _config_file(tmp_path: Path, port: int, mode: str) -> str:
    path = tmp_path / "siren.yaml"
    path.write_text(f"listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nupstream: http://127.0.0.1:{port}\nservice: app\npolicy: {{mode: {mode}}}\n")
    return str(path)


def test_reload_swaps_policy_without_dropping_connections(tmp_path: Path) -> None:
    paths: dict[str, str] = {}

    def make(port: int) -> Any:
        paths["file"] = _config_file(tmp_path, port, "block")
        return load_config(paths["file"])

    with running(make) as r, connect(r.port) as sock:
        reader = Reader(sock)
        sock.sendall(b"GET " + ATTACK + b" HTTP/1.1\r\n" + H + b"\r\n")
        assert reader.response().status == 403
        Path(paths["file"]).write_text(Path(paths["file"]).read_text().replace("block", "shadow"))
        assert r.call(r.worker.reload()) is True  # type: ignore[union-attr]
        sock.sendall(b"GET " + ATTACK + b" HTTP/1.1\r\n" + H + b"\r\n")
        assert reader.response().status == 200  # same connection, new policy
        Path(paths["file"]).write_text("listen: [broken\n")
        assert r.call(r.worker.reload()) is False  # type: ignore[union-attr]
        sock.sendall(b"GET " + ATTACK + b" HTTP/1.1\r\n" + H + b"\r\n")
        assert reader.response().status == 200  # the last good configuration still serves
        assert r.stats.counters["config_reloads"] == {("ok",): 1, ("failed",): 1}


def test_drain_finishes_in_flight_requests_then_stops() -> None:
    with running() as r:
        idle = connect(r.port)
        busy = connect(r.port)
        busy.sendall(b"GET /wait HTTP/1.1\r\n" + H + b"\r\n")
        while not r.app.seen:
            r.call(asyncio.sleep(0.01))
        stopping = asyncio.run_coroutine_threadsafe(r.worker.stop(), r.loop)  # type: ignore[union-attr]
        assert Reader(idle).closed()  # an idle keep-alive connection is closed at once
        assert _admin(r, "/readyz")[0] == 503
        r.loop.call_soon_threadsafe(r.app.gate.set)  # type: ignore[union-attr]
        reader = Reader(busy)
        resp = reader.response()
        assert resp.status == 200 and resp.header("Connection") == "close"
        assert reader.closed()
        stopping.result(30)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", r.port), timeout=5).close()
        idle.close()
        busy.close()
