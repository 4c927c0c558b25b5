"""Immunity that survives the brain: real processes (``siren brain``, two ``siren proxy``
sidecars, the demo shop app) on loopback.

A learns an attack with its custom rule, the brain patches it, B blocks it. Then the brain is
stopped: both sidecars keep protecting with their last bundle, a sidecar restarted meanwhile starts
from the bundle it kept on disk, and when the brain comes back (same port, same database) both
resume syncing. Waits are bounded; every process started here is stopped by the fleet."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from siren.demo import CAMPAIGN, JSON, PROBE, SERVICE_B, Deadline, Fleet, send

pytestmark = pytest.mark.e2e

BOUND = 600.0  # a safety net on a shared machine (the first start compiles the rule database), never an expectation
NEW_EXPLOIT = "internal.payroll_export"


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    # Short retry pauses so that "resumes syncing" needs no long waits.
    running = Fleet(tmp_path, Deadline(BOUND), sidecar_config={"brain": {"heartbeat_interval": 1, "retry_max": 1, "poll_timeout": 10}})
    try:
        running.start()
        yield running
    finally:
        running.close()


def _wait_blocked(fleet: Fleet, key: str, target: str, deadline: Deadline) -> int:
    """Probe until the sidecar blocks ``target``; how many probes got through first."""
    passed = 0
    while send(fleet.clients[key], "GET", target, headers=JSON).status != 403:
        passed += 1
        deadline.check(f"sidecar {key} blocking {target}")
        time.sleep(0.1)
    return passed


def _protects(fleet: Fleet, key: str, campaign: tuple[str, ...] = CAMPAIGN) -> None:
    statuses = [r.status for r in fleet.attack(key, campaign)]
    assert statuses == [403] * len(campaign), f"sidecar {key}: {statuses}"
    sent, blocked = fleet.benign(key, rounds=1)
    assert sent > 0 and blocked == 0, f"sidecar {key} blocked {blocked} benign requests"


def test_sidecars_keep_their_immunity_without_the_brain_and_resume_with_it(fleet: Fleet) -> None:
    deadline = fleet.deadline
    a, b = fleet.sidecars["a"], fleet.sidecars["b"]
    assert send(fleet.clients["b"], "GET", PROBE, headers=JSON).status == 200, "B does not know the exploit yet"

    # A blocks the campaign with its custom rule; the brain patches it; B becomes immune.
    assert [r.status for r in fleet.attack("a")] == [403] * len(CAMPAIGN)
    early_probes = _wait_blocked(fleet, "b", PROBE, deadline)
    patched = b.bundle_version()
    a.wait_bundle(patched, deadline)
    _protects(fleet, "a")
    _protects(fleet, "b")

    # The brain goes away: both sidecars keep protecting with the bundle they have.
    assert fleet.brain is not None
    port = fleet.brain.port
    mark = {key: s.process.mark() for key, s in fleet.sidecars.items()}
    fleet.stop_brain()
    for key in ("a", "b"):
        fleet.sidecars[key].process.event("brain_unreachable", deadline, start=mark[key])
        _protects(fleet, key)
        assert fleet.sidecars[key].bundle_version() == patched

    # B restarts while the brain is down: it starts from the last good bundle it kept on disk.
    fleet.stop_sidecar("b")
    b = fleet.start_sidecar("b")
    line = b.process.event("bundle_from_disk", deadline)
    assert line.doc is not None and line.doc["version"] == patched
    _protects(fleet, "b")

    # The brain comes back on the same port with the same database: both sidecars sync again.
    fleet.start_brain(port=port)
    with fleet.admin() as admin:
        reported = admin.post("/v1/reports", json={
            "service": SERVICE_B, "target": "ARGS:view", "fragment": NEW_EXPLOIT, "category": "other",
            "reason": "operator: the payroll export leaks too",
        })
        assert reported.status_code == 201, reported.text
        assert reported.json()["status"] == "enforced", "auto-approved and published"
        latest = int(admin.get("/healthz").json()["bundle_version"])
    assert latest > patched
    for key in ("a", "b"):
        fleet.sidecars[key].wait_bundle(latest, deadline)
        _protects(fleet, key, (f"/api/reports?view={NEW_EXPLOIT}", *CAMPAIGN))
    with fleet.admin() as admin:
        while True:  # heartbeats resume too (every second here)
            sidecars = {s["sidecar_id"]: s for s in admin.get("/v1/fleet").json()["sidecars"]}
            if all(sidecars[f"sidecar-{key}"]["bundle_version"] == latest for key in ("a", "b")):
                break
            deadline.check("heartbeats reporting the latest bundle")
            time.sleep(0.2)
    assert fleet.app.counts["leaks"] == 1 + early_probes, "only probes of B sent before the patch reached the app's bug"
