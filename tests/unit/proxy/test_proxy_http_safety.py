"""Ambiguous or malformed requests get a clear 4xx, are never forwarded, and close the connection.
Raw sockets, byte for byte, including the classic request-smuggling cases (CL.TE, TE.CL, TE.TE)."""

from __future__ import annotations

import pytest
from proxytest import Reader, Running, connect, running

H = b"Host: app.test\r\n"

# (name, raw request, expected status)
CASES: list[tuple[str, bytes, int]] = [
    # request smuggling: both framings, or an obfuscated Transfer-Encoding
    ("CL.TE", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED", 400),
    ("TE.CL", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n", 400),
    ("TE.TE duplicate", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nTransfer-encoding: x\r\n\r\n0\r\n\r\n", 400),
    ("TE list gzip,chunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400),
    ("TE list chunked,gzip", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400),
    ("TE xchunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400),
    ("TE space before colon", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    ("TE obs-fold", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400),
    ("TE vertical tab", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n", 400),
    ("TE in HTTP/1.0", b"POST / HTTP/1.0\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    # Content-Length
    ("duplicate CL, same value", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd", 400),
    ("duplicate CL, different values", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400),
    ("CL list", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 4, 4\r\n\r\nabcd", 400),
    ("CL plus sign", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: +4\r\n\r\nabcd", 400),
    ("CL negative", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n", 400),
    ("CL hex", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0x4\r\n\r\nabcd", 400),
    ("CL overflow", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 99999999999999999999999\r\n\r\n", 400),
    ("CL space before colon", b"POST / HTTP/1.1\r\n" + H + b"Content-Length : 4\r\n\r\nabcd", 400),
    # chunked framing
    ("chunk size not hex", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
    ("chunk size negative", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n", 400),
    ("chunk size overflow", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\nabc\r\n0\r\n\r\n", 400),
    ("chunk size with space", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n", 400),
    ("chunk data too long", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n", 400),
    ("chunk lines with bare LF", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n", 400),
    # header syntax
    ("obs-fold", b"GET / HTTP/1.1\r\n" + H + b"X-A: b\r\n c\r\n\r\n", 400),
    ("obs-fold with tab", b"GET / HTTP/1.1\r\n" + H + b"X-A: b\r\n\tc\r\n\r\n", 400),
    ("bad header name", b"GET / HTTP/1.1\r\n" + H + b"X(a: b\r\n\r\n", 400),
    ("NUL in header value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400),
    ("bare CR in header value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n", 400),
    ("bare LF line ends", b"GET / HTTP/1.1\n" + b"Host: app.test\n\n", 400),
    ("no Host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two Host headers", b"GET / HTTP/1.1\r\n" + H + b"Host: evil.test\r\n\r\n", 400),
    # request line
    ("extra token in request line", b"GET / HTTP/1.1 extra\r\n" + H + b"\r\n", 400),
    ("space in target", b"GET /a b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("control char in target", b"GET /a\x01b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("HTTP/0.9", b"GET /\r\n\r\n", 400),
    ("HTTP/2.0 request line", b"GET / HTTP/2.0\r\n" + H + b"\r\n", 505),
    ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),
    ("absolute-form target", b"GET http://evil.test/ HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("CONNECT", b"CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n", 405),
    ("method with a bad character", b"GE(T / HTTP/1.1\r\n" + H + b"\r\n", 400),
    # sizes
    ("header too large", b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"a" * 40_000 + b"\r\n\r\n", 431),
    ("too many headers", b"GET / HTTP/1.1\r\n" + H + b"".join(b"X-%d: v\r\n" % i for i in range(120)) + b"\r\n", 431),
    ("target too long", b"GET /" + b"a" * 40_000 + b" HTTP/1.1\r\n" + H + b"\r\n", 414),
    # Upgrade with a body: llhttp would read the body as the new protocol
    (
        "Upgrade with a body",
        b"POST / HTTP/1.1\r\n" + H + b"Connection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 37\r\n\r\n"
        + b"GET /admin HTTP/1.1\r\nHost: app.test\r\n\r\n",
        400,
    ),
    ("unsupported Expect", b"POST / HTTP/1.1\r\n" + H + b"Expect: 200-ok\r\nContent-Length: 2\r\n\r\nab", 417),
]


@pytest.mark.parametrize("raw,status", [pytest.param(raw, status, id=name) for name, raw, status in CASES])
def test_malformed_request_is_answered_and_never_forwarded(proxy: Running, raw: bytes, status: int) -> None:
    with connect(proxy.port) as sock:
        sock.sendall(raw)
        reader = Reader(sock)
        resp = reader.response()
        assert resp.status == status, resp.body
        assert resp.header("Connection") == "close"
        assert reader.closed()
    assert proxy.app.seen == []


def test_rejections_are_counted(proxy: Running) -> None:
    before = dict(proxy.stats.counters["protocol_rejects"])
    with connect(proxy.port) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        assert Reader(sock).response().status == 400
    after = proxy.stats.counters["protocol_rejects"]
    assert sum(after.values()) == sum(before.values()) + 1


def test_valid_request_then_smuggling_attempt_on_one_connection(proxy: Running) -> None:
    """A pipelined good request is answered; the malformed one after it gets 400, nothing more."""
    good = b"GET /first HTTP/1.1\r\n" + H + b"\r\n"
    bad = b"POST /second HTTP/1.1\r\n" + H + b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG"
    with connect(proxy.port) as sock:
        sock.sendall(good + bad)
        reader = Reader(sock)
        assert reader.response().status == 200
        assert reader.response().status == 400
        assert reader.closed()
    assert [s.target for s in proxy.app.seen] == ["/first"]


def test_get_with_a_body_is_forwarded_with_the_same_framing(proxy: Running) -> None:
    """The body of a GET is a body, never a second request: the upstream reads it the same way."""
    inner = b"GET /admin HTTP/1.1\r\nHost: app.test\r\n\r\n"
    raw = b"GET / HTTP/1.1\r\n" + H + b"Content-Length: %d\r\n\r\n" % len(inner) + inner
    with connect(proxy.port) as sock:
        sock.sendall(raw + b"GET /next HTTP/1.1\r\n" + H + b"\r\n")
        reader = Reader(sock)
        assert reader.response().status == 200
        assert reader.response().status == 200
    assert [(s.target, s.body) for s in proxy.app.seen] == [("/", inner), ("/next", b"")]


def test_chunked_request_is_forwarded_with_content_length(proxy: Running) -> None:
    raw = b"POST /c HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    with connect(proxy.port) as sock:
        sock.sendall(raw)
        assert Reader(sock).response().status == 200
    [seen] = proxy.app.seen
    assert seen.body == b"hello world"
    names = [n.lower() for n, _ in seen.headers]
    assert "transfer-encoding" not in names and "x-trailer" not in names
    assert ("Content-Length", "11") in seen.headers


def test_chunked_transfer_encoding_is_case_insensitive(proxy: Running) -> None:
    raw = b"POST /c HTTP/1.1\r\n" + H + b"Transfer-Encoding: Chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"
    with connect(proxy.port) as sock:
        sock.sendall(raw)
        assert Reader(sock).response().status == 200
    assert proxy.app.seen[0].body == b"a"


def test_request_split_into_single_bytes(proxy: Running) -> None:
    raw = b"POST /slow?q=1 HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    with connect(proxy.port) as sock:
        for i in range(len(raw)):
            sock.sendall(raw[i : i + 1])
        assert Reader(sock).response().status == 200
    assert proxy.app.seen[0].body == b"abc"


def test_unknown_method_token_is_inspected_and_forwarded(proxy: Running) -> None:
    """llhttp knows a fixed list of methods; other tokens are legal and must not escape inspection."""
    with connect(proxy.port) as sock:
        sock.sendall(b"CUST /m HTTP/1.1\r\n" + H + b"Content-Length: 3\r\n\r\nabc")
        assert Reader(sock).response().status == 200
        sock.sendall(b"CU")
        sock.sendall(b"ST /?q=%27%20OR%201%3D1-- HTTP/1.1\r\n" + H + b"\r\n")
        assert Reader(sock).response().status == 403
    assert [(s.method, s.target, s.body) for s in proxy.app.seen] == [("CUST", "/m", b"abc")]


def test_body_over_the_inspection_limit_can_be_refused() -> None:
    from siren.proxy.config import Limits

    limits = Limits(body_inspect_bytes=16, body_over_limit="reject")
    with running(limits=limits) as r:
        with connect(r.port) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 17\r\n\r\n" + b"a" * 17)
            assert Reader(sock).response().status == 413
        with connect(r.port) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n11\r\n" + b"a" * 17 + b"\r\n0\r\n\r\n")
            assert Reader(sock).response().status == 413
        with connect(r.port) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 16\r\n\r\n" + b"a" * 16)
            assert Reader(sock).response().status == 200
        assert [s.body for s in r.app.seen] == [b"a" * 16]


def test_body_over_the_hard_cap_is_refused() -> None:
    from siren.proxy.config import Limits

    with running(limits=Limits(body_inspect_bytes=8, body_max_bytes=32)) as r:
        with connect(r.port) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 33\r\n\r\n" + b"a" * 33)
            assert Reader(sock).response().status == 413
        with connect(r.port) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n21\r\n" + b"a" * 33 + b"\r\n0\r\n\r\n")
            assert Reader(sock).response().status == 413
        assert r.app.seen == []


def test_header_that_never_ends_is_bounded(proxy: Running) -> None:
    with connect(proxy.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n" + H + b"X-Endless: ")
        reader = Reader(sock)
        try:
            for _ in range(64):  # up to 4 MiB, never a line end
                sock.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert reader.response().status == 431
    assert proxy.app.seen == []
