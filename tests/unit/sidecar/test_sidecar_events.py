"""The event shipper: the request path never waits; batches reach the brain with retries,
backoff and a circuit breaker; nothing secret leaves the host."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest

from siren.brain.schema import REDACTED, Event
from siren.brain.testing import make_event
from siren.engine import Engine
from siren.engine.ruleset import _parse_rule
from siren.sidecar.backoff import Backoff, CircuitBreaker
from siren.sidecar.client import BrainClient
from siren.sidecar.events import EventShipper, detect_response_signal, to_event
from siren.sidecar.events import make_event as event_for
from siren.testing import make_request

if TYPE_CHECKING:
    from conftest import Fleet  # type: ignore[import-not-found]


class Recorder:
    """A fake brain: answers with the given statuses in turn (the last one repeats)."""

    def __init__(self, *statuses: int | type[Exception]) -> None:
        self.statuses = list(statuses)
        self.batches: list[list[dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if isinstance(status, type):
            raise status("brain unreachable")
        self.batches.append(orjson.loads(request.content)["events"])
        return httpx.Response(status, json={"accepted": 0, "duplicates": 0})


def shipper(handler: Recorder, **kw: Any) -> tuple[EventShipper, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    client = BrainClient("http://brain", "t", transport=httpx.MockTransport(handler))
    kw.setdefault("backoff", Backoff(base=1, cap=4))
    return EventShipper(client, sleep=sleep, **kw), slept


def test_offer_never_waits_and_counts_what_it_drops() -> None:
    s, _ = shipper(Recorder(200), maxsize=3)
    assert [s.offer(make_event()) for _ in range(5)] == [True, True, True, False, False]
    assert (s.depth, s.dropped, s.counters["events_queued"]) == (3, 2, 3)
    assert s.put is not None and s.stats()["queue_depth"] == 3


def test_events_go_out_in_batches() -> None:
    rec = Recorder(200)
    s, _ = shipper(rec, batch_size=2)
    for i in range(5):
        s.offer(make_event(f"e{i}"))
    assert asyncio.run(s.flush())
    assert [[e["event_id"] for e in b] for b in rec.batches] == [["e0", "e1"], ["e2", "e3"], ["e4"]]
    assert s.counters["events_sent"] == 5 and s.depth == 0


def test_transient_failures_are_retried_with_backoff() -> None:
    rec = Recorder(503, httpx.ConnectError, 200)
    s, slept = shipper(rec)
    s.offer(make_event("e1"))
    assert asyncio.run(s.flush())
    assert s.counters["retries"] == 2 and s.counters["events_sent"] == 1
    assert len(slept) == 2 and 0.5 <= slept[0] <= 1 and 1 <= slept[1] <= 2, "exponential"
    assert [b[0]["event_id"] for b in rec.batches] == ["e1", "e1"], "same id on every try: the brain dedupes"


def test_a_batch_the_brain_rejects_is_dropped_and_counted() -> None:
    s, slept = shipper(Recorder(422))
    s.offer(make_event("e1"))
    assert asyncio.run(s.flush())
    assert (s.counters["events_rejected"], s.depth, slept) == (1, 0, [])


def test_the_breaker_opens_and_failed_batches_wait_in_the_queue() -> None:
    rec = Recorder(httpx.ConnectError)
    calls: list[int] = []
    original = rec.__call__

    def counting(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return original(request)

    s, _ = shipper(Recorder(200), max_retries=1, breaker=CircuitBreaker(threshold=2, reset_after=3600), maxsize=3)
    s.client = BrainClient("http://brain", "t", transport=httpx.MockTransport(counting))
    for i in range(3):
        s.offer(make_event(f"e{i}"))
    assert not asyncio.run(s.flush())
    assert len(calls) == 2 and s.breaker.state == "open" and s.counters["batches_failed"] == 1
    assert s.depth == 3, "the batch went back to the queue"
    assert not s.offer(make_event("e9")) and s.dropped == 1, "still bounded"
    assert not asyncio.run(s.flush()) and len(calls) == 2, "an open breaker makes no calls"


def test_proxy_events_are_converted_once_with_an_id() -> None:
    class ProxyEvent:
        def as_dict(self) -> dict[str, Any]:
            return {"time": 1.0, "service": "shop", "route": "/", "request_id": "r1", "incident_id": "", "client": "10.0.0.1",
                    "method": "GET", "path": "/x", "action": "block", "score": 5, "threshold": 5, "mode": "block",
                    "categories": ["sqli"], "findings": [], "unknown_later_field": 1}

    event = to_event(ProxyEvent())
    assert event.target == "/x" and len(event.event_id) == 24 and event.request_id == "r1"
    assert to_event(event) == event, "an event already redacted goes out as it is"
    assert to_event(ProxyEvent().as_dict() | {"incident_id": "abcd"}).event_id == "abcd"


def test_secrets_are_redacted_before_events_leave_the_host() -> None:
    finding = {"detector": "signature", "rule_id": "t.sqli", "category": "sqli", "target": "ARGS:password",
               "fragment": "hunter2' or 1=1", "transforms": [], "score": 5, "message": ""}
    other = finding | {"target": "ARGS:q", "fragment": "' or 1=1"}
    queued = {"time": 1.0, "service": "shop", "client": "10.0.0.1", "method": "GET", "path": "/login?password=hunter2&q=x",
              "action": "block", "score": 5, "threshold": 5, "mode": "block", "findings": [finding, other]}
    rec = Recorder(200)
    s, _ = shipper(rec)
    s.offer(queued)
    s.offer(make_event("raw", finding_target="HEADER:Authorization", fragment="Bearer s3cr3t"))
    assert asyncio.run(s.flush())
    sent = orjson.dumps(rec.batches)
    assert b"hunter2" not in sent and b"s3cr3t" not in sent
    first, second = rec.batches[0]
    assert [f["fragment"] for f in first["findings"]] == [REDACTED, "' or 1=1"], "only secret-named fields"
    assert second["findings"][0]["fragment"] == REDACTED


def test_invalid_queued_items_are_counted_not_sent() -> None:
    rec = Recorder(200)
    s, _ = shipper(rec)
    s.offer({"service": "not a valid name!", "action": "block"})
    s.offer(make_event("ok"))
    assert asyncio.run(s.flush())
    assert s.counters["events_invalid"] == 1 and [e["event_id"] for e in rec.batches[0]] == ["ok"]


def test_make_event_redacts_and_hashes() -> None:
    rule = _parse_rule({"id": "t.tautology", "category": "sqli", "targets": ["ARGS"], "pattern": "or 1=1"}, "test")
    engine = Engine.create(builtin=False, extra_rules=[rule], use_cache=False)
    request = make_request("/login?user=ann&password=%27%20or%201%3D1--", headers={"Authorization": "Bearer s3cr3t"},
                           client="10.0.0.1")
    verdict = engine.inspect(request)
    event = event_for(request, verdict, service="shop", include_sample=True)
    assert event.target == f"/login?user=ann&password={REDACTED}"
    assert event.sample is not None and dict(event.sample.headers)["Authorization"] == REDACTED
    assert event.findings and all(f.fragment == REDACTED for f in event.findings if f.target == "ARGS:password")
    assert event.payload_sha256 is not None and "s3cr3t" not in event.model_dump_json()
    without = event_for(request, verdict, service="shop")
    assert without.sample is None and without.payload_sha256 == event.payload_sha256


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"<b>Warning</b>: You have an error in your SQL syntax; check the manual", "db_error"),
        (b'ERROR:  syntax error at or near "OR"', "db_error"),
        (b"Unclosed quotation mark after the character string ''.", "db_error"),
        (b"sqlite3.OperationalError: near \"'\": syntax error", "db_error"),
        (b"Traceback (most recent call last):\n  File", "stack_trace"),
        (b"<html>all good</html>", None),
    ],
)
def test_response_signals(body: bytes, kind: str | None) -> None:
    signal = detect_response_signal(500, body)
    assert (signal.kind if signal else None) == kind


def test_the_shipper_feeds_a_real_brain(fleet: Fleet) -> None:
    token = fleet.brain.enrol("sc-1", "shop", "admin")

    async def scenario() -> EventShipper:
        s = EventShipper(fleet.client(token), batch_size=10, flush_interval=0.05)
        task = s.start()
        for i in range(25):
            assert s.offer(make_event(f"ev-{i}"))
        for _ in range(1000):
            if s.counters["events_sent"] == 25:
                break
            await asyncio.sleep(0.01)
        await s.stop()
        assert task.done()
        batch = [make_event("ev-1"), make_event("ev-new")]
        assert await s.send_batch(batch)
        await s.client.aclose()
        return s

    s = asyncio.run(scenario())
    assert s.counters["events_sent"] == 27
    assert fleet.brain.count_events() == 26, "the retried ev-1 was stored once"
    assert {e["sidecar_id"] for e in fleet.brain.list_events(limit=100)} == {"sc-1"}
    assert isinstance(to_event(make_event()), Event)
