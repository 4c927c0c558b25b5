"""What the detectors share for one request: the request, its targets, and a memo of views."""

from __future__ import annotations

from dataclasses import dataclass, field

from siren.engine.request import Request
from siren.engine.targets import Target
from siren.engine.verdict import Finding
from siren.engine.views import ViewCache


@dataclass(slots=True)
class Context:
    request: Request
    targets: list[Target]
    views: ViewCache
    paranoia: int = 1
    findings: list[Finding] = field(default_factory=list)
    """Findings so far (later detectors, like the classifier, may weigh earlier evidence)."""
