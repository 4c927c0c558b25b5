"""Test factories for the brain, shipped with the package (for Siren's tests, benchmarks and
anyone testing an integration): events, and throwaway PostgreSQL databases."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from siren.brain.schema import Event

PG_ADMIN_URL = os.environ.get("SIREN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
"""A PostgreSQL server where the tests may create and drop databases (``SIREN_TEST_PG``)."""


class FakeClock:
    """A clock tests move by hand (``Brain(clock=...)``, ``ReputationDetector(clock=...)``)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_event(
    event_id: str | None = None,
    *,
    service: str = "shop",
    client: str = "203.0.113.7",
    action: str = "block",
    target: str = "/search?q=%27%20or%201%3D1--",
    fragment: str = "' or 1=1--",
    finding_target: str = "ARGS:q",
    rule_id: str = "sqli.tautology",
    score: int = 5,
    **extra: Any,
) -> Event:
    data: dict[str, Any] = {
        "event_id": event_id or secrets.token_hex(12),
        "time": time.time(),
        "service": service,
        "route": "",
        "client": client,
        "method": "GET",
        "target": target,
        "action": action,
        "score": score,
        "threshold": 5,
        "mode": "block",
        "categories": ["sqli"],
        "findings": [
            {"detector": "signature", "rule_id": rule_id, "category": "sqli", "target": finding_target, "fragment": fragment,
             "transforms": [], "score": score, "message": "test finding"}
        ],
    }
    data.update(extra)
    return Event.model_validate(data)


def _pg_connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True, connect_timeout=5)


def postgres_reachable(admin_url: str = PG_ADMIN_URL) -> str | None:
    """``None`` if PostgreSQL answers at ``admin_url``, else why not."""
    try:
        with _pg_connect(admin_url) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure is reported to the caller as text
        return f"{type(exc).__name__}: {exc}"
    return None


@contextmanager
def postgres_database(admin_url: str = PG_ADMIN_URL, prefix: str = "siren_test") -> Iterator[str]:
    """Create ``<prefix>_<random>``, yield its SQLAlchemy URL, drop it afterwards."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with _pg_connect(admin_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with _pg_connect(admin_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def signed_bundle(content: dict[str, Any], version: int, key: Any, kid: str, *, issued_at: int = 1_800_000_000) -> bytes:
    """A bundle envelope signed with ``key`` (an ``Ed25519PrivateKey``), as the brain would send
    it: for testing sidecars against bundles the brain would never publish (bad rules…)."""
    import base64

    import orjson

    from siren.brain.schema import content_sha256, signing_message

    digest = content_sha256(content)
    sig = base64.b64encode(key.sign(signing_message(version, digest, issued_at))).decode()
    envelope = {"format": "siren-bundle/1", "version": version, "sha256": digest, "issued_at": issued_at, "content": content,
                "signatures": [{"kid": kid, "sig": sig}]}
    return orjson.dumps(envelope)


def public_key_b64(key: Any) -> str:
    """The base64 raw public key of an ``Ed25519PrivateKey`` (what sidecars are configured with)."""
    import base64

    from cryptography.hazmat.primitives import serialization

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()
