"""The event seam: a bounded queue that drops and counts, never blocks."""

from __future__ import annotations

from siren.engine import Finding
from siren.proxy.events import Event, QueueSink


def _event(n: int) -> Event:
    finding = Finding("signature", "sqli.x", "sqli", "ARGS:q", "' or 1=1", ("url_decode",), 5, "m")
    return Event(float(n), "app", "/api/", f"r{n}", f"i{n}", "127.0.0.1", "GET", "/", "block", 5, 5, "block", ("sqli",), (finding,))


def test_full_queue_drops_and_counts() -> None:
    sink = QueueSink(2)
    assert [sink.offer(_event(n)) for n in range(4)] == [True, True, False, False]
    assert (sink.depth, sink.dropped) == (2, 2)
    assert [e.request_id for e in sink.drain(10)] == ["r0", "r1"]
    assert sink.depth == 0 and sink.offer(_event(9))


def test_event_as_dict_carries_no_body() -> None:
    doc = _event(1).as_dict()
    assert doc["findings"][0]["rule_id"] == "sqli.x"
    assert set(doc) == {
        "time", "service", "route", "request_id", "incident_id", "client", "method", "path", "action", "score",
        "threshold", "mode", "categories", "findings",
    }
