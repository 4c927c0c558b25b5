"""Events: what the sidecar reports about a request that drew attention (blocked, would-be
blocked, or scored), put on a bounded queue for the brain.

With a brain (``siren.proxy.link``) the sink is the brain client's event shipper, which batches
events to ``POST /v1/events``. Nothing on the request path may wait for it: :meth:`EventSink.offer` never
blocks; when the queue is full the event is dropped and counted. Events leave the host, so they
carry no body and no header values, only the target (secret-named query values are redacted on the
way out) and the findings' fragments (already cut short by the engine).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from siren.engine import Finding


@dataclass(frozen=True, slots=True)
class Event:
    time: float
    """Wall-clock seconds since the epoch."""
    service: str
    route: str
    request_id: str
    incident_id: str
    client: str
    method: str
    path: str
    """The request target: path and query (up to 8 KB); the brain's event calls it ``target``.
    Values of secret-named query parameters are redacted before it leaves the host
    (``siren.proxy.link``)."""
    action: str
    """What the sidecar did: ``block``, ``log`` (shadow: would have blocked) or ``allow``."""
    score: int
    threshold: int
    mode: str
    categories: tuple[str, ...]
    findings: tuple[Finding, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "service": self.service,
            "route": self.route,
            "request_id": self.request_id,
            "incident_id": self.incident_id,
            "client": self.client,
            "method": self.method,
            "path": self.path,
            "action": self.action,
            "score": self.score,
            "threshold": self.threshold,
            "mode": self.mode,
            "categories": list(self.categories),
            "findings": [f.as_dict() for f in self.findings],
        }


class EventSink(Protocol):
    """Where events go. ``offer`` must return at once: ``False`` means dropped."""

    def offer(self, event: Event) -> bool: ...

    @property
    def depth(self) -> int: ...

    @property
    def dropped(self) -> int: ...


class QueueSink:
    """A bounded FIFO; a full queue drops the new event and counts it."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._queue: deque[Event] = deque()
        self._dropped = 0

    def offer(self, event: Event) -> bool:
        if len(self._queue) >= self.maxsize:
            self._dropped += 1
            return False
        self._queue.append(event)
        return True

    def drain(self, limit: int) -> list[Event]:
        """Take up to ``limit`` events, oldest first (for the batcher)."""
        out: list[Event] = []
        while self._queue and len(out) < limit:
            out.append(self._queue.popleft())
        return out

    @property
    def depth(self) -> int:
        return len(self._queue)

    @property
    def dropped(self) -> int:
        return self._dropped
