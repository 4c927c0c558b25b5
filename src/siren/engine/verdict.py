"""Findings and verdicts: the engine's answer, with every piece of evidence that led to it.

A block is a value, never an exception: the caller decides what to do with a :class:`Verdict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    ALLOW = "allow"
    BLOCK = "block"
    LOG = "log"


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of evidence."""

    detector: str
    """Which detector produced it: ``signature``, ``libinjection``, ``protocol``, ``classifier``, ``limits``, ``parser``."""
    rule_id: str
    category: str
    target: str
    """Where it was found, e.g. ``ARGS:q`` or ``HEADER:User-Agent``."""
    fragment: str
    """The decoded text that matched (cut to a readable length)."""
    transforms: tuple[str, ...] = ()
    score: int = 0
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "rule_id": self.rule_id,
            "category": self.category,
            "target": self.target,
            "fragment": self.fragment,
            "transforms": list(self.transforms),
            "score": self.score,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """``action`` with the anomaly ``score``, the ``threshold`` it was compared to, and why."""

    action: Action
    score: int
    threshold: int
    findings: tuple[Finding, ...] = ()
    mode: str = "block"
    status_hint: int | None = None
    """For malformed input: the HTTP status a server should answer with."""
    categories: tuple[str, ...] = field(default=())

    @property
    def blocked(self) -> bool:
        return self.action is Action.BLOCK

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "score": self.score,
            "threshold": self.threshold,
            "mode": self.mode,
            "status_hint": self.status_hint,
            "categories": list(self.categories),
            "findings": [f.as_dict() for f in self.findings],
        }

    def explain(self) -> str:
        """A few lines a person can read: the decision, then each finding."""
        head = (
            f"{self.action.value.upper()}: score {self.score} "
            f"{'>=' if self.score >= self.threshold else '<'} threshold {self.threshold}"
        )
        if self.mode != "block":
            head += f" (mode {self.mode})"
        lines = [head]
        if not self.findings:
            lines.append("  no detector found attack evidence in any inspected target")
        for f in self.findings:
            chain = ",".join(f.transforms) or "-"
            lines.append(
                f"  +{f.score:<2} {f.detector}:{f.rule_id} [{f.category}] in {f.target}"
                f" via {chain}: {f.message}"
            )
            if f.fragment:
                lines.append(f"       matched: {f.fragment!r}")
        return "\n".join(lines)
