"""Backoff and the circuit breaker, on a hand-driven clock."""

from __future__ import annotations

import random

from siren.brain.testing import FakeClock
from siren.sidecar.backoff import Backoff, CircuitBreaker


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(7))
    delays = [backoff.next() for _ in range(6)]
    ceilings = [1, 2, 4, 8, 8, 8]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True)), delays
    backoff.reset()
    assert backoff.next() <= 1.0


def test_breaker_opens_after_consecutive_failures_and_half_opens_after_a_while() -> None:
    clock = FakeClock(0.0)
    breaker = CircuitBreaker(threshold=3, reset_after=30, clock=clock)
    breaker.failure()
    breaker.failure()
    breaker.success()
    breaker.failure()
    breaker.failure()
    assert breaker.state == "closed" and breaker.allow()
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow() and breaker.opened == 1
    assert breaker.remaining() == 30
    clock.advance(30)
    assert breaker.state == "half_open" and breaker.allow()
    breaker.failure()
    assert breaker.state == "open" and breaker.opened == 2, "a failed trial opens it again"
    clock.advance(31)
    breaker.success()
    assert breaker.state == "closed" and breaker.failures == 0
