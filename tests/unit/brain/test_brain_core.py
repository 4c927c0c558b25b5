"""The brain's operations on SQLite and PostgreSQL: enrolment, ingest, reputation, bundles,
keys, emergency stops, rules and policies."""

from __future__ import annotations

import orjson
import pytest

from siren.brain.auth import Principal, split_token
from siren.brain.core import Brain, Conflict, Forbidden, Invalid, NotFound
from siren.brain.schema import REDACTED, BundleContent, Heartbeat
from siren.brain.testing import FakeClock, make_event
from siren.sidecar.bundle import BundleError, VerifiedBundle, load_public_keys, verify_bundle

SIDECAR = Principal("sidecar", "sc-1", "t")


def bundle(brain: Brain, version: int | None = None, keys: dict[str, str] | None = None) -> VerifiedBundle:
    meta = brain.latest_bundle()
    assert meta is not None
    text = brain.bundle_text(version or meta.version)
    assert text is not None
    trusted = keys if keys is not None else {k.kid: k.public_key for k in brain.keys() if k.status != "retired"}
    return verify_bundle(text.encode(), load_public_keys(trusted))


def content(brain: Brain) -> BundleContent:
    return bundle(brain).content


# -- credentials and fleet ----------------------------------------------------------------------


def test_tokens_authenticate_until_revoked(brain: Brain) -> None:
    assert brain.authenticate("test-admin-token") == Principal("admin", "admin", "ADMIN-ENV")
    token = brain.enrol("sc-1", "shop", "admin")
    who = brain.authenticate(token)
    assert who is not None and who.kind == "sidecar" and who.name == "sc-1"
    assert brain.authenticate(token[:-2] + "xx") is None
    assert brain.authenticate("garbage") is None
    again = brain.enrol("sc-1", "shop", "admin")
    assert brain.authenticate(token) is None, "enrolling again revokes the older token"
    assert brain.authenticate(again) is not None
    brain.revoke("sc-1", "admin")
    assert brain.authenticate(again) is None
    with pytest.raises(NotFound):
        brain.revoke("sc-1", "admin")


def test_tokens_are_stored_hashed(brain: Brain) -> None:
    token = brain.enrol("sc-1", "shop", "admin")
    parts = split_token(token)  # the secret may itself contain "_": never split it by hand
    assert parts is not None
    secret = parts[2]
    assert len(secret) >= 40
    with brain.store.engine.connect() as conn:
        dump = str([tuple(r) for r in conn.exec_driver_sql("SELECT * FROM tokens")])
    assert secret not in dump


def test_generated_admin_token_is_printed_once(store: object, clock: FakeClock) -> None:
    from siren.brain.store import Store

    assert isinstance(store, Store)
    first = Brain(store, clock=clock)
    token = first.start()
    assert token is not None and token.startswith("siren_admin_")
    assert first.authenticate(token) == Principal("admin", "admin", token.split("_")[2])
    assert Brain(store, clock=clock).start() is None


def test_heartbeats_feed_the_fleet_view(brain: Brain, clock: FakeClock) -> None:
    brain.enrol("sc-1", "shop", "admin")
    brain.enrol("sc-2", "billing", "admin")
    latest = brain.heartbeat(SIDECAR, Heartbeat(sidecar_id="sc-1", service="shop", version="0.1.0", bundle_version=1,
                                                mode="block", counters={"blocks": 3}))
    assert latest == 1
    clock.advance(10)
    fleet = brain.fleet()
    by_id = {s["sidecar_id"]: s for s in fleet["sidecars"]}
    assert by_id["sc-1"]["last_seen"] == clock.now - 10 and by_id["sc-1"]["seconds_since_seen"] == 10
    assert by_id["sc-1"]["bundle_version"] == 1 and by_id["sc-1"]["up_to_date"] and by_id["sc-1"]["counters"] == {"blocks": 3}
    assert by_id["sc-1"]["effective_mode"] == "block" and not by_id["sc-1"]["stale"]
    assert by_id["sc-2"]["last_seen"] is None and by_id["sc-2"]["stale"]


