"""Signature detector: rules compiled into hyperscan, one scan per view for all targets at once.

The values of every target in a view are joined with NUL separators (the transforms remove NUL
from values) and scanned in one call; each match is mapped back to its target by offset, and a
match that would span two targets is discarded. Every match is reported (no single-match flag),
because the first match of a rule may sit in a target the rule does not select; matches are
deduplicated per (rule, target).
"""

from __future__ import annotations

from bisect import bisect_right

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
            pos = 0
            for e in encoded:
                starts.append(pos)
                pos += len(e) + 1
            hits: list[tuple[int, int, int]] = []

            def on_match(rule_index: int, start: int, end: int, _flags: int, _ctx: object) -> bool:
                hits.append((rule_index, start, end))
                return len(hits) >= _MAX_HITS

            try:
                compiled.database.scan(_SEP.join(encoded), match_event_handler=on_match)
            except hyperscan.ScanTerminated:
                pass
            rules = compiled.rules
            for rule_index, start, end in hits:
                rule = rules[rule_index]
                has_som = compiled.som[rule_index]
                ti = bisect_right(starts, start if has_som else max(end - 1, 0)) - 1
                t_start = starts[ti]
                if end > t_start + len(encoded[ti]) or (has_som and start < t_start):
                    continue
                target = targets[ti]
                key = (rule.id, target.name)
                if key in seen or not rule.applies_to(target.collection, target.name):
                    continue
                seen.add(key)
                lo = (start if has_som else max(end - _FRAGMENT_MAX, t_start)) - t_start
                frag = encoded[ti][lo : end - t_start].decode("utf-8", "replace")[:_FRAGMENT_MAX]
                findings.append(
                    Finding("signature", rule.id, rule.category, target.name, frag, self._chains[view], rule.score, rule.message)
                )
        return findings
