"""Hypothesis: transforms are total, parsers never raise on random bytes, verdicts are
deterministic."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from siren.engine import Engine, Limits, ParseError, Request, parse_http
from siren.engine.targets import extract_targets
from siren.engine.transforms import REGISTRY

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300) | st.from_regex(
    r"(%[0-9a-fA-FuU]{0,5}|&#?x?[0-9a-z]{0,6};?|\\[xu]?[0-9a-f{}]{0,6}|[/.\\'\"$`{}()<>;|+ -]|[a-z]{1,6})*", fullmatch=True
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(REGISTRY)), TEXT)
def test_transforms_are_total(name: str, value: str) -> None:
    out = REGISTRY[name](value)
    assert isinstance(out, str)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_parse_http_never_raises(raw: bytes) -> None:
    result = parse_http(raw)
    assert isinstance(result, Request | ParseError)


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=400).map(lambda b: b"GET /?a=" + b.replace(b" ", b"%20").replace(b"\r", b"").replace(b"\n", b"") + b" HTTP/1.1\r\nHost: x\r\n\r\n")
)
def test_parse_http_on_request_like_bytes(raw: bytes) -> None:
    result = parse_http(raw)
    assert isinstance(result, Request | ParseError)


CONTENT_TYPES = st.sampled_from(
    [
        "application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz",
        "multipart/form-data", "text/xml", "application/soap+xml", "text/plain", "", "application/json; charset=utf-8",
    ]
)


@settings(max_examples=300, deadline=None)
@given(TEXT, CONTENT_TYPES, st.binary(max_size=500) | TEXT.map(str.encode))
def test_extract_targets_never_raises(target: str, content_type: str, body: bytes) -> None:
    request = Request("POST", "/" + target, (("Host", "x"), ("Content-Type", content_type), ("Cookie", target)), body)
    extraction = extract_targets(request, Limits(args=20, json_depth=5))
    assert all(isinstance(t.value, str) for t in extraction.targets)


@settings(max_examples=150, deadline=None)
@given(TEXT, st.binary(max_size=300))
def test_verdict_is_deterministic(engine: Engine, value: str, body: bytes) -> None:
    request = Request("POST", "/x?q=" + value.replace(" ", "+"), (("Host", "x"), ("User-Agent", value[:50])), body)
    first = engine.inspect(request)
    second = engine.inspect(request)
    assert first == second