def test_a_heartbeat_is_recorded_under_its_tokens_sidecar(brain: Brain, clock: FakeClock) -> None:
    brain.enrol("sc-1", "shop", "admin")
    brain.enrol("sc-2", "billing", "admin")
    assert brain.heartbeat(SIDECAR, Heartbeat(sidecar_id="sc-2", service="shop", bundle_version=1, counters={"blocks": 7})) == 1
    by_id = {s["sidecar_id"]: s for s in brain.fleet()["sidecars"]}
    assert by_id["sc-1"]["last_seen"] == clock.now and by_id["sc-1"]["counters"] == {"blocks": 7}
    assert by_id["sc-2"]["last_seen"] is None, "a token cannot speak for another sidecar"
    assert brain.counters["heartbeat_id_mismatch"] == 1
    with pytest.raises(Forbidden):
        brain.heartbeat(Principal("admin", "admin", "x"), Heartbeat(sidecar_id="sc-1", service="shop"))


# -- events -------------------------------------------------------------------------------------


def test_ingest_is_idempotent_by_event_id(brain: Brain) -> None:
    a, b = make_event("ev-a"), make_event("ev-b")
    assert brain.ingest(SIDECAR, [a, b, a]).model_dump() == {"accepted": 2, "duplicates": 1}
    assert brain.ingest(SIDECAR, [a, b]).model_dump() == {"accepted": 0, "duplicates": 2}
    assert brain.count_events() == 2
    assert brain.get_event("ev-a")["sidecar_id"] == "sc-1"


def test_ingest_redacts_and_keeps_samples_only_by_policy(brain: Brain) -> None:
    sample = {"method": "POST", "target": "/login?password=p1", "headers": [["Authorization", "Basic Zm9v"],
              ["Content-Type", "application/json"]], "body": '{"user": "ann", "api_key": "k1"}'}
    brain.ingest(SIDECAR, [make_event("ev-1", target="/login?password=p1", sample=sample, finding_target="ARGS:password")])
    row = brain.get_event("ev-1")
    assert row["sample"] is None and row["payload_sha256"] is not None
    assert row["target"] == f"/login?password={REDACTED}"
    assert row["findings"][0]["fragment"] == REDACTED

    brain.update_settings({"store_samples": True}, "admin")
    brain.ingest(SIDECAR, [make_event("ev-2", sample=sample)])
    stored = brain.get_event("ev-2")["sample"]
    assert stored["target"] == f"/login?password={REDACTED}"
    assert dict(map(tuple, stored["headers"]))["Authorization"] == REDACTED
    assert orjson.loads(stored["body"]) == {"user": "ann", "api_key": REDACTED}
    everything = orjson.dumps(brain.list_events(limit=10))
    assert b"p1" not in everything and b"k1" not in everything and b"Zm9v" not in everything


def test_settings_are_validated(brain: Brain) -> None:
    with pytest.raises(Invalid):
        brain.update_settings({"redact_fields": ["("]}, "admin")
    with pytest.raises(Invalid):
        brain.update_settings({"reputation_threshold": 0}, "admin")
    with pytest.raises(Invalid):
        brain.update_settings({"no_such_setting": 1}, "admin")
    assert brain.update_settings({"reputation_threshold": 3}, "admin").reputation_threshold == 3


# -- reputation ---------------------------------------------------------------------------------


def _attack(brain: Brain, n: int, client: str, service: str = "shop", action: str = "block") -> None:
    brain.ingest(SIDECAR, [make_event(client=client, service=service, action=action) for _ in range(n)])


def test_a_client_attacking_any_services_is_blocked_in_the_next_bundle(brain: Brain, clock: FakeClock) -> None:
    brain.update_settings({"reputation_threshold": 4, "reputation_window": 60, "reputation_ttl": 600}, "admin")
    v0 = brain.latest_bundle()
    _attack(brain, 2, "198.51.100.9", "shop")
    _attack(brain, 1, "198.51.100.9", "billing", action="log")
    _attack(brain, 3, "198.51.100.10", action="allow")
    assert brain.latest_bundle() == v0, "below the threshold: nothing listed"
    _attack(brain, 1, "198.51.100.9", "search")
    listed = content(brain).reputation.blocklist
    assert [(b.client, b.until) for b in listed] == [("198.51.100.9", int(clock.now + 600))]
    assert "4 blocked requests" in listed[0].reason
    version = bundle(brain).version
    _attack(brain, 5, "198.51.100.9")
    assert bundle(brain).version == version, "already listed: no new bundle per event"

    clock.advance(601)
    brain.maintain()
    assert content(brain).reputation.blocklist == [], "the entry expired"
    assert bundle(brain).version == version + 1


