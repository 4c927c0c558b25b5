"""``siren brain`` as a real process on loopback, and the sidecar code against it: enrol, push
events, long-poll a signed bundle, verify and compile it; then the brain goes away and the
sidecar starts from the last good bundle on disk."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from siren.brain.testing import make_event
from siren.engine import Policy
from siren.sidecar import BrainClient, BundleSync, CompiledBundle, EventShipper, HeartbeatSender
from siren.testing import make_request

ATTACKER = "203.0.113.50"
pytestmark = pytest.mark.e2e


class Brain:
    def __init__(self, proc: subprocess.Popen[str], url: str, admin: str) -> None:
        self.proc, self.url, self.admin = proc, url, admin

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.admin}"}, timeout=30)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode


def _lines(stream: IO[str], out: queue.Queue[str]) -> None:
    for line in stream:
        out.put(line)


def _wait_for(lines: queue.Queue[str], pattern: str, proc: subprocess.Popen[str]) -> re.Match[str]:
    seen = []
    while True:
        try:
            line = lines.get(timeout=120)
        except queue.Empty:
            pytest.fail(f"siren brain did not print {pattern!r} within 120 s; it printed: {''.join(seen)}")
        seen.append(line)
        m = re.search(pattern, line)
        if m:
            return m
        if proc.poll() is not None and lines.empty():
            pytest.fail(f"siren brain exited ({proc.returncode}): {''.join(seen)}")


@pytest.fixture
def brain(tmp_path: Path) -> Iterator[Brain]:
    env = {k: v for k, v in os.environ.items() if k != "SIREN_ADMIN_TOKEN"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "siren.cli", "brain", "--listen", "127.0.0.1:0", "--db", f"sqlite:///{tmp_path / 'brain.db'}",
         "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    out: queue.Queue[str] = queue.Queue()
    err: queue.Queue[str] = queue.Queue()
    readers = [threading.Thread(target=_lines, args=(s, q), daemon=True) for s, q in ((proc.stdout, out), (proc.stderr, err))]
    for r in readers:
        r.start()
    running = Brain(proc, "", "")
    try:
        admin = _wait_for(err, r"admin token .*: (siren_admin_\S+)", proc).group(1)
        url = _wait_for(out, r"listening on (http://127\.0\.0\.1:\d+)", proc).group(1)
        running = Brain(proc, url, admin)
        yield running
    finally:
        running.stop()
        for r in readers:
            r.join(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_a_sidecar_enrols_reports_and_enforces_a_signed_bundle_even_after_the_brain_is_gone(brain: Brain, tmp_path: Path) -> None:
    with brain.http() as admin:
        assert admin.get("/openapi.json").status_code == 200
        keys = {k["kid"]: k["public_key"] for k in admin.get("/v1/keys").json()}
        assert admin.patch("/v1/settings", json={"reputation_threshold": 3}).status_code == 200
        token = admin.post("/v1/sidecars", json={"sidecar_id": "sc-e2e", "service": "shop"}).json()["token"]
        assert admin.get("/v1/fleet", headers={"Authorization": f"Bearer {token}"}).status_code == 403

    state = tmp_path / "sidecar"
    swaps: list[CompiledBundle] = []

    async def online() -> tuple[str, str, int]:
        client = BrainClient(brain.url, token)
        try:
            shipper = EventShipper(client)
            for i in range(3):
                assert shipper.offer(make_event(f"e2e-{i}", client=ATTACKER))
            assert await shipper.flush() and shipper.counters["events_sent"] == 3

            sync = BundleSync(client, keys, state, {"shop": Policy()}, swaps.append, poll_timeout=30)
            first = await sync.poll_once()
            # A long poll waits on the brain until the next bundle: an emergency stop wakes it.
            waiting = asyncio.create_task(sync.poll_once())
            await asyncio.sleep(0.2)
            stop = await asyncio.to_thread(
                lambda: httpx.post(f"{brain.url}/v1/emergency", json={"scope": "all", "mode": "shadow", "reason": "drill"},
                                   headers={"Authorization": f"Bearer {brain.admin}"}, timeout=30)
            )
            assert stop.status_code == 201, stop.text
            second = await asyncio.wait_for(waiting, 60)
            heartbeat = HeartbeatSender(client, sidecar_id="sc-e2e", service="shop", version="e2e",
                                        bundle_version=lambda: sync.version, mode=lambda: "shadow")
            assert await heartbeat.send_once()
            return first, second, sync.version
        finally:
            await client.aclose()

    first, second, version = asyncio.run(online())
    assert (first, second) == ("applied", "applied")
    assert [s.version for s in swaps] == [version - 1, version]
    shop = swaps[0].engines["shop"]
    verdict = shop.inspect(make_request("/", client=ATTACKER))
    assert verdict.blocked and verdict.findings[0].detector == "reputation", "listed after 3 blocked events"
    assert not shop.inspect(make_request("/?q=hello", client="198.51.100.1")).blocked
    assert swaps[1].engines["shop"].inspect(make_request("/", client=ATTACKER)).action.value == "log", "emergency: shadow"

    with brain.http() as admin:
        (sidecar,) = admin.get("/v1/fleet").json()["sidecars"]
    assert sidecar["bundle_version"] == version and sidecar["effective_mode"] == "shadow" and not sidecar["stale"]

    assert brain.stop() == 0, "the brain stops cleanly on SIGTERM"

    async def offline() -> tuple[bool, str]:
        client = BrainClient(brain.url, token, timeout=2)
        try:
            restarted = BundleSync(client, keys, state, {"shop": Policy()}, swaps.append, poll_timeout=1)
            loaded = restarted.load_last_good()
            return loaded, await restarted.poll_once()
        finally:
            await client.aclose()

    loaded, outcome = asyncio.run(offline())
    assert loaded and outcome == "error"
    assert swaps[-1].version == version
    assert swaps[-1].engines["shop"].inspect(make_request("/", client=ATTACKER)).action.value == "log"
