"""Signature detector: rules compiled into hyperscan, one scan per view for all targets at once.

The values of every target in a view are framed and joined by NUL bytes (``\\0v1\\0v2\\0``; the
transforms remove NUL from values) and scanned in one call; each match is mapped back to its
target by offset. A match may include the NUL just before and just after its target, so a rule
anchors to the start or end of a value with ``\\x00`` (``^`` and ``$`` would only see the whole
buffer); a match that spans two targets is discarded. A rule hyperscan cannot give a start
offset for is confirmed by scanning its target alone. Every match is reported (no single-match
flag), because the first match of a rule may sit in a target the rule does not select; matches
are deduplicated per (rule, target).

Start-of-match tracking makes a database several times larger and slower to scan, so each view is
first scanned with its rules compiled without it (``CompiledView.prefilter``: the same matches,
end offsets only); only when that scan finds a match a finding could come from is the view
scanned again with start offsets. Most requests have no such match in most views.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

import hyperscan

from siren.engine.context import Context
from siren.engine.ruleset import Rule, Ruleset
from siren.engine.targets import Target
from siren.engine.verdict import Finding
from siren.engine.views import chain

_FRAGMENT_MAX = 120
# Matches kept per view scan: enough for every rule in every target of an ordinary request,
# bounded so a value crafted to match millions of times costs a fixed amount.
_MAX_HITS = 4096


def _collect(rule_index: int, start: int, end: int, _flags: int, hits: list[tuple[int, int, int]]) -> bool:
    hits.append((rule_index, start, end))
    return len(hits) >= _MAX_HITS


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
        views = ctx.views
        for view, compiled in self.ruleset.views.items():
            buffer, starts, ends = views.framed(view)
            rules = compiled.rules
            prefilter = compiled.prefilter
            if prefilter is not None:
                hits: list[tuple[int, int, int]] = []
                try:
                    prefilter.scan(buffer, match_event_handler=_collect, context=hits)
                except hyperscan.ScanTerminated:
                    pass  # a possible finding: scan again below
                else:
                    if not hits or not _may_find(hits, rules, targets, starts, ends):
                        continue
            hits = []
            try:
                compiled.database.scan(buffer, match_event_handler=_collect, context=hits)
            except hyperscan.ScanTerminated:
                pass
            som = compiled.som
            alone: dict[int, set[int]] = {}
            for rule_index, start, end in hits:
                rule = rules[rule_index]
                has_som = som[rule_index]
                # The target whose framed span [t_start - 1, t_end + 1] holds the match: located by
                # the byte after an opening separator, or (no start offset) by the last byte
                # before a closing separator.
                if has_som:
                    anchor = start + 1 if buffer[start] == 0 else start
                else:
                    anchor = end - 2 if end >= 2 and buffer[end - 1] == 0 else end - 1
                ti = max(bisect_right(starts, anchor) - 1, 0)
                t_start = starts[ti]
                t_end = ends[ti]
                if end > t_end + 1 or (has_som and start < t_start - 1):
                    continue
                target = targets[ti]
                key = (rule.id, target.name)
                if key in seen or not rule.applies_to(target.collection, target.name):
                    continue
                if not has_som:
                    matched = alone.get(ti)
                    if matched is None:
                        # the framed value (NUL, value, NUL) scanned on its own
                        matched = alone[ti] = _rules_matching_alone(prefilter or compiled.database, buffer[t_start - 1 : t_end + 1])
                    if rule_index not in matched:
                        continue
                seen.add(key)
                lo = max(start if has_som else end - _FRAGMENT_MAX, t_start)
                hi = max(min(end, t_end), lo)
                frag = buffer[lo:hi].decode("utf-8", "replace")[:_FRAGMENT_MAX]
                findings.append(
                    Finding("signature", rule.id, rule.category, target.name, frag, self._chains[view], rule.score, rule.message)
                )
        return findings


def _may_find(hits: list[tuple[int, int, int]], rules: list[Rule], targets: list[Target], starts: list[int], ends: list[int]) -> bool:
    """Whether a view's full scan could yield a finding, given the matches of its prefilter (the
    same rules without start offsets: the same (rule, end) matches): some match ends within the
    framed span of a target (``t_start <= end <= t_end + 1``) its rule applies to. (A prefilter
    scan cut at the match cap counts as a possible finding without calling this.)"""
    for rule_index, _start, end in hits:
        rule = rules[rule_index]
        j = bisect_right(starts, end) - 1
        while j >= 0 and ends[j] + 1 >= end:
            target = targets[j]
            if rule.applies_to(target.collection, target.name):
                return True
            j -= 1
    return False


def _note_rule(rule_index: int, _start: int, _end: int, _flags: int, found: set[int]) -> bool:
    found.add(rule_index)
    return False


def _rules_matching_alone(database: Any, framed: bytes) -> set[int]:
    """Indexes of the rules that match one framed value (``\\0value\\0``) scanned on its own
    (the same with or without start offsets)."""
    found: set[int] = set()
    try:
        database.scan(framed, match_event_handler=_note_rule, context=found)
    except hyperscan.ScanTerminated:
        pass
    return found
