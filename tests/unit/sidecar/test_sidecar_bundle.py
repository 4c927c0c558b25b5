"""Verifying and compiling bundles: anything not provably from the brain, unchanged and newer is
refused; a bundle that does not compile is refused too."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from siren.brain.schema import BundleContent
from siren.brain.testing import FakeClock, public_key_b64, signed_bundle
from siren.engine import Engine, Policy, Route
from siren.sidecar.bundle import BundleError, compile_bundle, effective_policy, load_public_keys, verify_bundle
from siren.testing import make_request

Key = tuple[Ed25519PrivateKey, str, str]
PATCH = {"id": "patch.abc123abc123", "category": "sqli", "targets": ["ARGS"], "pattern": r"zq\x2dexploit\x2d7731",
         "match": ["zq-exploit-7731"]}


def content(**kw: Any) -> dict[str, Any]:
    return BundleContent.model_validate(kw).model_dump(mode="json")


def test_a_signed_bundle_verifies(test_key: Key) -> None:
    key, kid, pub = test_key
    data = signed_bundle(content(), 3, key, kid)
    bundle = verify_bundle(data, load_public_keys({kid: pub}), after=2)
    assert (bundle.version, bundle.signed_by, bundle.raw) == (3, kid, data)


def _tamper(data: bytes, change: Any) -> bytes:
    envelope = orjson.loads(data)
    change(envelope)
    return orjson.dumps(envelope)


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        (lambda e: e["content"].update(emergency=[{"scope": "all", "mode": "off"}]), "hash"),
        (lambda e: e.update(version=9), "signature"),
        (lambda e: e.update(signatures=[]), "signature"),
        (lambda e: e["signatures"][0].update(sig=base64.b64encode(b"x" * 64).decode()), "signature"),
        (lambda e: e["signatures"][0].update(sig="%%%"), "signature"),
        (lambda e: e["signatures"][0].update(kid="someone-else"), "signature"),
        (lambda e: e.pop("sha256"), "malformed"),
        (lambda e: e.update(surprise=1), "malformed"),
    ],
)
def test_tampered_or_unsigned_bundles_are_refused(test_key: Key, change: Any, kind: str) -> None:
    key, kid, pub = test_key
    data = _tamper(signed_bundle(content(), 3, key, kid), change)
    with pytest.raises(BundleError) as err:
        verify_bundle(data, load_public_keys({kid: pub}))
    assert err.value.kind == kind


def test_garbage_replays_and_strangers_are_refused(test_key: Key) -> None:
    key, kid, pub = test_key
    trusted = load_public_keys({kid: pub})
    for garbage in (b"", b"{", b"[]", b"\xff"):
        with pytest.raises(BundleError, match="not a bundle"):
            verify_bundle(garbage, trusted)
    with pytest.raises(BundleError) as err:
        verify_bundle(signed_bundle(content(), 3, key, kid), trusted, after=3)
    assert err.value.kind == "replay"
    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(BundleError) as err:
        verify_bundle(signed_bundle(content(), 4, stranger, kid), trusted)
    assert err.value.kind == "signature"
    bad_content = signed_bundle({"rules": "nope"}, 4, key, kid)
    with pytest.raises(BundleError) as err:
        verify_bundle(bad_content, trusted)
    assert err.value.kind == "malformed"


def test_bad_trusted_keys_are_a_config_error() -> None:
    from siren.errors import ConfigError

    with pytest.raises(ConfigError, match="k1"):
        load_public_keys({"k1": "not base64!"})
    with pytest.raises(ConfigError):
        load_public_keys({"k1": base64.b64encode(b"short").decode()})
    assert load_public_keys({"k": public_key_b64(Ed25519PrivateKey.generate())})


# -- policies -----------------------------------------------------------------------------------


def test_policies_layer_local_then_fleet_then_service_then_emergency() -> None:
    local = Policy(mode="block", paranoia=1, threshold=5, routes=(Route("/admin", mode="block", threshold=3),))
    c = BundleContent.model_validate({
        "policies": {"*": {"paranoia": 2, "exclusions": [{"rules": ["xss.*"]}]},
                     "shop": {"threshold": 9, "routes": [{"prefix": "/admin", "exclusions": [{"targets": ["ARGS:html"]}]}]}},
    })
    shop = effective_policy(c, "shop", local)
    assert (shop.mode, shop.paranoia, shop.threshold) == ("block", 2, 9)
    assert [e.rules for e in shop.exclusions] == [("xss.*",)]
    (admin,) = shop.routes
    assert (admin.mode, admin.threshold, [e.targets for e in admin.exclusions]) == ("block", 3, [("ARGS:html",)])
    billing = effective_policy(c, "billing", local)
    assert (billing.paranoia, billing.threshold) == (2, 5)

    stopped = BundleContent.model_validate({"emergency": [{"scope": "all", "mode": "shadow"},
                                                          {"scope": "service", "service": "shop", "mode": "off"}]})
    assert effective_policy(stopped, "shop", local).mode == "off", "off wins over shadow"
    billing_stop = effective_policy(stopped, "billing", local)
    assert billing_stop.mode == "shadow" and {r.mode for r in billing_stop.routes} == {"shadow"}
    assert billing_stop.resolve("/admin/x").mode == "shadow", "routes cannot escape an emergency stop"


# -- compiling ----------------------------------------------------------------------------------


def compile_content(test_key: Key, services: dict[str, Policy], clock: FakeClock | None = None, **kw: Any) -> Any:
    key, kid, pub = test_key
    bundle = verify_bundle(signed_bundle(content(**kw), 1, key, kid), load_public_keys({kid: pub}))
    # Only the bundle's own rules (no built-in ones): what is under test is what the bundle adds.
    return compile_bundle(bundle, services, clock=clock or FakeClock(1_800_000_000.0),
                          engine_factory=lambda _s, p: Engine.create(policy=p, builtin=False))


def test_compiled_engines_enforce_rules_scopes_reputation_and_stops(test_key: Key) -> None:
    compiled = compile_content(
        test_key,
        {"shop": Policy(), "billing": Policy()},
        rules=[{"service": "*", "rule": PATCH, "scope_target": "ARGS:q"},
               {"service": "billing", "rule": {"id": "billing.only", "category": "other", "targets": ["ARGS"],
                                               "pattern": "billing-probe", "match": ["billing-probe"]}}],
        reputation={"blocklist": [{"client": "203.0.113.7", "until": 1_800_000_100}]},
        emergency=[{"scope": "service", "service": "billing", "mode": "shadow"}],
    )
    shop, billing = compiled.engines["shop"], compiled.engines["billing"]
    assert shop.inspect(make_request("/?q=zq-exploit-7731")).blocked
    assert not any(f.rule_id == PATCH["id"] for f in shop.inspect(make_request("/?comment=zq-exploit-7731")).findings), "scoped"
    assert not shop.inspect(make_request("/?x=billing-probe")).findings, "a billing rule stays on billing"
    assert billing.inspect(make_request("/?x=billing-probe")).action.value == "log", "billing is stopped to shadow"
    assert shop.inspect(make_request("/", client="203.0.113.7")).blocked
    assert compiled.emergency == {"billing": "shadow"} and compiled.policies["billing"].mode == "shadow"
    assert shop.inspect(make_request("/?q=hello+world")).action.value == "allow"


def test_a_bundle_that_does_not_compile_is_refused(test_key: Key) -> None:
    bad = {"id": "bad.lookaround", "category": "other", "targets": ["ARGS"], "pattern": "(?=x)abc"}
    with pytest.raises(BundleError) as err:
        compile_content(test_key, {"shop": Policy()}, rules=[{"rule": bad}])
    assert err.value.kind == "compile" and "hyperscan" in str(err.value)
    with pytest.raises(BundleError, match="unknown keys"):
        compile_content(test_key, {"shop": Policy()}, rules=[{"rule": PATCH | {"evil": 1}}])
    with pytest.raises(BundleError, match="duplicate"):
        compile_content(test_key, {"shop": Policy()}, rules=[{"rule": PATCH}, {"rule": PATCH}])
    with pytest.raises(BundleError, match="mode"):
        compile_content(test_key, {"shop": Policy()}, policies={"shop": {"mode": "loud"}})
