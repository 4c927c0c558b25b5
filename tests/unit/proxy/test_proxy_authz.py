"""``siren authz``: the described request is inspected; 200 allows, 403 blocks with an incident id."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from proxytest import Running, connect, exchange, make_config, running

from siren.engine import Policy
from siren.proxy.config import Service
from siren.proxy.runtime import Launch

ATTACK = "/?q=%27%20OR%201%3D1--"


@pytest.fixture(scope="module")
def authz() -> Iterator[Running]:
    launch = Launch(kind="authz", authz={"path_prefix": "/ext_authz"})
    with running(launch=launch, with_upstream=False) as r:
        yield r


def _check(r: Running, target: str, headers: str = "", body: bytes = b"", method: str = "GET") -> tuple[int, dict[str, str]]:
    extra = f"Content-Length: {len(body)}\r\n" if body else ""
    resp = exchange(r.port, f"{method} {target} HTTP/1.1\r\nHost: shop.test\r\n{headers}{extra}\r\n".encode() + body)
    return resp.status, {k.lower(): v for k, v in resp.headers}


def test_nginx_auth_request_allows_and_blocks(authz: Running) -> None:
    status, headers = _check(authz, "/auth", "X-Original-URI: /products?id=3\r\nX-Original-Method: GET\r\n")
    assert status == 200 and headers["x-siren-action"] == "allow"
    status, headers = _check(authz, "/auth", f"X-Original-URI: {ATTACK}\r\nX-Original-Method: GET\r\nAccept: application/json\r\n")
    assert status == 403 and len(headers["x-siren-incident"]) == 16


def test_envoy_ext_authz_inspects_the_check_request_itself(authz: Running) -> None:
    assert _check(authz, "/ext_authz/products?id=3", "x-envoy-internal: true\r\n")[0] == 200
    assert _check(authz, "/ext_authz" + ATTACK)[0] == 403
    body = b"q=' OR 1=1-- "
    assert _check(authz, "/ext_authz/login", "Content-Type: application/x-www-form-urlencoded\r\n", body, "POST")[0] == 403


def test_check_request_without_an_original_target(authz: Running) -> None:
    status, _ = _check(authz, "*", method="OPTIONS")
    assert status == 400


def test_service_and_shadow_mode_per_service() -> None:
    def make(port: int) -> object:
        cfg = make_config(port)
        return replace(cfg, services=(Service("app", None, Policy()), Service("legacy", None, Policy(mode="shadow"))))

    with running(make, launch=Launch(kind="authz"), with_upstream=False) as r:
        status, headers = _check(r, "/auth", f"X-Original-URI: {ATTACK}\r\nX-Siren-Service: legacy\r\n")
        assert status == 200 and headers["x-siren-action"] == "log" and headers["x-siren-incident"]
        assert _check(r, "/auth", f"X-Original-URI: {ATTACK}\r\n")[0] == 403
        assert r.stats.counters["requests"][("legacy", "shadow_blocked")] == 1


def test_authz_keeps_connections_alive(authz: Running) -> None:
    from proxytest import Reader

    with connect(authz.port) as sock:
        reader = Reader(sock)
        for uri in ("/a", ATTACK, "/b"):
            sock.sendall(f"GET /auth HTTP/1.1\r\nHost: x\r\nX-Original-URI: {uri}\r\n\r\n".encode())
            assert reader.response().status == (403 if uri == ATTACK else 200)
