"""The wire format and redaction: secrets never reach storage, whatever the sidecar sent."""

from __future__ import annotations

import hashlib

import orjson
import pytest
from pydantic import ValidationError

from siren.brain.schema import (
    DEFAULT_REDACTION,
    REDACTED,
    Event,
    FindingModel,
    Redaction,
    Sample,
    canonical_json,
    content_sha256,
    signing_message,
)
from siren.brain.testing import make_event


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/login?user=ann&password=hunter2", f"/login?user=ann&password={REDACTED}"),
        ("/cb?access_token=abc&state=1", f"/cb?access_token={REDACTED}&state=1"),
        ("/x?API_KEY=1&Api-Key=2&apikey=3", f"/x?API_KEY={REDACTED}&Api-Key={REDACTED}&apikey={REDACTED}"),
        ("/x?client_secret=s&q=secretary", f"/x?client_secret={REDACTED}&q=secretary"),
        ("/x?sid=1&side=left", f"/x?sid={REDACTED}&side=left"),
        ("/plain/path", "/plain/path"),
        ("/x?flag&pwd=1", f"/x?flag&pwd={REDACTED}"),
        ("/x?pass%77ord=1", f"/x?pass%77ord={REDACTED}"),
    ],
)
def test_query_values_of_secret_names_are_redacted(target: str, expected: str) -> None:
    assert DEFAULT_REDACTION.target(target) == expected


def test_sample_headers_json_and_form_bodies_are_redacted() -> None:
    sample = Sample(
        method="POST",
        target="/api?token=t1",
        headers=[("Authorization", "Bearer xyz"), ("Cookie", "sid=1"), ("Set-Cookie", "a=b"), ("X-Api-Key", "k"),
                 ("Content-Type", "application/json"), ("User-Agent", "ua")],
        body='{"user": {"name": "ann", "password": "p", "keys": [{"api_key": "k"}]}, "note": "token in text stays"}',
    )
    out = DEFAULT_REDACTION.sample(sample)
    headers = dict(out.headers)
    assert headers["Authorization"] == headers["Cookie"] == headers["Set-Cookie"] == headers["X-Api-Key"] == REDACTED
    assert headers["User-Agent"] == "ua"
    assert out.target == f"/api?token={REDACTED}"
    body = orjson.loads(out.body)
    assert body["user"] == {"name": "ann", "password": REDACTED, "keys": [{"api_key": REDACTED}]}
    assert body["note"] == "token in text stays"

    form = Sample(method="POST", target="/", headers=[("Content-Type", "application/x-www-form-urlencoded")],
                  body="user=ann&passwd=p%26q&remember=1")
    assert DEFAULT_REDACTION.sample(form).body == f"user=ann&passwd={REDACTED}&remember=1"


def test_unparsed_bodies_get_loose_redaction() -> None:
    multipart = (
        '--b\r\nContent-Disposition: form-data; name="password"\r\n\r\nhunter2\r\n'
        '--b\r\nContent-Disposition: form-data; name="bio"\r\n\r\nhello\r\n--b--\r\n'
    )
    out = DEFAULT_REDACTION.body(multipart, "multipart/form-data; boundary=b")
    assert "hunter2" not in out and "hello" in out
    assert "s3cr3t" not in DEFAULT_REDACTION.body('{"broken": true, "token": "s3cr3t"', "application/json")
    assert "abc" not in DEFAULT_REDACTION.body("line one\napi_key=abc\n", "text/plain")


def test_findings_in_secret_targets_lose_their_fragment() -> None:
    secret = FindingModel(detector="signature", rule_id="r", category="sqli", target="ARGS:password", fragment="' or 1=1--")
    header = FindingModel(detector="signature", rule_id="r", category="sqli", target="HEADER:Authorization", fragment="x")
    plain = FindingModel(detector="signature", rule_id="r", category="sqli", target="ARGS:q", fragment="' or 1=1--")
    assert DEFAULT_REDACTION.finding(secret).fragment == REDACTED
    assert DEFAULT_REDACTION.finding(header).fragment == REDACTED
    assert DEFAULT_REDACTION.finding(plain).fragment == "' or 1=1--"


def test_policy_adds_names_never_removes_them() -> None:
    custom = Redaction.with_extra(headers=["X-Tenant"], fields=["ssn", "iban"])
    assert custom.target("/x?iban=DE1&password=p&q=1") == f"/x?iban={REDACTED}&password={REDACTED}&q=1"
    sample = Sample(method="GET", target="/", headers=[("X-Tenant", "acme"), ("Authorization", "a")])
    assert dict(custom.sample(sample).headers) == {"X-Tenant": REDACTED, "Authorization": REDACTED}
    with pytest.raises(ValueError):
        Redaction.with_extra(fields=["("])


def test_event_redaction_drops_the_sample_unless_kept_and_always_keeps_a_hash() -> None:
    sample = Sample(method="GET", target="/?password=p", headers=[("Cookie", "c=1")])
    event = make_event(sample=sample.model_dump())
    dropped = DEFAULT_REDACTION.event(event, keep_sample=False)
    assert dropped.sample is None
    assert dropped.payload_sha256 == hashlib.sha256(canonical_json(sample.model_dump(mode="json"))).hexdigest()
    kept = DEFAULT_REDACTION.event(event, keep_sample=True)
    assert kept.sample is not None and kept.sample.target == f"/?password={REDACTED}"
    given = make_event(payload_sha256="a" * 64)
    assert DEFAULT_REDACTION.event(given, keep_sample=False).payload_sha256 == "a" * 64


@pytest.mark.parametrize(
    "change",
    [{"surprise": 1}, {"event_id": "has space"}, {"event_id": ""}, {"action": "explode"}, {"time": -1},
     {"findings": [{"detector": "x"}]}, {"payload_sha256": "nothex"}, {"service": "a/b"}],
)
def test_events_are_validated_strictly(change: dict[str, object]) -> None:
    data = make_event().model_dump(mode="json") | change
    with pytest.raises(ValidationError):
        Event.model_validate(data)


def test_canonical_encoding_is_stable() -> None:
    a = {"b": [1, {"y": 2, "x": 1}], "a": "é"}
    b = {"a": "é", "b": [1, {"x": 1, "y": 2}]}
    assert canonical_json(a) == canonical_json(b) == '{"a":"é","b":[1,{"x":1,"y":2}]}'.encode()
    assert content_sha256(a) == hashlib.sha256(canonical_json(b)).hexdigest()
    assert signing_message(3, "ab", 7) == b"siren-bundle/1\n3\nab\n7"


def test_the_ingest_record_is_the_redacted_event_as_data() -> None:
    sample = Sample(method="POST", target="/?token=t", headers=[("Cookie", "c=1")], body='{"password": "p"}')
    events = [
        make_event(),
        make_event(target="/login?password=x", finding_target="ARGS:password", sample=sample.model_dump()),
        make_event(signal={"kind": "db_error", "detail": "ORA-00933"}, payload_sha256="b" * 64),
    ]
    for event in events:
        for keep in (True, False):
            assert DEFAULT_REDACTION.event_record(event, keep_sample=keep) == DEFAULT_REDACTION.event(event, keep_sample=keep).model_dump()
