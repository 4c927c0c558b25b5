"""The reputation detector inside a real engine: listed clients are blocked until their entry expires."""

from __future__ import annotations

from siren.brain.testing import FakeClock
from siren.engine import Engine, Exclusion, Policy
from siren.sidecar.reputation import RULE_ID, ReputationDetector, normalize_client
from siren.testing import make_request


def engine_with(detector: ReputationDetector, policy: Policy | None = None) -> Engine:
    base = Engine.create(builtin=False, policy=policy or Policy())
    return Engine(base.ruleset, base.policy, base.limits, [*base.detectors, detector])


def test_a_listed_client_is_blocked_until_its_entry_expires() -> None:
    clock = FakeClock(1000.0)
    detector = ReputationDetector({"203.0.113.7": 1060}, reasons={"203.0.113.7": "30 blocked requests"}, clock=clock)
    engine = engine_with(detector)
    verdict = engine.inspect(make_request("/", client="203.0.113.7"))
    assert verdict.blocked
    (finding,) = verdict.findings
    assert (finding.detector, finding.rule_id, finding.target) == ("reputation", RULE_ID, "CLIENT")
    assert "30 blocked requests" in finding.message
    assert not engine.inspect(make_request("/", client="203.0.113.8")).findings
    assert engine.inspect(make_request("/", client="::ffff:203.0.113.7")).blocked
    clock.advance(60)
    assert not engine.inspect(make_request("/", client="203.0.113.7")).findings


def test_shadow_mode_logs_and_exclusions_turn_it_off() -> None:
    detector = ReputationDetector({"203.0.113.7": 2**40})
    assert engine_with(detector, Policy(mode="shadow")).inspect(make_request("/", client="203.0.113.7")).action.value == "log"
    excluded = Policy(exclusions=(Exclusion(rules=("reputation.*",)),))
    assert not engine_with(detector, excluded).inspect(make_request("/", client="203.0.113.7")).findings


def test_clients_are_normalized() -> None:
    assert normalize_client(" ::ffff:10.0.0.1 ") == "10.0.0.1"
    assert normalize_client("2001:db8::1") == "2001:db8::1"
    assert not ReputationDetector().blocklist
