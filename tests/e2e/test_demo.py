"""``siren demo --json`` as a user runs it: a real subprocess that starts an app, a brain and two
sidecars on loopback, and reports. The run is bounded by its own ``--timeout`` and by ours."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e

KEYS = {"time_to_immunity_s", "attack_requests_a", "attack_blocked_b", "attack_requests_b", "benign_requests", "benign_blocked"}


def test_siren_demo_makes_b_immune_to_an_attack_only_a_could_see() -> None:
    # Generous bounds: the first run in a session compiles the rule database on a shared machine.
    proc = subprocess.run(
        [sys.executable, "-m", "siren.cli", "demo", "--json", "--timeout", "600"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900, check=False,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"
    report = json.loads(proc.stdout)
    assert KEYS <= set(report)
    assert report["immune"] and isinstance(report["time_to_immunity_s"], float) and report["time_to_immunity_s"] > 0
    assert report["attack_requests_a"] > 0 and report["attack_blocked_a"] == report["attack_requests_a"], "A's custom rule"
    assert report["attack_requests_b"] > 0 and report["attack_blocked_b"] == report["attack_requests_b"], "the patch, on B"
    assert report["benign_requests"] > 0 and report["benign_blocked"] == 0
    assert report["baseline_b_status"] == 200, "before the patch B let the exploit through: the built-in rules do not know it"
    patch = report["patch"]
    assert patch["origin"] == "custom_rule" and patch["status"] == "enforced" and patch["scope_target"] == "ARGS:view"
    assert [t["to"] for t in patch["transitions"]] == ["proposed", "approved", "enforced"]
    assert report["evidence"]["rule_id"] == "shop.report-internal-view" and report["evidence"]["sidecar_id"] == "sidecar-a"
    assert "progress" not in report and "Siren demo" in proc.stderr, "progress goes to stderr with --json"
