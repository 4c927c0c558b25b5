"""Shared immunity, part two: one service's attack becomes a validated, narrow rule for all."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from siren.brain import patches
from siren.brain.auth import Principal
from siren.brain.core import Brain, Conflict, Invalid
from siren.brain.schema import Sample
from siren.brain.store import Store
from siren.brain.testing import FakeClock, make_event
from siren.corpus import Record
from siren.engine import Engine, Policy, Request
from siren.engine.ruleset import _parse_rule
from siren.sidecar.bundle import bundle_rules, load_public_keys, verify_bundle

SIDECAR = Principal("sidecar", "sc-1", "t")
FRAGMENT = "zq-exploit-7731 payload"


def published(brain: Brain) -> dict[str, str | None]:
    meta = brain.latest_bundle()
    assert meta is not None
    text = brain.bundle_text(meta.version)
    assert text is not None
    trusted = load_public_keys({k.kid: k.public_key for k in brain.keys()})
    return {r.rule["id"]: r.scope_target for r in verify_bundle(text.encode(), trusted).content.rules}


# -- synthesis ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fragment",
    ["' or 1=1--", "<script>alert(1)</script>", "${jndi:ldap://x}", "a.b*c+d?e(f)[g]{h}|i^j$k\\l", "ünïcödé ☃ 攻撃", "\x01tab\tnl\n"],
)
def test_literal_patterns_match_exactly_their_text(fragment: str) -> None:
    pattern = patches.literal_pattern(fragment)
    rule = _parse_rule({"id": "t.lit", "category": "other", "targets": ["BODY"], "pattern": pattern, "view": "raw"}, "test")
    engine = Engine.create(builtin=False, extra_rules=[rule], policy=Policy(threshold=1), use_cache=False)
    body = f"before {fragment} after".encode()
    hit = engine.inspect(Request("POST", "/", (("Content-Type", "text/plain"),), body))
    assert any(f.rule_id == "t.lit" for f in hit.findings)
    miss = engine.inspect(Request("POST", "/", (("Content-Type", "text/plain"),), fragment[:-1].encode() + b"#"))
    assert not any(f.rule_id == "t.lit" for f in miss.findings)


@pytest.mark.parametrize(
    ("target", "collection", "scope"),
    [
        ("ARGS:q", "ARGS", "ARGS:q"),
        ("JSON:user.name", "ARGS", "JSON:user.name"),
        ("COOKIE:theme", "COOKIES", "COOKIE:theme"),
        ("HEADER:X-Forwarded-Host", "HEADERS:x-forwarded-host", None),
        ("PATH", "PATH", None),
        ("PATH_SEGMENT", "PATH_SEGMENTS", None),
        ("BODY", "BODY", None),
        ("ARGS:q|base64", "ARGS", "ARGS:q|base64"),
    ],
)
def test_rules_are_scoped_to_where_the_fragment_was(target: str, collection: str, scope: str | None) -> None:
    assert patches.collection_of(target) == (collection, scope)


def test_unknown_targets_and_short_fragments_are_refused() -> None:
    with pytest.raises(patches.PatchError, match="cannot scope"):
        patches.collection_of("CLIENT")
    with pytest.raises(patches.PatchError, match="shorter"):
        patches.synthesize("' or", "ARGS:q", category="sqli", view="decoded", service="shop", origin="report")


def test_a_candidate_must_match_its_trigger_and_no_benign_request() -> None:
    good = patches.synthesize(FRAGMENT, "ARGS:q", category="other", view="decoded", service="shop", origin="report")
    assert good.rule.id.startswith("patch.") and good.scope_target == "ARGS:q"
    trigger = patches.request_for("ARGS:q", FRAGMENT)
    assert trigger is not None
    patches.validate(good, [trigger])
    elsewhere = patches.request_for("ARGS:comment", FRAGMENT)
    assert elsewhere is not None
    with pytest.raises(patches.PatchError, match="does not match the triggering request"):
        patches.validate(good, [elsewhere])
    benign = patches.synthesize("how to create a table", "ARGS:search", category="sqli", view="decoded", service="shop",
                                origin="report")
    benign_trigger = patches.request_for("ARGS:search", "how to create a table")
    assert benign_trigger is not None
    with pytest.raises(patches.PatchError, match="matches benign request siren-benign-"):
        patches.validate(benign, [benign_trigger])


@pytest.mark.parametrize("target", ["ARGS:q", "JSON:a.b[1].c", "COOKIE:pref", "HEADER:X-Debug", "PATH", "BODY"])
def test_triggering_requests_are_rebuilt_for_each_kind_of_target(target: str) -> None:
    candidate = patches.synthesize(FRAGMENT, target, category="other", view="decoded", service="shop", origin="report")
    request = patches.request_for(target, FRAGMENT)
    assert request is not None
    patches.validate(candidate, [request])


def test_the_lifecycle_table_is_closed() -> None:
    for status, nexts in patches.TRANSITIONS.items():
        assert status in patches.STATUSES and set(nexts) <= set(patches.STATUSES)


# -- through the brain ---------------------------------------------------------------------------


def test_an_operator_report_becomes_a_rule_every_sidecar_gets(brain: Brain) -> None:
    patch = brain.report(event_id=None, service="shop", target="ARGS:q", fragment=FRAGMENT, category="other", view=None,
                         reason="seen on shop only", actor="admin")
    pid = patch["patch_id"]
    assert patch["status"] == "proposed" and patch["scope_target"] == "ARGS:q" and patch["origin"] == "report"
    assert pid not in published(brain), "proposed patches are not distributed"
    approved = brain.transition(pid, "approved", "admin", "looks right")
    assert approved["status"] == "enforced", "approval publishes it, and a bundle carrying it enforces it"
    assert approved["bundle_version"] == brain.latest_bundle().version  # type: ignore[union-attr]
    assert published(brain)[pid] == "ARGS:q"
    history = [(t["from_status"], t["to_status"], t["actor"], t["reason"]) for t in approved["transitions"]]
    assert history == [
        (None, "proposed", "admin", "seen on shop only"),
        ("proposed", "approved", "admin", "looks right"),
        ("approved", "enforced", "system", f"published in bundle {approved['bundle_version']}"),
    ]
    assert all(t["at"] == brain.clock() for t in approved["transitions"])
    with pytest.raises(Conflict, match="cannot become approved"):
        brain.transition(pid, "approved", "admin", "")
    rolled = brain.transition(pid, "rolled_back", "admin", "false positive on /search")
    assert rolled["status"] == "rolled_back" and pid not in published(brain)
    again = brain.report(event_id=None, service="billing", target="ARGS:q", fragment=FRAGMENT, category="other", view=None,
                         reason="billing too", actor="admin")
    assert again["patch_id"] == pid and again["evidence"] == 2


def test_a_patch_is_stamped_when_validation_finished(brain: Brain, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    validate = patches.validate

    def slow_validate(candidate: patches.Candidate, triggers: list[Request]) -> None:
        validate(candidate, triggers)
        clock.advance(42)

    monkeypatch.setattr(patches, "validate", slow_validate)
    brain.update_settings({"auto_approve": True}, "admin")
    start = clock.now
    patch = brain.report(event_id=None, service="shop", target="ARGS:q", fragment=FRAGMENT, category="other", view=None,
                         reason="", actor="admin")
    assert patch["created_at"] == start + 42
    stamps = {t["to_status"]: t["at"] for t in patch["transitions"]}
    assert stamps["proposed"] == stamps["approved"] == start + 42


def test_the_benign_corpus_is_read_in_the_background_at_start(store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    real = patches.read_corpus
    gate = threading.Event()
    readers: list[str] = []

    def slow_read(path: Path) -> Iterator[Record]:
        readers.append(threading.current_thread().name)
        gate.wait(30)
        return real(path)

    monkeypatch.setattr(patches, "read_corpus", slow_read)
    patches._load_benign.cache_clear()
    brain = Brain(store, admin_token="t", clock=clock)
    try:
        brain.start()
        deadline = time.monotonic() + 10
        while not readers and time.monotonic() < deadline:
            time.sleep(0.01)
        assert readers == ["siren-brain-warmup"], "start reads the corpus in the background"
        proposed: list[dict[str, Any]] = []
        early = threading.Thread(target=lambda: proposed.append(brain.report(
            event_id=None, service="shop", target="ARGS:q", fragment=FRAGMENT, category="other", view=None, reason="", actor="admin",
        )))
        early.start()
        time.sleep(0.1)
        gate.set()
        early.join(60)
        assert brain.warmup is not None
        brain.warmup.join(60)
        assert proposed and proposed[0]["status"] == "proposed", "a patch during the warm-up waits for it"
        assert readers == ["siren-brain-warmup"], "read once"
    finally:
        gate.set()
        brain.stop()
        patches._load_benign.cache_clear()


def test_reports_that_would_block_benign_traffic_are_refused_and_audited(brain: Brain) -> None:
    with pytest.raises(Invalid, match="benign"):
        brain.report(event_id=None, service="shop", target="ARGS:search", fragment="how to create a table", category="sqli",
                     view=None, reason="", actor="admin")
    assert brain.list_patches() == []
    assert brain.audit_log()[0]["action"] == "patch.refused"
    with pytest.raises(Invalid, match="needs"):
        brain.report(event_id=None, service="shop", target=None, fragment=None, category=None, view=None, reason="", actor="admin")


def test_a_report_can_name_a_stored_event(brain: Brain) -> None:
    brain.ingest(SIDECAR, [make_event("ev-9", fragment=FRAGMENT, finding_target="ARGS:id", rule_id="libinjection.sqli.s&1")])
    patch = brain.report(event_id="ev-9", service=None, target=None, fragment=None, category=None, view=None, reason="", actor="admin")
    assert patch["scope_target"] == "ARGS:id" and patch["event_id"] == "ev-9" and patch["service"] == "shop"


def test_a_service_custom_rule_match_becomes_a_fleet_patch_with_auto_approve(brain: Brain) -> None:
    brain.update_settings({"auto_approve": True}, "admin")
    rule = {"id": "shop.invoice-probe", "category": "other", "targets": ["ARGS"], "pattern": "invoice-probe",
            "match": ["invoice-probe"]}
    brain.put_rule("shop", rule, "admin", replace=False)
    event = make_event("ev-1", rule_id="shop.invoice-probe", fragment="../invoice-probe/../../etc", finding_target="ARGS:file")
    brain.ingest(SIDECAR, [event])
    (patch,) = brain.list_patches()
    assert patch["status"] == "enforced" and patch["origin"] == "custom_rule" and patch["event_id"] == "ev-1"
    full = brain.get_patch(patch["patch_id"])
    actors = [(t["to_status"], t["actor"]) for t in full["transitions"]]
    assert actors == [("proposed", "system"), ("approved", "policy:auto-approve"), ("enforced", "system")]
    assert published(brain)[patch["patch_id"]] == "ARGS:file"
    brain.ingest(SIDECAR, [event])
    assert len(brain.list_patches()) == 1, "a duplicate event is not new evidence"


def test_a_response_signal_turns_a_suspicious_request_into_a_proposal(brain: Brain) -> None:
    sample = Sample(method="GET", target="/item?id=7%20zq-exploit-7731%20payload", headers=[("Host", "shop")])
    brain.update_settings({"store_samples": True}, "admin")
    event = make_event("ev-2", action="allow", score=2, fragment=FRAGMENT, finding_target="ARGS:id",
                       signal={"kind": "db_error", "detail": "syntax error at or near"}, sample=sample.model_dump())
    brain.ingest(SIDECAR, [event])
    (patch,) = brain.list_patches()
    assert patch["status"] == "proposed" and patch["origin"] == "signal"
    assert "response signal db_error" in brain.get_patch(patch["patch_id"])["transitions"][0]["reason"]


def test_events_without_evidence_of_a_local_attack_make_no_patch(brain: Brain) -> None:
    brain.ingest(SIDECAR, [make_event("ev-3"), make_event("ev-4", signal={"kind": "db_error"}, findings=[])])
    assert brain.list_patches() == []


def test_bundle_patch_rules_parse_with_the_engine_schema(brain: Brain) -> None:
    pid = brain.report(event_id=None, service="shop", target="ARGS:q", fragment=FRAGMENT, category="other", view=None,
                       reason="", actor="admin")["patch_id"]
    brain.transition(pid, "approved", "admin", "")
    meta = brain.latest_bundle()
    assert meta is not None
    text = brain.bundle_text(meta.version)
    assert text is not None
    verified = verify_bundle(text.encode(), load_public_keys({k.kid: k.public_key for k in brain.keys()}))
    rules, scopes = bundle_rules(verified, "billing")
    assert [r.id for r in rules] == [pid] and scopes == {pid: "ARGS:q"}


def test_secrets_never_become_patches(brain: Brain) -> None:
    brain.update_settings({"auto_approve": True}, "admin")
    rule = {"id": "shop.login-probe", "category": "other", "targets": ["ARGS"], "pattern": "login-probe", "match": ["login-probe"]}
    brain.put_rule("shop", rule, "admin", replace=False)
    brain.ingest(SIDECAR, [make_event("ev-s", rule_id="shop.login-probe", fragment="login-probe hunter2-secret",
                                      finding_target="ARGS:password")])
    assert brain.list_patches() == []
