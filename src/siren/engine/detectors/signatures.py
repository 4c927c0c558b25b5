"""Signature detector: rules compiled into hyperscan, one scan per view for all targets at once.

The values of every target in a view are framed and joined by NUL bytes (``\\0v1\\0v2\\0``; the
transforms remove NUL from values) and scanned in one call; each match is mapped back to its
target by offset. A match may include the NUL just before and just after its target, so a rule
anchors to the start or end of a value with ``\\x00`` (``^`` and ``$`` would only see the whole
buffer); a match that spans two targets is discarded. A rule hyperscan cannot give a start
offset for is confirmed by scanning its target alone. Every match is reported (no single-match
flag), because the first match of a rule may sit in a target the rule does not select; matches
are deduplicated per (rule, target).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

import hyperscan

from siren.engine.context import Context
from siren.engine.ruleset import Ruleset
from siren.engine.verdict import Finding
from siren.engine.views import chain

_SEP = b"\x00"
_FRAGMENT_MAX = 120
# Matches kept per view scan: enough for every rule in every target of an ordinary request,
# bounded so a value crafted to match millions of times costs a fixed amount.
_MAX_HITS = 4096


class SignatureDetector:
    name = "signature"

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self._chains = {view: chain(view) for view in ruleset.views}

    def detect(self, ctx: Context) -> list[Finding]:
        findings: list[Finding] = []
        targets = ctx.targets
        if not targets:
            return findings
        seen: set[tuple[str, str]] = set()
        for view, compiled in self.ruleset.views.items():
            encoded = [t.encode("utf-8", "surrogatepass") for t in ctx.views.get(view)]
            starts: list[int] = []
            pos = 1
            for e in encoded:
                starts.append(pos)
                pos += len(e) + 1
            hits: list[tuple[int, int, int]] = []

            def on_match(rule_index: int, start: int, end: int, _flags: int, _ctx: object) -> bool:
                hits.append((rule_index, start, end))
                return len(hits) >= _MAX_HITS

            buffer = _SEP + _SEP.join(encoded) + _SEP
            try:
                compiled.database.scan(buffer, match_event_handler=on_match)
            except hyperscan.ScanTerminated:
                pass
            rules = compiled.rules
            alone: dict[int, set[int]] = {}
            for rule_index, start, end in hits:
                rule = rules[rule_index]
                has_som = compiled.som[rule_index]
                # The target whose framed span [t_start - 1, t_end + 1] holds the match: located by
                # the byte after an opening separator, or (no start offset) by the last byte
                # before a closing separator.
                if has_som:
                    anchor = start + 1 if buffer[start] == 0 else start
                else:
                    anchor = end - 2 if end >= 2 and buffer[end - 1] == 0 else end - 1
                ti = max(bisect_right(starts, anchor) - 1, 0)
                t_start = starts[ti]
                t_end = t_start + len(encoded[ti])
                if end > t_end + 1 or (has_som and start < t_start - 1):
                    continue
                target = targets[ti]
                key = (rule.id, target.name)
                if key in seen or not rule.applies_to(target.collection, target.name):
                    continue
                if not has_som:
                    matched = alone.get(ti)
                    if matched is None:
                        matched = alone[ti] = _rules_matching_alone(compiled.database, encoded[ti])
                    if rule_index not in matched:
                        continue
                seen.add(key)
                lo = max(start if has_som else end - _FRAGMENT_MAX, t_start) - t_start
                hi = max(min(end, t_end) - t_start, lo)
                frag = encoded[ti][lo:hi].decode("utf-8", "replace")[:_FRAGMENT_MAX]
                findings.append(
                    Finding("signature", rule.id, rule.category, target.name, frag, self._chains[view], rule.score, rule.message)
                )
        return findings


def _rules_matching_alone(database: Any, value: bytes) -> set[int]:
    """Indexes of the rules that match one framed value scanned on its own."""
    found: set[int] = set()

    def on_match(rule_index: int, _start: int, _end: int, _flags: int, _ctx: object) -> bool:
        found.add(rule_index)
        return False

    try:
        database.scan(_SEP + value + _SEP, match_event_handler=on_match)
    except hyperscan.ScanTerminated:
        pass
    return found
