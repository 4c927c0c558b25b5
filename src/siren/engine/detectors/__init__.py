"""Detectors: each looks at a request's targets and yields findings.

A detector is an object with ``name`` and ``detect(ctx) -> list[Finding]``. The engine runs each
one isolated: an exception becomes an ``engine.error`` finding and the policy's fail-open or
fail-closed decision, never a crash.
"""

from __future__ import annotations

from typing import Protocol

from siren.engine.context import Context
from siren.engine.verdict import Finding


class Detector(Protocol):
    name: str

    def detect(self, ctx: Context) -> list[Finding]: ...
