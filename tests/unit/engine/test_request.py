import pytest

from siren.engine import ParseError, Request, parse_http

OK = [
    (b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/a?b=1", b""),
    (b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "POST", "/p", b"abc"),
    (b"GET / HTTP/1.0\n\n", "GET", "/", b""),  # LF-only files written by hand
    (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n", "POST", "/", b"abcde"),
]

BAD = [
    (b"", 400, "empty request"),
    (b"GET /\r\n\r\n", 400, "bad request line"),
    (b"G(T / HTTP/1.1\r\n\r\n", 400, "bad method token"),
    (b"GET / HTTP/2.0\r\n\r\n", 505, "unsupported HTTP version"),
    (b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, "obsolete line folding"),
    (b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", 400, "bad header line"),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "invalid chunked body"),
    (b"GET / HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431, "header section too large"),
]


@pytest.mark.parametrize(("raw", "method", "target", "body"), OK)
def test_parse_ok(raw: bytes, method: str, target: str, body: bytes) -> None:
    result = parse_http(raw)
    assert isinstance(result, Request)
    assert (result.method, result.target, result.body) == (method, target, body)


@pytest.mark.parametrize(("raw", "status", "reason"), BAD)
def test_parse_errors_carry_status_hint(raw: bytes, status: int, reason: str) -> None:
    result = parse_http(raw)
    assert isinstance(result, ParseError)
    assert (result.status_hint, result.reason) == (status, reason)


def test_header_lookup_is_case_insensitive() -> None:
    req = Request("GET", "/x?y=1", (("Host", "a"), ("X-A", "1"), ("x-a", "2")))
    assert req.header("HOST") == "a"
    assert req.header_all("X-a") == ["1", "2"]
    assert (req.path, req.query) == ("/x", "y=1")
