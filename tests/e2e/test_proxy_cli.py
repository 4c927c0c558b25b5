"""``siren proxy`` from the real command line: forwarding and blocking, SIGHUP reload without
dropping a kept-alive connection, SIGTERM drain, several workers."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest
from conftest_proxy import ENGINE, STOP_SECONDS, http, origin_app, siren, wait_until

pytestmark = pytest.mark.e2e

ATTACK = b"/?q=%27%20OR%201%3D1--"


def _get(port: int, target: bytes, extra: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    return http(port, b"GET " + target + b" HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n" + extra + b"\r\n")


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "connection closed"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(ln.split(b":")[1] for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ")[1]), body


def test_proxy_protects_one_upstream_without_a_config_file() -> None:
    with origin_app() as app, siren("proxy", *ENGINE, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                                    "--upstream", f"http://127.0.0.1:{app.server_port}") as proc:
        status, headers, _ = _get(proc.port, b"/products?id=3")
        assert status == 200 and headers["x-request-id"]
        status, headers, body = _get(proc.port, ATTACK, b"Accept: application/json\r\n")
        assert status == 403 and b"incident_id" in body
        blocked = proc.wait_for("blocked")
        assert blocked["incident_id"] == headers["x-siren-incident"] and blocked["request_id"] == headers["x-request-id"]
        assert [s[1] for s in app.seen] == ["/products?id=3"]
        status, _, text = http(proc.admin_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert status == 200 and b'siren_requests_total{outcome="blocked",service="default"} 1.0' in text
    assert proc.proc.returncode == 0


def test_sighup_reloads_without_dropping_connections(tmp_path: Path) -> None:
    with origin_app() as app:
        config = tmp_path / "siren.yaml"
        config.write_text(f"listen: 127.0.0.1:0\nadmin: ''\nupstream: http://127.0.0.1:{app.server_port}\npolicy: {{mode: block}}\n")
        with siren("proxy", *ENGINE, "--config", str(config)) as proc, socket.create_connection(("127.0.0.1", proc.port), timeout=STOP_SECONDS) as sock:
            request = b"GET " + ATTACK + b" HTTP/1.1\r\nHost: app.test\r\n\r\n"
            sock.sendall(request)
            assert _read_response(sock)[0] == 403
            config.write_text(config.read_text().replace("mode: block", "mode: shadow"))
            proc.proc.send_signal(signal.SIGHUP)
            proc.wait_for("reloaded")
            sock.sendall(request)  # the same kept-alive connection
            assert _read_response(sock)[0] == 200
            config.write_text("upstream: [broken\n")
            proc.proc.send_signal(signal.SIGHUP)
            assert "not valid YAML" in proc.wait_for("reload_failed")["error"]
            sock.sendall(request)
            assert _read_response(sock)[0] == 200


def test_sigterm_drains_in_flight_requests() -> None:
    with origin_app() as app, siren("proxy", *ENGINE, "--listen", "127.0.0.1:0", "--admin", "",
                                    "--upstream", f"http://127.0.0.1:{app.server_port}") as proc:
        with socket.create_connection(("127.0.0.1", proc.port), timeout=STOP_SECONDS) as sock:
            sock.sendall(b"GET /wait HTTP/1.1\r\nHost: app.test\r\n\r\n")
            wait_until(lambda: bool(app.seen))
            proc.proc.send_signal(signal.SIGTERM)
            proc.wait_for("draining")
            app.gate.set()
            status, body = _read_response(sock)
            assert status == 200 and b"/wait" in body
        assert proc.proc.wait(STOP_SECONDS) == 0
        assert proc.wait_for("stopped")["cut_connections"] == 0


def test_several_workers_share_the_port() -> None:
    with origin_app() as app, siren("proxy", *ENGINE, "--listen", "127.0.0.1:0", "--admin", "", "--workers", "2",
                                    "--upstream", f"http://127.0.0.1:{app.server_port}", expect_listening=False) as proc:
        sup = proc.wait_for("supervising")
        assert len(sup["pids"]) == 2
        port = int(sup["listen"].rsplit(":", 1)[1])
        proc.wait_for("listening", 2)
        for _ in range(6):
            assert _get(port, b"/w")[0] == 200
        assert _get(port, ATTACK)[0] == 403
    assert proc.proc.returncode == 0
