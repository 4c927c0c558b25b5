"""Signature matching over NUL-framed targets: value anchors, no cross-target matches."""

from __future__ import annotations

from siren.engine.context import Context
from siren.engine.detectors.signatures import SignatureDetector
from siren.engine.limits import Limits
from siren.engine.ruleset import Rule, compile_ruleset
from siren.engine.targets import extract_targets
from siren.engine.views import ViewCache
from siren.testing import make_request


def rule(rid: str, pattern: str, targets: tuple[str, ...] = ("ARGS",)) -> Rule:
    return Rule(rid, "sqli", "critical", 1, "decoded", frozenset(targets), pattern, rid)


def fired(rules: list[Rule], target: str) -> set[tuple[str, str]]:
    detector = SignatureDetector(compile_ruleset(rules, use_cache=False))
    req = make_request(target)
    ex = extract_targets(req, Limits())
    ctx = Context(req, ex.targets, ViewCache([t.value for t in ex.targets]))
    return {(f.rule_id, f.target) for f in detector.detect(ctx)}


def test_whole_value_anchor() -> None:
    rules = [rule("t.whole", r"\x00order by \d+\x00")]
    assert fired(rules, "/?a=x&q=order+by+3") == {("t.whole", "ARGS:q")}
    assert fired(rules, "/?q=order+by+3&b=y") == {("t.whole", "ARGS:q")}  # not the last target
    assert fired(rules, "/?q=sort+order+by+3+then") == set()


def test_no_match_across_targets_with_or_without_start_offset() -> None:
    # 'ab' ends one value and 'cd' starts the next: neither rule may join them.
    som = rule("t.som", r"ab[^z]{0,3}cd")
    no_som = rule("t.nosom", r"(ab|x.*y)[^z]*cd")  # unbounded repeats: hyperscan gives no start offset
    assert fired([som, no_som], "/?p=ab&q=cd") == set()
    assert fired([som, no_som], "/?p=ab-cd") == {("t.som", "ARGS:p"), ("t.nosom", "ARGS:p")}


def test_rule_targets_are_respected() -> None:
    rules = [rule("t.ua", r"sqlmap", ("HEADERS:user-agent",))]
    assert fired(rules, "/?q=sqlmap") == set()
