"""Bundle sync against a real brain: fetch, verify, compile, swap; refuse what is tampered or
broken and keep the engines in force; start from the last good bundle when the brain is away."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from siren.brain.testing import signed_bundle
from siren.engine import Engine, Policy
from siren.sidecar.bundle import CompiledBundle
from siren.sidecar.client import BrainClient
from siren.sidecar.sync import BUNDLE_FILE, KEYS_FILE, BundleSync
from siren.testing import make_request

if TYPE_CHECKING:
    from conftest import Fleet  # type: ignore[import-not-found]

Key = tuple[Ed25519PrivateKey, str, str]


class Swaps:
    def __init__(self) -> None:
        self.seen: list[CompiledBundle] = []

    def __call__(self, compiled: CompiledBundle) -> None:
        self.seen.append(compiled)

    @property
    def versions(self) -> list[int]:
        return [c.version for c in self.seen]


def bare_engine(_service: str, policy: Policy) -> Engine:
    """The base engine without built-in rules: what is under test is what bundles add."""
    return Engine.create(policy=policy, builtin=False)


def make_sync(client: BrainClient, keys: dict[str, str], state: Path, swaps: Swaps, **kw: Any) -> BundleSync:
    return BundleSync(client, keys, state, {"shop": Policy()}, swaps, poll_timeout=0, engine_factory=bare_engine, **kw)


def offline() -> BrainClient:
    def refuse(_request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    return BrainClient("http://brain", "t", transport=httpx.MockTransport(refuse))


def serving(data: bytes) -> BrainClient:
    return BrainClient("http://brain", "t", transport=httpx.MockTransport(lambda _r: httpx.Response(200, content=data)))


def test_sync_applies_each_new_bundle_and_keeps_it_on_disk(fleet: Fleet, tmp_path: Path) -> None:
    token = fleet.brain.enrol("sc-1", "shop", "admin")
    swaps = Swaps()
    sync = make_sync(fleet.client(token), fleet.keys(), tmp_path, swaps)

    async def scenario() -> list[str]:
        outcomes = [await sync.poll_once(), await sync.poll_once()]
        fleet.brain.block_client("203.0.113.7", 600, "drill", "admin")
        outcomes.append(await sync.poll_once())
        fleet.brain.set_emergency("service", "shop", "shadow", "drill", "admin")
        outcomes.append(await sync.poll_once())
        return outcomes

    assert asyncio.run(scenario()) == ["applied", "not_modified", "applied", "applied"]
    assert swaps.versions == [1, 2, 3] and sync.version == 3
    engine = swaps.seen[-1].engines["shop"]
    verdict = engine.inspect(make_request("/", client="203.0.113.7"))
    assert verdict.action.value == "log" and verdict.findings[0].detector == "reputation", "listed, but shop is in shadow"
    assert swaps.seen[1].engines["shop"].inspect(make_request("/", client="203.0.113.7")).blocked
    on_disk = orjson.loads((tmp_path / BUNDLE_FILE).read_bytes())
    assert on_disk["version"] == 3
    assert set(orjson.loads((tmp_path / KEYS_FILE).read_bytes())["learned"]) == set(fleet.keys())


def test_a_tampered_bundle_is_refused_and_the_old_engines_stay(fleet: Fleet, tmp_path: Path) -> None:
    token = fleet.brain.enrol("sc-1", "shop", "admin")
    swaps = Swaps()
    sync = make_sync(fleet.client(token), fleet.keys(), tmp_path, swaps)
    assert asyncio.run(sync.poll_once()) == "applied"
    fleet.brain.set_emergency("all", None, "off", "", "admin")
    genuine = fleet.brain.bundle_text(2)
    assert genuine is not None
    envelope = orjson.loads(genuine)
    envelope["content"]["emergency"] = []
    sync.client = serving(orjson.dumps(envelope))
    assert asyncio.run(sync.poll_once()) == "refused"
    envelope = orjson.loads(genuine)
    envelope["signatures"] = []
    sync.client = serving(orjson.dumps(envelope))
    assert asyncio.run(sync.poll_once()) == "refused"
    assert sync.counters["bundles_refused"] == 2 and "not signed" in sync.last_error
    assert swaps.versions == [1] and orjson.loads((tmp_path / BUNDLE_FILE).read_bytes())["version"] == 1


def test_a_bundle_that_does_not_compile_keeps_the_old_engines(tmp_path: Path, test_key: Key) -> None:
    key, kid, pub = test_key
    swaps = Swaps()
    sync = make_sync(serving(signed_bundle({}, 1, key, kid)), {kid: pub}, tmp_path, swaps)
    assert asyncio.run(sync.poll_once()) == "applied"
    bad = {"rules": [{"service": "*", "rule": {"id": "bad.rule", "category": "other", "targets": ["ARGS"], "pattern": "(?=a)b"}}]}
    sync.client = serving(signed_bundle(bad, 2, key, kid))
    assert asyncio.run(sync.poll_once()) == "refused"
    assert sync.counters["compile_failures"] == 1 and sync.version == 1 and swaps.versions == [1]
    assert "hyperscan" in sync.last_error


def test_the_last_good_bundle_is_loaded_at_start_when_the_brain_is_away(fleet: Fleet, tmp_path: Path) -> None:
    token = fleet.brain.enrol("sc-1", "shop", "admin")
    fleet.brain.block_client("203.0.113.7", 3600, "", "admin")
    first = make_sync(fleet.client(token), fleet.keys(), tmp_path, Swaps())
    assert asyncio.run(first.poll_once()) == "applied"

    swaps = Swaps()
    restarted = make_sync(offline(), fleet.keys(), tmp_path, swaps)
    assert restarted.load_last_good()
    assert swaps.versions == [2] and swaps.seen[0].engines["shop"].inspect(make_request("/", client="203.0.113.7")).blocked
    assert asyncio.run(restarted.poll_once()) == "error" and restarted.counters["fetch_errors"] == 1
    assert restarted.version == 2, "the brain being away changes nothing"

    (tmp_path / BUNDLE_FILE).write_bytes((tmp_path / BUNDLE_FILE).read_bytes().replace(b"203.0.113.7", b"203.0.113.8"))
    tampered = make_sync(offline(), fleet.keys(), tmp_path, Swaps())
    assert not tampered.load_last_good() and tampered.counters["bundles_refused"] == 1
    assert not make_sync(offline(), fleet.keys(), tmp_path / "empty", Swaps()).load_last_good()


def test_key_rotation_reaches_sidecars_through_bundles(fleet: Fleet, tmp_path: Path) -> None:
    token = fleet.brain.enrol("sc-1", "shop", "admin")
    pinned = fleet.keys()
    (old_kid,) = pinned
    sync = make_sync(fleet.client(token), pinned, tmp_path, Swaps())
    assert asyncio.run(sync.poll_once()) == "applied"
    new_kid = fleet.brain.rotate_key("admin")
    assert asyncio.run(sync.poll_once()) == "applied"
    assert set(sync.learned) == {old_kid, new_kid}
    fleet.brain.retire_key(old_kid, "admin")
    assert asyncio.run(sync.poll_once()) == "applied", "signed by the new key only, trusted through the last bundle"
    assert set(sync.learned) == {new_kid}

    restarted = make_sync(offline(), pinned, tmp_path, Swaps())
    assert restarted.load_last_good(), "the learned keys are kept on disk with the bundle"
    stranger = make_sync(offline(), pinned, tmp_path / "other", Swaps())
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / BUNDLE_FILE).write_bytes((tmp_path / BUNDLE_FILE).read_bytes())
    assert not stranger.load_last_good(), "without the learned keys the retired key cannot vouch for it"


def test_a_key_planted_in_state_dir_is_not_trusted(fleet: Fleet, tmp_path: Path, test_key: Key) -> None:
    token = fleet.brain.enrol("sc-1", "shop", "admin")
    pinned = fleet.keys()
    assert asyncio.run(make_sync(fleet.client(token), pinned, tmp_path, Swaps()).poll_once()) == "applied"
    evil, kid, pub = test_key
    planted = {"keys": [{"kid": kid, "public_key": pub}], "emergency": [{"scope": "all", "mode": "off"}]}
    forged = signed_bundle(planted, 99, evil, kid)
    (tmp_path / BUNDLE_FILE).write_bytes(forged)
    for keys in ({kid: pub}, {"learned": {kid: pub}, "chain": []}, {"learned": {kid: pub}, "chain": [forged.decode()]}):
        (tmp_path / KEYS_FILE).write_bytes(orjson.dumps(keys))
        swaps = Swaps()
        restarted = make_sync(offline(), pinned, tmp_path, swaps)
        assert not restarted.load_last_good(), keys
        assert swaps.versions == [] and kid not in restarted.trusted() and kid not in restarted.learned
        assert restarted.counters["learned_keys_dropped"] == 1 and restarted.counters["bundles_refused"] == 1


def test_the_key_chain_survives_a_restart_after_the_pinned_key_is_retired(fleet: Fleet, tmp_path: Path) -> None:
    token = fleet.brain.enrol("sc-1", "shop", "admin")
    pinned = fleet.keys()
    sync = make_sync(fleet.client(token), pinned, tmp_path, Swaps())
    assert asyncio.run(sync.poll_once()) == "applied"
    (old_kid,) = pinned
    new_kid = fleet.brain.rotate_key("admin")
    assert asyncio.run(sync.poll_once()) == "applied"
    fleet.brain.retire_key(old_kid, "admin")
    fleet.brain.block_client("203.0.113.7", 3600, "", "admin")
    assert asyncio.run(sync.poll_once()) == "applied", "the latest bundle, signed by the new key only"
    restarted = make_sync(offline(), pinned, tmp_path, Swaps())
    assert restarted.load_last_good() and restarted.version == sync.version
    assert set(restarted.learned) == {new_kid} and restarted.counters["learned_keys_dropped"] == 0


def test_run_backs_off_while_the_brain_is_away(tmp_path: Path) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 4:
            raise asyncio.CancelledError

    sync = make_sync(offline(), {}, tmp_path, Swaps(), sleep=sleep)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(sync.run())
    assert sync.counters["fetch_errors"] == 4
    assert slept[-1] > slept[0], slept
