"""One engine call per request, isolated: whatever the engine does (a verdict, an exception),
the sidecar gets a decision back and keeps serving. Shared by ``siren proxy`` and ``siren authz``.

Here too: the counters for blocks and would-blocks, the log line for each blocked or suspicious
request, and the event for the brain. This module must never raise into the request path.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from siren.engine import Action, Engine, Finding, Policy, Request, Verdict
from siren.proxy.config import Service
from siren.proxy.events import Event, EventSink
from siren.proxy.metrics import Stats

ENGINE_ERROR_RULE = "engine.error"
MAX_TARGET = 8192
"""Longest request target an event carries."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """A verdict worth acting on or reporting (a plain allow with no findings is ``None``)."""

    verdict: Verdict
    blocked: bool
    """The sidecar must answer 403 instead of forwarding."""
    incident_id: str


def new_incident_id() -> str:
    return os.urandom(8).hex()


def route_of(policy: Policy, path: str) -> str:
    best = ""
    for route in policy.routes:
        if path.startswith(route.prefix) and len(route.prefix) > len(best):
            best = route.prefix
    return best


class Inspector:
    def __init__(self, engines: dict[str, Engine], stats: Stats, sink: EventSink | None, log: Any) -> None:
        self.engines = engines
        """Engine per service name."""
        self.stats = stats
        self.sink = sink
        self.log = log

    def inspect(self, service: Service, request: Request, request_id: str) -> Outcome | None:
        engine = self.engines[service.name]
        t0 = perf_counter()
        try:
            verdict = engine.inspect(request)
        except Exception as exc:  # noqa: BLE001 - an engine crash must never take the request path down
            self.stats.inspection.observe(perf_counter() - t0)
            return self._failed(service, engine, request, request_id, exc)
        self.stats.inspection.observe(perf_counter() - t0)
        if verdict.action is Action.ALLOW and not verdict.findings:
            return None
        return self._report(service, engine, request, request_id, verdict)

    def _failed(self, service: Service, engine: Engine, request: Request, request_id: str, exc: Exception) -> Outcome | None:
        try:
            policy = engine.policy.resolve(request.path)
        except Exception:  # noqa: BLE001 - the policy itself is broken: use the service's top level
            policy = service.policy
        decision = "open" if policy.fail_open else "closed"
        self.stats.inc("engine_errors", (service.name, decision))
        message = f"engine failed: {type(exc).__name__}: {exc}"[:300]
        finding = Finding("engine", ENGINE_ERROR_RULE, "other", "-", "", (), 0, message)
        if policy.fail_open:
            action = Action.ALLOW
        else:
            action = Action.LOG if policy.mode == "shadow" else Action.BLOCK
        verdict = Verdict(action, 0, policy.threshold, (finding,), mode=policy.mode, categories=())
        self.log.error(
            "engine_error", service=service.name, request_id=request_id, decision=decision, error=message,
            method=request.method, path=request.path[:200],
        )
        if action is Action.ALLOW:
            return None
        return self._report(service, engine, request, request_id, verdict, counted_error=True)

    def _report(
        self, service: Service, engine: Engine, request: Request, request_id: str, verdict: Verdict, *, counted_error: bool = False
    ) -> Outcome:
        blocked = verdict.action is Action.BLOCK
        would_block = verdict.action is Action.LOG
        scored = [f for f in verdict.findings if f.score > 0]
        if not counted_error and any(f.rule_id == ENGINE_ERROR_RULE for f in verdict.findings):
            # A detector failed inside the engine, which applied the policy's fail-open setting.
            decision = "open" if engine.policy.resolve(request.path).fail_open else "closed"
            self.stats.inc("engine_errors", (service.name, decision))
        incident = new_incident_id() if blocked or would_block else ""
        if blocked or would_block:
            series = "blocks" if blocked else "would_blocks"
            for f in scored or [Finding("engine", ENGINE_ERROR_RULE, "other", "-", "")]:
                self.stats.inc(series, (service.name, f.category, f.rule_id))
        name = "blocked" if blocked else "would_block" if would_block else "suspicious"
        path = request.path
        route = route_of(engine.policy, path)
        self.log.warning(
            name,
            service=service.name,
            route=route,
            request_id=request_id,
            incident_id=incident or None,
            client=request.client,
            method=request.method,
            target=request.target[:300],
            score=verdict.score,
            threshold=verdict.threshold,
            mode=verdict.mode,
            categories=list(verdict.categories),
            rules=sorted({f.rule_id for f in verdict.findings}),
        )
        if self.sink is not None:
            event = Event(
                time.time(), service.name, route, request_id, incident, request.client, request.method,
                request.target[:MAX_TARGET],
                verdict.action.value, verdict.score, verdict.threshold, verdict.mode, verdict.categories, verdict.findings,
            )
            if not self.sink.offer(event):
                self.stats.events_dropped = self.sink.dropped
        return Outcome(verdict, blocked, incident)
