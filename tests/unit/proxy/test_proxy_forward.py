"""Forwarding: keep-alive, pipelining, framing both ways, hop-by-hop headers, X-Forwarded-*,
request ids, blocking, shadow mode, per-route and per-service policy, WebSocket, upstream failures,
overload. Real sockets on 127.0.0.1; no timing assertions."""

from __future__ import annotations

import json

from proxytest import Reader, Running, connect, exchange, get, make_config, running

from siren.engine import Policy, Route
from siren.proxy.config import Address, Limits, Service, Timeouts

H = b"Host: app.test\r\n"
ATTACK = "/?q=%27%20OR%201%3D1--"


def test_forwards_and_adds_forwarding_headers(proxy: Running) -> None:
    resp = get(proxy.port, "/hello?x=1", headers="X-Forwarded-For: 10.0.0.1\r\nX-Custom: yes\r\n")
    assert resp.status == 200
    seen = dict(resp.json()["headers"])
    assert seen["X-Forwarded-For"] == "10.0.0.1, 127.0.0.1"
    assert seen["X-Forwarded-Proto"] == "http"
    assert seen["X-Custom"] == "yes"
    assert seen["Host"] == "app.test"
    assert resp.header("X-Request-Id") == seen["X-Request-Id"]


def test_client_request_id_is_kept_when_well_formed(proxy: Running) -> None:
    resp = get(proxy.port, "/", headers="X-Request-Id: abc-123\r\n")
    assert dict(resp.json()["headers"])["X-Request-Id"] == "abc-123"
    assert resp.header("X-Request-Id") == "abc-123"
    resp = get(proxy.port, "/", headers="X-Request-Id: two words\r\n")
    assert dict(resp.json()["headers"])["X-Request-Id"] not in ("two words", "")


def test_hop_by_hop_headers_are_not_forwarded(proxy: Running) -> None:
    resp = get(proxy.port, "/", headers="Connection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: x\r\n")
    names = {n.lower() for n, _ in resp.json()["headers"]}
    assert not names & {"connection", "keep-alive", "te", "proxy-connection", "x-secret"}
    # and the upstream's own hop-by-hop response headers are not relayed
    assert resp.header("Keep-Alive") is None
    assert resp.header("Connection") is None


def test_keep_alive_reuses_client_and_upstream_connections(proxy: Running) -> None:
    before = proxy.app.connections
    with connect(proxy.port) as sock:
        reader = Reader(sock)
        for i in range(5):
            sock.sendall(b"GET /k%d HTTP/1.1\r\n" % i + H + b"\r\n")
            assert reader.response().status == 200
    assert proxy.app.connections - before <= 1
    assert [s.target for s in proxy.app.seen] == [f"/k{i}" for i in range(5)]


def test_pipelined_requests_are_answered_in_order(proxy: Running) -> None:
    raw = b"".join(b"GET /p%d HTTP/1.1\r\n" % i + H + b"\r\n" for i in range(4)) + b"GET " + ATTACK.encode() + b" HTTP/1.1\r\n" + H + b"\r\n"
    with connect(proxy.port) as sock:
        sock.sendall(raw)
        reader = Reader(sock)
        targets = [reader.response().json()["target"] for _ in range(4)]
        assert targets == ["/p0", "/p1", "/p2", "/p3"]
        assert reader.response().status == 403


