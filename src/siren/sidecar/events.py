"""Ship events to the brain: a bounded queue the proxy puts events on without ever waiting, and a
background task that batches them and posts ``POST /v1/events`` with retries, exponential
backoff and a circuit breaker.

The request path only calls :meth:`EventShipper.offer` (alias ``put``): an append, or a count
when the queue is full. Everything slow (conversion to the wire format, JSON, HTTP) happens in
:meth:`EventShipper.run`. A batch the brain rejects as invalid (4xx) is dropped and counted (it
would fail forever); a batch that failed for a transient reason (network, 5xx, 429) goes back to
the front of the queue, as far as room allows. Event ids make retries safe: the brain stores
each id once.

Call ``offer`` from the event loop thread the shipper runs on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import httpx
import orjson
from pydantic import ValidationError

from siren.brain.schema import DEFAULT_REDACTION, MAX_BODY, Event, Redaction, Sample, Signal
from siren.engine import Request, Verdict
from siren.sidecar.backoff import Backoff, CircuitBreaker, cancel_task
from siren.sidecar.client import BrainClient

log = logging.getLogger("siren.sidecar.events")


class SupportsAsDict(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


Queued = Event | SupportsAsDict | dict[str, Any]


def new_event_id() -> str:
    return os.urandom(12).hex()


def to_event(item: Queued) -> Event:
    """The wire event for what the proxy queued: an :class:`Event`, or the proxy's own event
    (``as_dict()`` with ``path``, no ``event_id``): ids are assigned here, once, so retries of
    the batch reuse them.

    The default redaction is applied here, whatever was queued, before the event leaves the
    host: fragments found in secret-named fields (``ARGS:password``, ``HEADER:Authorization``…)
    and secret query values in the target become ``[redacted]``. A proxy event carries no sample;
    an :class:`Event`'s sample (``make_event(include_sample=True)``) is kept, redacted."""
    if isinstance(item, Event):
        return DEFAULT_REDACTION.event(item, keep_sample=True)
    data = dict(item) if isinstance(item, dict) else item.as_dict()
    if "target" not in data and "path" in data:
        data["target"] = data.pop("path")
    data.setdefault("event_id", data.get("incident_id") or new_event_id())
    known = Event.model_fields
    return DEFAULT_REDACTION.event(Event.model_validate({k: v for k, v in data.items() if k in known}), keep_sample=False)


def payload_hash(request: Request) -> str:
    h = hashlib.sha256()
    h.update(f"{request.method} {request.target}\n".encode("utf-8", "surrogatepass"))
    for name, value in request.headers:
        h.update(f"{name}: {value}\n".encode("utf-8", "surrogatepass"))
    h.update(b"\n")
    h.update(request.body)
    return h.hexdigest()


def make_event(
    request: Request,
    verdict: Verdict,
    *,
    service: str,
    route: str = "",
    request_id: str = "",
    incident_id: str = "",
    include_sample: bool = False,
    signal: Signal | None = None,
    redaction: Redaction = DEFAULT_REDACTION,
    now: float | None = None,
) -> Event:
    """An event for a verdict, secrets redacted, with the payload hash of the request as
    received. The sample (the request itself, redacted) only with ``include_sample``."""
    sample = None
    if include_sample:
        body = request.body[:MAX_BODY].decode("utf-8", "replace")
        sample = redaction.sample(
            Sample(
                method=request.method[:32],
                target=request.target[:8192],
                headers=[(k[:256], v[:1024]) for k, v in request.headers[:128]],
                body=body[:MAX_BODY],
                body_truncated=len(request.body) > MAX_BODY,
            )
        )
    event = Event.model_validate(
        {
            "event_id": incident_id or new_event_id(),
            "time": time.time() if now is None else now,
            "service": service,
            "route": route[:1024],
            "client": request.client[:128],
            "method": request.method[:32],
            "target": request.target[:8192],
            "action": verdict.action.value,
            "score": verdict.score,
            "threshold": verdict.threshold,
            "mode": verdict.mode,
            "categories": list(verdict.categories)[:32],
            "findings": [f.as_dict() | {"fragment": f.fragment[:512], "message": f.message[:1024]} for f in verdict.findings[:64]],
            "request_id": request_id[:128],
            "incident_id": incident_id[:128],
            "payload_sha256": payload_hash(request),
            "signal": signal.model_dump() if signal else None,
        }
    )
    return redaction.event(event.model_copy(update={"sample": sample}), keep_sample=include_sample)


_DB_ERRORS = re.compile(
    rb"you have an error in your sql syntax|unclosed quotation mark after the character string|quoted string not properly terminated"
    rb"|pg::syntaxerror|psqlexception|sqlite3?\.operationalerror|sqlstate\[|ora-0\d{4}|syntax error at or near"
    rb"|microsoft ole db provider for (?:odbc drivers|sql server)|warning: mysqli?_|unterminated quoted string",
    re.IGNORECASE,
)
_TRACES = re.compile(rb"traceback \(most recent call last\)|\bat [\w.$]+\([\w]+\.java:\d+\)|stack trace:", re.IGNORECASE)


