"""The HTTP API: who may call what, clear 4xx for bad input, long-polled bundles, OpenAPI."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from siren.brain.api import ApiConfig, create_app
from siren.brain.core import Brain
from siren.brain.testing import make_event

if TYPE_CHECKING:
    from conftest import Api  # type: ignore[import-not-found]

FRAGMENT = "zq-exploit-7731 payload"


def events_body(*ids: str, **kw: Any) -> dict[str, Any]:
    return {"events": [make_event(i, **kw).model_dump(mode="json") for i in ids]}


def test_openapi_and_health_are_served(api: Api) -> None:
    spec = api.get("/openapi.json", token=None).json()
    for path in ("/v1/events", "/v1/heartbeat", "/v1/fleet", "/v1/bundles/latest", "/v1/rules", "/v1/emergency", "/v1/reports"):
        assert path in spec["paths"], path
    assert "Event" in str(spec["paths"]["/v1/events"]["post"]["requestBody"])
    health = api.get("/healthz", token=None).json()
    assert health["status"] == "ok" and health["bundle_version"] == 1


def test_requests_without_a_valid_token_are_401(api: Api) -> None:
    r = api.get("/v1/fleet", token=None)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    assert api.get("/v1/fleet", token="siren_admin_0123456789abcdef_" + "x" * 40).status_code == 401
    assert api.get("/v1/fleet", headers={"Authorization": "Basic abc"}, token=None).status_code == 401


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/v1/fleet", None), ("GET", "/v1/events", None), ("GET", "/v1/rules", None),
        ("POST", "/v1/sidecars", {"sidecar_id": "evil"}), ("POST", "/v1/emergency", {"scope": "all", "mode": "off"}),
        ("DELETE", "/v1/emergency", None), ("POST", "/v1/reports", {"service": "shop"}), ("PATCH", "/v1/settings", {}),
        ("POST", "/v1/keys/rotate", None), ("GET", "/v1/audit", None), ("POST", "/v1/bundles/publish", None),
    ],
)
def test_sidecar_tokens_are_refused_outside_their_three_verbs(api: Api, method: str, url: str, body: Any) -> None:
    token = api.enrol()
    r = api.request(method, url, token=token, json=body)
    assert r.status_code == 403, r.text
    assert "sidecar tokens may only" in r.json()["detail"]


def test_a_sidecar_token_reads_the_public_keys_but_cannot_rotate_them(api: Api) -> None:
    token = api.enrol()
    r = api.get("/v1/keys", token=token)
    assert r.status_code == 200, r.text
    assert r.json() == api.get("/v1/keys").json()
    assert {k["kid"] for k in r.json()} == {k.kid for k in api.brain.keys()}
    assert all(set(k) == {"kid", "public_key", "status", "created_at", "retired_at"} for k in r.json()), "public halves only"
    assert api.post("/v1/keys/rotate", token=token).status_code == 403


def test_a_sidecar_pushes_events_heartbeats_and_pulls_bundles(api: Api) -> None:
    token = api.enrol("sc-1", "shop")
    r = api.post("/v1/events", token=token, json=events_body("e1", "e2"))
    assert r.status_code == 200 and r.json() == {"accepted": 2, "duplicates": 0}
    assert api.post("/v1/events", token=token, json=events_body("e1")).json() == {"accepted": 0, "duplicates": 1}
    hb = {"sidecar_id": "sc-1", "service": "shop", "version": "0.1", "bundle_version": 1, "mode": "block", "counters": {"blocks": 2}}
    assert api.post("/v1/heartbeat", token=token, json=hb).json() == {"latest_bundle_version": 1}
    assert api.post("/v1/heartbeat", token=token, json=hb | {"sidecar_id": "sc-2"}).json() == {"latest_bundle_version": 1}
    assert api.brain.counters["heartbeat_id_mismatch"] == 1
    r = api.get("/v1/bundles/latest", token=token, params={"after": 0, "timeout": 0})
    assert r.status_code == 200 and r.json()["version"] == 1 and r.headers["ETag"].startswith('"1-')
    assert api.get("/v1/bundles/1", token=token).json()["version"] == 1
    assert api.get("/v1/bundles/99", token=token).status_code == 404
    fleet = api.get("/v1/fleet").json()
    assert fleet["sidecars"][0]["counters"] == {"blocks": 2} and fleet["latest_bundle_version"] == 1
    stored = api.get("/v1/events", params={"limit": 1}).json()
    assert stored[0]["sidecar_id"] == "sc-1"


def test_broken_json_is_400(api: Api) -> None:
    token = api.enrol()
    for body in (b"{not json", b"", b"\xff\xfe", b'{"events": [}'):
        r = api.post("/v1/events", token=token, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (body, r.text)
        assert "not valid JSON" in r.json()["detail"]
    r = api.post("/v1/rules", content=b"{oops", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"events": [make_event("x").model_dump(mode="json") | {"extra": 1}]}, ["events", 0, "extra"]),
        ({"events": [make_event("x").model_dump(mode="json") | {"action": "nuke"}]}, ["events", 0, "action"]),
        ({"events": "nope"}, ["events"]),
        ({"evnts": []}, ["evnts"]),
        ([], []),
    ],
)
def test_invalid_events_are_422_with_the_location(api: Api, body: Any, where: list[Any]) -> None:
    r = api.post("/v1/events", token=api.enrol(), json=body)
    assert r.status_code == 422
    assert where in [e["loc"] for e in r.json()["detail"]]
    assert api.brain.count_events() == 0


def test_oversized_bodies_and_batches_are_413(api: Api) -> None:
    token = api.enrol()
    r = api.post("/v1/events", token=token, json=events_body(*[f"e{i}" for i in range(101)]))
    assert r.status_code == 413 and "split it" in r.json()["detail"]
    big = b'{"events": [' + b" " * (300 * 1024) + b"]}"
    r = api.post("/v1/events", token=token, content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "exceeds the limit" in r.json()["detail"]

    async def chunks() -> Any:
        for _ in range(40):
            yield b" " * 10_000

    async def streamed() -> httpx.Response:
        async with api.client(token) as c:
            return await c.post("/v1/events", content=chunks(), headers={"Content-Type": "application/json"})

    r = asyncio.run(streamed())
    assert r.status_code == 413
    assert api.post("/v1/events", token=token, json=events_body("ok")).json()["accepted"] == 1, "still serving"


def test_unexpected_errors_are_500_and_the_server_keeps_serving(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(api.brain, "fleet", boom)
    r = api.get("/v1/fleet")
    assert r.status_code == 500 and "internal error" in r.json()["detail"] and "disk on fire" not in r.text
    assert api.get("/v1/rules").status_code == 200


def test_rules_policies_exclusions_and_reputation_over_http(api: Api) -> None:
    rule = {"id": "shop.coupon-probe", "category": "other", "targets": ["ARGS"], "pattern": r"coupon-probe-\d{4}",
            "match": ["coupon-probe-1234"]}
    assert api.post("/v1/rules", json={"service": "shop", "rule": rule}).status_code == 201
    assert api.post("/v1/rules", json={"service": "shop", "rule": rule}).status_code == 409
    r = api.post("/v1/rules", json={"service": "shop", "rule": rule | {"pattern": "("}})
    assert r.status_code == 422 and "does not compile" in r.json()["detail"]
    assert api.post("/v1/rules", json={"service": "shop", "rule": rule, "x": 1}).status_code == 422
    assert api.put("/v1/rules/shop.coupon-probe", json={"rule": rule}).json()["service"] == "*"
    assert api.get("/v1/rules/shop.coupon-probe").status_code == 200
    assert api.delete("/v1/rules/shop.coupon-probe").status_code == 204
    assert api.get("/v1/rules/shop.coupon-probe").status_code == 404

    assert api.put("/v1/policies/shop", json={"mode": "shadow", "threshold": 9}).json() == {"mode": "shadow", "threshold": 9}
    assert api.put("/v1/policies/shop", json={"mode": "loud"}).status_code == 422
    assert api.put("/v1/policies/shop", json={"paranoia": 9}).status_code == 422
    assert api.put("/v1/policies/a%2Fb", json={}).status_code in (404, 422)
    assert api.get("/v1/policies").json()["effective"]["shop"] == {"mode": "shadow", "threshold": 9}
    r = api.post("/v1/exclusions", json={"service": "shop", "rules": ["sqli.*"], "targets": ["ARGS:comment"]})
    assert r.status_code == 201
    assert api.post("/v1/exclusions", json={"service": "shop"}).status_code == 422
    assert api.delete(f"/v1/exclusions/{r.json()['id']}").status_code == 204

    assert api.post("/v1/reputation/allowlist", json={"client": "10.0.0.0/8"}).status_code == 201
    assert api.post("/v1/reputation/blocklist", json={"client": "10.2.3.4"}).status_code == 409
    assert api.post("/v1/reputation/blocklist", json={"client": "192.0.2.4", "ttl": 60}).status_code == 201
    assert [b["client"] for b in api.get("/v1/reputation").json()["blocklist"]] == ["192.0.2.4"]
    assert api.delete("/v1/reputation/blocklist", params={"client": "192.0.2.4"}).status_code == 204
    assert api.delete("/v1/reputation/allowlist", params={"client": "10.0.0.0/8"}).status_code == 204
    assert api.delete("/v1/reputation/allowlist", params={"client": "10.0.0.0/8"}).status_code == 404


def test_reports_patches_and_emergency_over_http(api: Api) -> None:
    r = api.post("/v1/reports", json={"service": "shop", "target": "ARGS:q", "fragment": FRAGMENT, "reason": "one service saw it"})
    assert r.status_code == 201, r.text
    pid = r.json()["patch_id"]
    assert [p["patch_id"] for p in api.get("/v1/patches", params={"status": "proposed"}).json()] == [pid]
    assert api.post(f"/v1/patches/{pid}/approve", json={"reason": "ok"}).json()["status"] == "enforced"
    assert api.post(f"/v1/patches/{pid}/approve", json={}).status_code == 409
    assert api.post(f"/v1/patches/{pid}/explode", json={}).status_code == 422
    assert api.post("/v1/patches/patch.nope/reject", json={}).status_code == 404
    r = api.post("/v1/reports", json={"service": "shop", "target": "ARGS:search", "fragment": "how to create a table"})
    assert r.status_code == 422 and "benign" in r.json()["detail"]

    r = api.post("/v1/emergency", json={"scope": "service", "service": "shop", "mode": "off", "reason": "outage"})
    assert r.status_code == 201
    version = r.json()["bundle_version"]
    assert api.get("/v1/bundles/latest", params={"after": version - 1, "timeout": 0}).json()["content"]["emergency"] == [
        {"scope": "service", "service": "shop", "mode": "off", "reason": "outage"}
    ]
    assert api.post("/v1/emergency", json={"scope": "service", "mode": "off"}).status_code == 422
    assert api.post("/v1/emergency", json={"scope": "everything", "mode": "off"}).status_code == 422
    assert api.delete("/v1/emergency", params={"service": "shop"}).json()["bundle_version"] == version + 1
    assert api.delete("/v1/emergency").status_code == 404

    assert api.patch("/v1/settings", json={"auto_approve": True}).json()["auto_approve"] is True
    assert api.patch("/v1/settings", json={"redact_fields": ["("]}).status_code == 422
    assert api.patch("/v1/settings", json={"nope": 1}).status_code == 422
    kid = api.post("/v1/keys/rotate").json()["kid"]
    assert {k["status"] for k in api.get("/v1/keys").json()} == {"active", "verify"}
    assert api.delete(f"/v1/keys/{kid}").status_code == 409
    assert any(a["action"] == "key.rotate" for a in api.get("/v1/audit").json())


def test_long_poll_answers_304_with_the_etag_when_nothing_is_newer(api: Api) -> None:
    token = api.enrol()
    r = api.get("/v1/bundles/latest", token=token, params={"after": 1, "timeout": 0})
    assert r.status_code == 304 and r.headers["ETag"].startswith('"1-') and r.content == b""
    etag = r.headers["ETag"]
    r = api.get("/v1/bundles/latest", token=token, params={"after": 0, "timeout": 0}, headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert api.get("/v1/bundles/latest", token=token, params={"after": -1}).status_code == 422


def test_long_poll_wakes_up_when_a_bundle_is_published(brain: Brain) -> None:
    app = create_app(brain, ApiConfig(refresh_interval=3600, maintenance_interval=3600))
    token = brain.enrol("sc-1", "shop", "admin")

    async def scenario() -> tuple[int, int, float]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://brain") as c:
                poll = asyncio.create_task(
                    c.get("/v1/bundles/latest", params={"after": 1, "timeout": 600}, headers={"Authorization": f"Bearer {token}"})
                )
                await asyncio.sleep(0.05)
                assert not poll.done(), "nothing newer yet: the request waits"
                started = time.monotonic()
                await asyncio.to_thread(brain.set_emergency, "all", None, "shadow", "drill", "admin")
                r = await asyncio.wait_for(poll, 60)
                return r.status_code, r.json()["version"], time.monotonic() - started

    status, version, _elapsed = asyncio.run(scenario())
    assert (status, version) == (200, 2)