def test_connection_close_is_honoured(proxy: Running) -> None:
    with connect(proxy.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
        reader = Reader(sock)
        resp = reader.response()
        assert resp.status == 200 and resp.header("Connection") == "close"
        assert reader.closed()


def test_http10_client(proxy: Running) -> None:
    with connect(proxy.port) as sock:
        sock.sendall(b"GET /chunked HTTP/1.0\r\n\r\n")
        reader = Reader(sock)
        resp = reader.response()
        assert resp.status == 200
        assert resp.header("Transfer-Encoding") is None
        assert resp.body == b"hello chunked world"
        assert reader.closed()
    with connect(proxy.port) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        reader = Reader(sock)
        assert reader.response().header("Connection") == "keep-alive"
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert reader.response().status == 200


def test_chunked_response_is_relayed(proxy: Running) -> None:
    resp = get(proxy.port, "/chunked")
    assert resp.body == b"hello chunked world"
    assert resp.header("Transfer-Encoding") == "chunked"
    assert resp.header("X-Up") == "1"


def test_close_delimited_response_is_rechunked(proxy: Running) -> None:
    with connect(proxy.port) as sock:
        sock.sendall(b"GET /close HTTP/1.1\r\n" + H + b"\r\n")
        reader = Reader(sock)
        resp = reader.response()
        assert resp.body == b"until the end"
        assert resp.header("Transfer-Encoding") == "chunked"
        sock.sendall(b"GET /again HTTP/1.1\r\n" + H + b"\r\n")  # the client connection stays usable
        assert reader.response().json()["target"] == "/again"


def test_large_response_is_streamed(proxy: Running) -> None:
    n = 8 * 1024 * 1024
    resp = get(proxy.port, f"/big?n={n}")
    assert resp.status == 200 and len(resp.body) == n


def test_head_and_no_body_statuses(proxy: Running) -> None:
    with connect(proxy.port) as sock:
        reader = Reader(sock)
        sock.sendall(b"HEAD / HTTP/1.1\r\n" + H + b"\r\n")
        resp = reader.response(head_request=True)
        assert resp.status == 200 and resp.header("Content-Length") is not None
        for status in (204, 304):
            sock.sendall(b"GET /status/%d HTTP/1.1\r\n" % status + H + b"\r\n")
            assert reader.response().status == status
        sock.sendall(b"GET /after HTTP/1.1\r\n" + H + b"\r\n")
        assert reader.response().json()["target"] == "/after"


def test_expect_100_continue(proxy: Running) -> None:
    with connect(proxy.port) as sock:
        sock.sendall(b"POST /e HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        reader = Reader(sock)
        assert reader._until(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        resp = reader.response()
        assert resp.json()["body"] == "hello"
    names = {n.lower() for n, _ in proxy.app.seen[0].headers}
    assert "expect" not in names


def test_block_answers_403_with_incident_id_json_or_html(proxy: Running) -> None:
    resp = get(proxy.port, ATTACK, headers="Accept: application/json\r\n")
    assert resp.status == 403
    doc = resp.json()
    assert doc["error"] == "blocked" and len(doc["incident_id"]) == 16
    assert resp.header("X-Siren-Incident") == doc["incident_id"]
    resp = get(proxy.port, ATTACK, headers="Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n")
    assert resp.status == 403 and resp.header("Content-Type", ).startswith("text/html")  # type: ignore[union-attr]
    assert resp.header("X-Siren-Incident").encode() in resp.body  # type: ignore[union-attr]
    assert proxy.app.seen == []


def test_block_keeps_the_connection_usable(proxy: Running) -> None:
    with connect(proxy.port) as sock:
        reader = Reader(sock)
        sock.sendall(b"POST /x HTTP/1.1\r\n" + H + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 18\r\n\r\nq=' OR 1=1-- &a=b")
        sock.sendall(b"\n")
        assert reader.response().status == 403
        sock.sendall(b"GET /ok HTTP/1.1\r\n" + H + b"\r\n")
        assert reader.response().status == 200


def test_body_is_inspected(proxy: Running) -> None:
    body = json.dumps({"user": {"name": "x' UNION SELECT password FROM users--"}}).encode()
    resp = get(proxy.port, "/api", headers="Content-Type: application/json\r\n", body=body, method="POST")
    assert resp.status == 403
    assert proxy.app.seen == []


def test_counters_for_blocks_by_category_and_rule(proxy: Running) -> None:
    get(proxy.port, ATTACK)
    blocks = proxy.stats.counters["blocks"]
    assert any(key[0] == "app" and key[1] == "sqli" for key in blocks)
    assert proxy.stats.counters["requests"][("app", "blocked")] >= 1


def test_shadow_mode_forwards_and_counts_would_blocks() -> None:
    with running(policy=Policy(mode="shadow")) as r:
        resp = get(r.port, ATTACK)
        assert resp.status == 200
        assert [s.target for s in r.app.seen] == [ATTACK]
        assert r.stats.counters["requests"][("app", "shadow_blocked")] == 1
        assert any(k[1] == "sqli" for k in r.stats.counters["would_blocks"])
        assert not r.stats.counters["blocks"]


def test_modes_per_route() -> None:
    policy = Policy(mode="block", routes=(Route("/shadow/", mode="shadow"), Route("/off/", mode="off")))
    with running(policy=policy) as r:
        assert get(r.port, "/shadow/?q=%27%20OR%201%3D1--").status == 200
        assert get(r.port, "/off/?q=%27%20OR%201%3D1--").status == 200
        assert get(r.port, "/blocked/?q=%27%20OR%201%3D1--").status == 403
        assert len(r.app.seen) == 2


def test_modes_and_upstreams_per_service() -> None:
    def make(port: int) -> object:
        services = (
            Service("shop", Address("127.0.0.1", port), Policy(mode="block")),
            Service("billing", Address("127.0.0.1", port), Policy(mode="shadow"), ("billing.test",)),
        )
        return make_config(port, services=services)

    with running(make) as r:
        raw = "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n"
        assert exchange(r.port, raw.format(ATTACK, "billing.test:8080").encode()).status == 200
        assert exchange(r.port, raw.format(ATTACK, "shop.test").encode()).status == 403
        assert r.stats.counters["requests"][("billing", "shadow_blocked")] == 1
        assert r.stats.counters["requests"][("shop", "blocked")] == 1


def test_large_body_inspects_the_first_bytes_and_streams_the_rest() -> None:
    with running(limits=Limits(body_inspect_bytes=1024)) as r:
        body = b"a=" + b"b" * 200_000
        resp = get(r.port, "/up", body=body, method="POST")
        assert resp.status == 200
        assert r.app.seen[0].body == body
        chunked = b"POST /up HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
        chunked += b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in [b"x" * 1000, b"y" * 3000, b"z" * 5000]) + b"0\r\n\r\n"
        with connect(r.port) as sock:
            sock.sendall(chunked)
            assert Reader(sock).response().status == 200
        assert r.app.seen[1].body == b"x" * 1000 + b"y" * 3000 + b"z" * 5000
        # an attack inside the inspected part is still blocked
        attack = b"q=' OR 1=1-- &" + b"c" * 5000
        assert get(r.port, "/up", body=attack, headers="Content-Type: application/x-www-form-urlencoded\r\n", method="POST").status == 403
        assert len(r.app.seen) == 2


def test_websocket_upgrade_is_tunnelled(proxy: Running) -> None:
    with connect(proxy.port) as sock:
        sock.sendall(b"GET /ws HTTP/1.1\r\n" + H + b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x\r\n\r\nearly")
        reader = Reader(sock)
        resp = reader.response()
        assert resp.status == 101 and resp.header("Upgrade") == "websocket"
        got = reader.buf
        while len(got) < len(b"echo:early"):
            got += sock.recv(100)
        assert got == b"echo:early"
        sock.sendall(b"frame")
        assert sock.recv(100) == b"echo:frame"
    seen = dict(proxy.app.seen[0].headers)
    assert seen["Upgrade"] == "websocket" and seen["Connection"] == "Upgrade"


def test_refused_upgrade_keeps_http(proxy: Running) -> None:
    with connect(proxy.port) as sock:
        sock.sendall(b"GET /nows HTTP/1.1\r\n" + H + b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /next HTTP/1.1\r\n" + H + b"\r\n")
        reader = Reader(sock)
        assert reader.response().status == 200
        assert reader.response().json()["target"] == "/next"


def test_non_websocket_upgrade_is_dropped(proxy: Running) -> None:
    with connect(proxy.port) as sock:
        sock.sendall(b"GET /h2c HTTP/1.1\r\n" + H + b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: x\r\n\r\n")
        resp = Reader(sock).response()
        assert resp.status == 200
    names = {n.lower() for n, _ in proxy.app.seen[0].headers}
    assert not names & {"upgrade", "connection", "http2-settings"}


def test_upstream_down_gives_502() -> None:
    with running(lambda port: make_config(1)) as r:  # nothing listens on port 1
        resp = get(r.port, "/")
        assert resp.status == 502
        assert r.stats.counters["upstream_errors"][("app", "refused")] == 1


def test_silent_upstream_gives_504() -> None:
    with running(timeouts=Timeouts(upstream_read=0.2)) as r:
        with connect(r.port) as sock:
            reader = Reader(sock)
            sock.sendall(b"GET /silent HTTP/1.1\r\n" + H + b"\r\n")
            assert reader.response().status == 504
            sock.sendall(b"GET /fine HTTP/1.1\r\n" + H + b"\r\n")
            assert reader.response().status == 200
        assert r.stats.counters["upstream_errors"][("app", "timeout")] == 1


def test_overload_answers_503_with_retry_after() -> None:
    with running(max_in_flight=1, timeouts=Timeouts(upstream_read=30)) as r:
        with connect(r.port) as slow:
            slow.sendall(b"GET /silent HTTP/1.1\r\n" + H + b"\r\n")
            while not r.app.seen:  # the first request is in flight
                r.call(_tick())
            resp = get(r.port, "/")
            assert resp.status == 503 and resp.header("Retry-After") == "1"
        assert r.stats.counters["overload_drops"][()] == 1


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.01)


def test_header_timeout_answers_408() -> None:
    with running(timeouts=Timeouts(header=0.2)) as r:
        with connect(r.port) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: a")
            reader = Reader(sock)
            assert reader.response().status == 408
            assert reader.closed()


def test_idle_keep_alive_connection_is_closed() -> None:
    with running(timeouts=Timeouts(idle=0.2)) as r:
        with connect(r.port) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n" + H + b"\r\n")
            reader = Reader(sock)
            assert reader.response().status == 200
            assert reader.closed()


def test_half_closed_client_gets_its_answers(proxy: Running) -> None:
    import socket

    with connect(proxy.port) as sock:
        sock.sendall(b"GET /a HTTP/1.1\r\n" + H + b"\r\nGET /b HTTP/1.1\r\n" + H + b"\r\n")
        sock.shutdown(socket.SHUT_WR)
        reader = Reader(sock)
        assert [reader.response().json()["target"] for _ in range(2)] == ["/a", "/b"]
        assert reader.closed()


def test_malformed_upstream_response_gives_502(proxy: Running) -> None:
    resp = get(proxy.port, "/garbage")
    assert resp.status == 502
    assert proxy.stats.counters["upstream_errors"][("app", "bad_response")] >= 1


def test_upstream_closing_kept_alive_connections_is_not_an_error(proxy: Running) -> None:
    with connect(proxy.port) as sock:
        reader = Reader(sock)
        for _ in range(5):
            sock.sendall(b"GET /bye HTTP/1.1\r\n" + H + b"\r\n")
            assert reader.response().body == b"bye"
            sock.sendall(b"GET /after-bye HTTP/1.1\r\n" + H + b"\r\n")
            assert reader.response().status == 200


def test_bad_chunk_in_a_streamed_body_cuts_both_connections() -> None:
    with running(limits=Limits(body_inspect_bytes=8)) as r:
        with connect(r.port) as sock:
            sock.sendall(b"POST /up HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n10\r\n" + b"a" * 16 + b"\r\n")
            while not r.worker.pools["app"].busy:  # type: ignore[union-attr]  # the body is streaming upstream
                r.call(_tick())
            sock.sendall(b"zz\r\n")
            reader = Reader(sock)
            assert reader.closed()  # no answer can be honest any more: the connection is cut
        assert r.stats.counters["protocol_rejects"]
        assert r.app.seen == []  # the upstream never got a complete request
