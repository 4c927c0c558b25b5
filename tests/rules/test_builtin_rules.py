"""Every built-in rule's own samples: match samples fire, no_match samples do not."""

from __future__ import annotations

import pytest

from siren.engine.detectors.signatures import SignatureDetector
from siren.engine.ruleset import Rule, builtin_rule_dir, compile_ruleset, load_rules
from siren.rulecheck import PADS, rule_fires, sample_request

RULES = load_rules([builtin_rule_dir()])
DETECTOR = SignatureDetector(compile_ruleset(RULES))


def test_there_are_rules_for_every_attack_class() -> None:
    categories = {r.category for r in RULES}
    missing = {"sqli", "xss", "rce", "lfi", "rfi", "ssrf", "ssti", "xxe", "nosqli", "ldapi", "log4shell", "crlf", "scanner"} - categories
    assert not missing, f"no built-in rule for {sorted(missing)}"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_samples(rule: Rule) -> None:
    assert len(rule.match) >= 1, "every rule needs match samples"
    assert len(rule.no_match) >= 1, "every rule needs no_match samples"
    for sample in rule.match:
        for pad in PADS:
            assert rule_fires(DETECTOR, rule, sample_request(rule, sample, pad)), f"does not match {sample!r} after {pad} bytes"
    for sample in rule.no_match:
        assert not rule_fires(DETECTOR, rule, sample_request(rule, sample)), f"matches no_match sample {sample!r}"
