"""Every engine call is isolated: a crash becomes the configured fail-open/fail-closed decision
and a counted error, never a dead proxy."""

from __future__ import annotations

from typing import Any

from proxytest import engines_for, get, make_config, running

from siren.engine import Action, Engine, Policy, Request
from siren.engine.context import Context
from siren.engine.verdict import Finding
from siren.proxy.config import Address, Service
from siren.proxy.events import QueueSink
from siren.proxy.inspection import Inspector
from siren.proxy.metrics import Stats

SERVICE = Service("app", Address("127.0.0.1", 1), Policy())


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, level: str) -> Any:
        return lambda event, **kw: self.lines.append((event, kw))


class CrashingEngine:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def inspect(self, request: Request) -> Any:
        raise RuntimeError("boom")


class CrashingDetector:
    name = "crashing"

    def detect(self, ctx: Context) -> list[Finding]:
        raise ValueError("detector bug")


def _inspector(engine: Any, sink: QueueSink | None = None) -> tuple[Inspector, Stats, Log]:
    stats, log = Stats(), Log()
    return Inspector({"app": engine}, stats, sink, log), stats, log


def test_engine_crash_fails_open_and_is_counted() -> None:
    inspector, stats, log = _inspector(CrashingEngine(Policy(fail_open=True)))
    assert inspector.inspect(SERVICE, Request("GET", "/", (("Host", "x"),)), "r1") is None
    assert stats.counters["engine_errors"] == {("app", "open"): 1}
    assert log.lines[0][0] == "engine_error" and "boom" in log.lines[0][1]["error"]


def test_engine_crash_fails_closed_when_configured() -> None:
    inspector, stats, _log = _inspector(CrashingEngine(Policy(fail_open=False)))
    outcome = inspector.inspect(SERVICE, Request("GET", "/", (("Host", "x"),)), "r1")
    assert outcome is not None and outcome.blocked and outcome.incident_id
    assert stats.counters["engine_errors"] == {("app", "closed"): 1}
    shadow, stats, _ = _inspector(CrashingEngine(Policy(fail_open=False, mode="shadow")))
    outcome = shadow.inspect(SERVICE, Request("GET", "/", (("Host", "x"),)), "r2")
    assert outcome is not None and not outcome.blocked and outcome.verdict.action is Action.LOG


def test_detector_crash_inside_the_engine_is_counted() -> None:
    base = engines_for(make_config(1))["app"]
    engine = Engine(base.ruleset, Policy(), base.limits, [*base.detectors, CrashingDetector()])
    inspector, stats, _ = _inspector(engine)
    outcome = inspector.inspect(SERVICE, Request("GET", "/", (("Host", "x"),)), "r1")
    assert outcome is not None and not outcome.blocked
    assert stats.counters["engine_errors"] == {("app", "open"): 1}


def test_blocks_are_logged_counted_and_sent_as_events() -> None:
    sink = QueueSink(10)
    base = engines_for(make_config(1))["app"]
    inspector, stats, log = _inspector(base, sink)
    outcome = inspector.inspect(SERVICE, Request("GET", "/?q=%27%20OR%201%3D1--", (("Host", "x"),), client="10.1.1.1"), "r1")
    assert outcome is not None and outcome.blocked
    [(event, fields)] = log.lines
    assert event == "blocked" and fields["request_id"] == "r1" and fields["incident_id"] == outcome.incident_id
    assert "sqli" in fields["categories"]
    [ev] = sink.drain(10)
    assert (ev.request_id, ev.incident_id, ev.client, ev.action) == ("r1", outcome.incident_id, "10.1.1.1", "block")
    assert sum(n for k, n in stats.counters["blocks"].items() if k[1] == "sqli") >= 1


def test_clean_request_costs_no_log_line_or_event() -> None:
    sink = QueueSink(10)
    inspector, _, log = _inspector(engines_for(make_config(1))["app"], sink)
    assert inspector.inspect(SERVICE, Request("GET", "/hello?page=2", (("Host", "x"),)), "r1") is None
    assert log.lines == [] and sink.depth == 0


def test_proxy_survives_a_crashing_engine() -> None:
    for fail_open, status in ((True, 200), (False, 403)):
        policy = Policy(fail_open=fail_open)
        with running(policy=policy, engines={"app": CrashingEngine(policy)}) as r:
            assert get(r.port, "/").status == status
            assert get(r.port, "/again").status == status
            decision = "open" if fail_open else "closed"
            assert r.stats.counters["engine_errors"][("app", decision)] == 2
