"""Retry pacing for talking to the brain: exponential backoff with jitter, and a circuit breaker
that stops trying for a while after repeated failures (so a brain outage costs the sidecar
nothing but a counter)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable


class Backoff:
    """``base * factor**n`` seconds, capped, with "full jitter" (a random fraction of it)."""

    def __init__(self, base: float = 0.2, cap: float = 30.0, factor: float = 2.0, rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self.factor = factor
        self.attempt = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        ceiling = min(self.cap, self.base * self.factor**self.attempt)
        self.attempt += 1
        return ceiling * (0.5 + self._rng.random() / 2)

    def reset(self) -> None:
        self.attempt = 0


class CircuitBreaker:
    """``closed`` (calls go through) → ``open`` after ``threshold`` consecutive failures (calls
    are refused for ``reset_after`` seconds) → ``half_open`` (one trial call: success closes,
    failure opens again)."""

    def __init__(self, threshold: int = 5, reset_after: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self.reset_after = reset_after
        self.failures = 0
        self.opened = 0
        """How many times the breaker opened."""
        self._clock = clock
        self._opened_at: float | None = None

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.reset_after:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        return self.state != "open"

    def remaining(self) -> float:
        """Seconds until an open breaker lets a trial call through."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.reset_after - (self._clock() - self._opened_at))

    def success(self) -> None:
        self.failures = 0
        self._opened_at = None

    def failure(self) -> None:
        self.failures += 1
        if self.state == "half_open" or self.failures >= self.threshold:
            if self._opened_at is None or self.state == "half_open":
                self.opened += 1
            self._opened_at = self._clock()


async def cancel_task(task: asyncio.Task[None] | None) -> None:
    """Cancel a background task and wait until it has stopped (no-op for ``None``)."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