def test_only_events_within_the_window_count(brain: Brain, clock: FakeClock) -> None:
    brain.update_settings({"reputation_threshold": 3, "reputation_window": 60}, "admin")
    _attack(brain, 2, "198.51.100.9")
    clock.advance(61)
    _attack(brain, 2, "198.51.100.9")
    assert content(brain).reputation.blocklist == []
    _attack(brain, 1, "198.51.100.9")
    assert [b.client for b in content(brain).reputation.blocklist] == ["198.51.100.9"]


def test_the_allowlist_always_wins(brain: Brain) -> None:
    brain.update_settings({"reputation_threshold": 2}, "admin")
    brain.allow_client("10.1.0.0/16", "office", "admin")
    _attack(brain, 5, "10.1.2.3")
    assert content(brain).reputation.blocklist == []
    with pytest.raises(Conflict):
        brain.block_client("10.1.9.9", 60, "manual", "admin")
    brain.block_client("192.0.2.1", 60, "manual", "admin")
    assert [b.client for b in content(brain).reputation.blocklist] == ["192.0.2.1"]
    brain.allow_client("192.0.2.1", "partner", "admin")
    assert content(brain).reputation.blocklist == [], "allowlisting hides a listed client at once"
    brain.unallow_client("192.0.2.1", "admin")
    assert [b.client for b in content(brain).reputation.blocklist] == ["192.0.2.1"]
    brain.unblock_client("192.0.2.1", "admin")
    assert content(brain).reputation.blocklist == []
    with pytest.raises(NotFound):
        brain.unblock_client("192.0.2.1", "admin")


# -- bundles and keys ---------------------------------------------------------------------------


def test_bundles_are_versioned_content_addressed_and_signed(brain: Brain) -> None:
    first = bundle(brain)
    assert first.version == 1
    assert brain.publish("admin", "nothing changed").version == 1, "same content: no new version"
    brain.set_emergency("service", "shop", "shadow", "incident 42", "admin")
    second = bundle(brain)
    assert second.version == 2 and second.sha256 != first.sha256
    brain.lift_emergency(None, "shop", "admin")
    third = bundle(brain)
    assert third.version == 3 and third.sha256 == first.sha256, "same content, same address, newer version"
    with pytest.raises(BundleError) as err:
        verify_bundle(brain.bundle_text(3).encode(), load_public_keys({k.kid: k.public_key for k in brain.keys()}), after=3)  # type: ignore[union-attr]
    assert err.value.kind == "replay"


def test_key_rotation_keeps_old_signatures_valid_until_retired(brain: Brain) -> None:
    (old,) = brain.keys()
    old_only = {old.kid: old.public_key}
    new_kid = brain.rotate_key("admin")
    rotated = bundle(brain, keys=old_only)
    assert rotated.signed_by == old.kid, "a sidecar that only knows the old key still accepts the bundle"
    assert {k.kid for k in rotated.content.keys} == {old.kid, new_kid}, "…and learns the new key from it"
    new = next(k for k in brain.keys() if k.kid == new_kid)
    with pytest.raises(Conflict):
        brain.retire_key(new_kid, "admin")
    brain.retire_key(old.kid, "admin")
    after = bundle(brain, keys={new_kid: new.public_key})
    assert after.signed_by == new_kid and [k.kid for k in after.content.keys] == [new_kid]
    meta = brain.latest_bundle()
    assert meta is not None
    with pytest.raises(BundleError) as err:
        verify_bundle(brain.bundle_text(meta.version).encode(), load_public_keys(old_only))  # type: ignore[union-attr]
    assert err.value.kind == "signature"
    with pytest.raises(NotFound):
        brain.retire_key("ed25519-nope", "admin")


def test_emergency_stop_is_in_the_next_bundle_and_the_fleet(brain: Brain) -> None:
    brain.enrol("sc-1", "shop", "admin")
    brain.heartbeat(SIDECAR, Heartbeat(sidecar_id="sc-1", service="shop", mode="block"))
    before = bundle(brain).version
    meta = brain.set_emergency("all", None, "off", "bad deploy", "admin")
    assert meta.version == before + 1
    stops = content(brain).emergency
    assert [(s.scope, s.mode, s.reason) for s in stops] == [("all", "off", "bad deploy")]
    sidecar = brain.fleet()["sidecars"][0]
    assert sidecar["effective_mode"] == "off" and sidecar["emergency"]["reason"] == "bad deploy"
    with pytest.raises(Invalid):
        brain.set_emergency("service", None, "off", "", "admin")
    brain.lift_emergency("all", None, "admin")
    assert content(brain).emergency == []
    assert brain.fleet()["sidecars"][0]["effective_mode"] == "block"
    with pytest.raises(NotFound):
        brain.lift_emergency(None, None, "admin")