def detect_response_signal(status: int, body: bytes) -> Signal | None:
    """A database error or stack trace in a response (look at the first few KB only): evidence
    that the request before it reached the code it attacked."""
    head = body[:8192]
    m = _DB_ERRORS.search(head)
    if m is not None:
        return Signal(kind="db_error", detail=m.group(0).decode("latin-1")[:200])
    m = _TRACES.search(head)
    if m is not None:
        return Signal(kind="stack_trace", detail=m.group(0).decode("latin-1")[:200])
    return None


class EventShipper:
    def __init__(
        self,
        client: BrainClient,
        *,
        maxsize: int = 2048,
        batch_size: int = 200,
        flush_interval: float = 1.0,
        max_retries: int = 3,
        backoff: Backoff | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.maxsize = maxsize
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_retries = max_retries
        self.backoff = backoff or Backoff(base=0.2, cap=10.0)
        self.breaker = breaker or CircuitBreaker(threshold=5, reset_after=30.0)
        self._sleep = sleep
        self._queue: deque[Queued | Event] = deque()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.counters: dict[str, int] = {
            "events_queued": 0, "events_dropped": 0, "events_sent": 0, "events_rejected": 0, "events_invalid": 0,
            "batches_sent": 0, "batches_failed": 0, "retries": 0,
        }

    # -- the request path ----------------------------------------------------------------------

    def offer(self, event: Queued) -> bool:
        """Queue an event; never blocks. ``False``: the queue is full, the event dropped (counted)."""
        if len(self._queue) >= self.maxsize:
            self.counters["events_dropped"] += 1
            return False
        self._queue.append(event)
        self.counters["events_queued"] += 1
        if self._wake is not None and len(self._queue) >= self.batch_size:
            self._wake.set()
        return True

    put = offer

    @property
    def depth(self) -> int:
        return len(self._queue)

    @property
    def dropped(self) -> int:
        return self.counters["events_dropped"]

    def stats(self) -> dict[str, int]:
        return {**self.counters, "queue_depth": len(self._queue), "breaker_open": int(not self.breaker.allow()),
                "breaker_opened": self.breaker.opened}

    # -- the background side -------------------------------------------------------------------

    def _take(self) -> list[Event]:
        batch: list[Event] = []
        while self._queue and len(batch) < self.batch_size:
            item = self._queue.popleft()
            try:
                batch.append(to_event(item))
            except (ValidationError, TypeError, ValueError) as exc:
                self.counters["events_invalid"] += 1
                log.warning("event not sent, it does not fit the wire format: %s", exc)
        return batch

    def _requeue(self, batch: list[Event]) -> None:
        room = self.maxsize - len(self._queue)
        keep = batch[:max(room, 0)]
        self.counters["events_dropped"] += len(batch) - len(keep)
        self._queue.extendleft(reversed(keep))

    async def _post(self, batch: list[Event]) -> str:
        """``sent``, ``rejected`` (the brain will never take it) or ``failed`` (try later)."""
        body = orjson.dumps({"events": [e.model_dump(mode="json") for e in batch]})
        try:
            response = await self.client.http.post("/v1/events", content=body, headers={"Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            log.warning("posting %d events failed: %s: %s", len(batch), type(exc).__name__, exc)
            return "failed"
        if response.status_code == 200:
            return "sent"
        if response.status_code in (408, 429) or response.status_code >= 500:
            log.warning("posting %d events: brain answered %d", len(batch), response.status_code)
            return "failed"
        log.error("brain refused %d events (%d): %s", len(batch), response.status_code, response.text[:300])
        return "rejected"

    async def send_batch(self, batch: list[Event]) -> bool:
        """Post one batch with retries; ``True`` if the brain has it (or refused it for good)."""
        for attempt in range(self.max_retries + 1):
            if not self.breaker.allow():
                break
            outcome = await self._post(batch)
            if outcome == "sent":
                self.breaker.success()
                self.backoff.reset()
                self.counters["events_sent"] += len(batch)
                self.counters["batches_sent"] += 1
                return True
            if outcome == "rejected":
                self.breaker.success()  # the brain is up; the batch is the problem
                self.counters["events_rejected"] += len(batch)
                return True
            self.breaker.failure()
            if attempt < self.max_retries and self.breaker.allow():
                self.counters["retries"] += 1
                await self._sleep(self.backoff.next())
        self.counters["batches_failed"] += 1
        self._requeue(batch)
        return False

    async def flush(self) -> bool:
        """Send everything queued now (stops at the first batch that fails)."""
        while self._queue:
            batch = self._take()
            if batch and not await self.send_batch(batch):
                return False
        return True

    async def run(self) -> None:
        self._wake = asyncio.Event()
        while True:
            if len(self._queue) < self.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.flush_interval)
            self._wake.clear()
            if not self._queue:
                continue
            if not self.breaker.allow():
                await self._sleep(self.breaker.remaining() or self.flush_interval)
                continue
            batch = self._take()
            if batch and not await self.send_batch(batch):
                await self._sleep(self.backoff.next())

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name="siren-event-shipper")
        return self._task

    async def stop(self, *, drain: bool = True) -> None:
        """Stop the task; with ``drain``, try once to send what is queued."""
        await cancel_task(self._task)
        self._task = None
        if drain and self._queue and self.breaker.allow():
            saved, self.max_retries = self.max_retries, 0
            try:
                await self.flush()
            finally:
                self.max_retries = saved
