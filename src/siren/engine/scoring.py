"""Anomaly scoring: each distinct piece of evidence adds its score once."""

from __future__ import annotations

from siren.engine.verdict import Finding


def anomaly_score(findings: list[Finding]) -> int:
    """Sum of the highest score of each (detector, rule), so one rule matching in five
    parameters counts once, and two independent detectors agreeing count twice."""
    best: dict[tuple[str, str], int] = {}
    for f in findings:
        key = (f.detector, f.rule_id)
        if f.score > best.get(key, -1):
            best[key] = f.score
    return sum(best.values())