# -- rules, exclusions, policies ----------------------------------------------------------------

RULE = {
    "id": "shop.coupon-probe", "category": "other", "targets": ["ARGS"], "pattern": r"coupon-probe-\d{4}",
    "match": ["coupon-probe-1234"], "no_match": ["coupon probe"],
}


def test_custom_rules_are_validated_by_the_engine_and_published(brain: Brain) -> None:
    brain.put_rule("shop", RULE, "admin", replace=False)
    rules = content(brain).rules
    assert [(r.service, r.rule["id"]) for r in rules] == [("shop", "shop.coupon-probe")]
    with pytest.raises(Conflict):
        brain.put_rule("shop", RULE, "admin", replace=False)
    brain.put_rule("*", RULE, "admin", replace=True, rule_id="shop.coupon-probe")
    assert content(brain).rules[0].service == "*"
    with pytest.raises(Invalid, match="differs"):
        brain.put_rule("*", RULE, "admin", replace=True, rule_id="other")
    brain.delete_rule("shop.coupon-probe", "admin")
    assert content(brain).rules == []
    with pytest.raises(NotFound):
        brain.delete_rule("shop.coupon-probe", "admin")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "Bad Id"}, "rule id"),
        ({"category": "nope"}, "unknown category"),
        ({"targets": ["NOWHERE"]}, "unknown target"),
        ({"pattern": "("}, "does not compile"),
        ({"pattern": "(?=x)abc", "match": ["xabc"]}, "hyperscan rejects"),
        ({"surprise": 1}, "unknown keys"),
        ({"match": ["nothing like it"]}, "does not match its sample"),
        ({"no_match": ["coupon-probe-0000"]}, "matches its no_match sample"),
        ({"id": "sqli.union-select"}, "built-in"),
        ({"id": "patch.mine"}, "reserved"),
    ],
)
def test_bad_rules_are_refused_with_the_reason(brain: Brain, change: dict[str, object], message: str) -> None:
    with pytest.raises((Invalid, Conflict), match=message):
        brain.put_rule("shop", RULE | change, "admin", replace=False)


def test_policies_and_exclusions_are_layered_into_the_bundle(brain: Brain) -> None:
    brain.put_policy("*", {"paranoia": 2}, "admin")
    brain.put_policy("shop", {"mode": "shadow", "threshold": 7}, "admin")
    brain.add_exclusion("shop", ["sqli.*"], ["ARGS:comment"], None, "free text", "admin")
    brain.add_exclusion("shop", [], ["JSON:*"], "/api/", "", "admin")
    brain.add_exclusion("*", ["xss.*"], [], None, "", "admin")
    policies = content(brain).policies
    assert policies["*"] == {"paranoia": 2, "exclusions": [{"rules": ["xss.*"], "targets": []}]}
    assert policies["shop"] == {
        "mode": "shadow", "threshold": 7,
        "exclusions": [{"rules": ["sqli.*"], "targets": ["ARGS:comment"]}],
        "routes": [{"prefix": "/api/", "exclusions": [{"rules": [], "targets": ["JSON:*"]}]}],
    }
    with pytest.raises(Invalid):
        brain.put_policy("shop", {"mode": "loud"}, "admin")
    with pytest.raises(Invalid, match="exclude everything"):
        brain.add_exclusion("shop", [], [], None, "", "admin")
    with pytest.raises(Invalid):
        brain.add_exclusion("shop", ["x"], [], "api", "", "admin")
    first = brain.list_exclusions()[0]["id"]
    brain.delete_exclusion(first, "admin")
    brain.delete_policy("shop", "admin")
    assert content(brain).policies["shop"] == {"routes": [{"prefix": "/api/", "exclusions": [{"rules": [], "targets": ["JSON:*"]}]}]}
    with pytest.raises(NotFound):
        brain.delete_policy("shop", "admin")


def test_every_change_is_audited(brain: Brain) -> None:
    brain.set_emergency("all", None, "shadow", "why not", "admin")
    brain.put_policy("shop", {"mode": "shadow"}, "admin")
    actions = [(a["actor"], a["action"]) for a in brain.audit_log()]
    assert ("admin", "emergency.set") in actions and ("admin", "policy.put") in actions
    assert ("admin", "bundle.publish") in actions
