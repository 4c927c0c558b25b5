"""The reputation detector: block clients the brain listed (shared immunity across services).

A plain detector object (``name``, ``detect(ctx)``) the sidecar adds to each engine; the engine
knows nothing about the brain. Entries carry their own expiry, so a sidecar stops blocking a
client on time even while the brain is away. The finding's score is far above any threshold: a
listed client is blocked (or logged, in shadow mode) whatever else the request holds; an
exclusion of rule ``reputation.blocklist`` turns it off for a route.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from siren.engine.context import Context
from siren.engine.verdict import Finding

RULE_ID = "reputation.blocklist"
SCORE = 10_000


def normalize_client(client: str) -> str:
    """``::ffff:10.0.0.1`` (an IPv4 client on a dual-stack socket) reads as ``10.0.0.1``."""
    client = client.strip()
    if client.startswith("::ffff:") and "." in client:
        return client[7:]
    return client


class ReputationDetector:
    name = "reputation"

    def __init__(
        self,
        blocklist: Mapping[str, int] | None = None,
        *,
        reasons: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.blocklist = {normalize_client(k): v for k, v in (blocklist or {}).items()}
        """Client → epoch second until which it is blocked."""
        self.reasons = dict(reasons or {})
        self._clock = clock

    def detect(self, ctx: Context) -> list[Finding]:
        if not self.blocklist or not ctx.request.client:
            return []
        client = normalize_client(ctx.request.client)
        until = self.blocklist.get(client)
        if until is None or until <= self._clock():
            return []
        reason = self.reasons.get(client, "")
        message = f"client listed by the brain until {until}" + (f": {reason}" if reason else "")
        return [Finding("reputation", RULE_ID, "reputation", "CLIENT", client, (), SCORE, message)]
