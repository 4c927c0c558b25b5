"""Sidecar fixtures: a real brain (SQLite, in-process through httpx's ASGI transport) and a test
signing key for bundles the brain would never publish."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from siren.brain.api import ApiConfig, create_app
from siren.brain.core import Brain
from siren.brain.jobs import JobRunner
from siren.brain.store import Store
from siren.brain.testing import public_key_b64
from siren.sidecar.client import BrainClient

ADMIN = "sidecar-test-admin"


class Fleet:
    """A brain and its app; ``client(token)`` talks to it in-process."""

    def __init__(self, brain: Brain) -> None:
        self.brain = brain
        self.app = create_app(brain, ApiConfig(refresh_interval=3600, maintenance_interval=3600))

    def client(self, token: str) -> BrainClient:
        return BrainClient("http://brain", token, transport=httpx.ASGITransport(app=self.app))

    def keys(self) -> dict[str, str]:
        return {k.kid: k.public_key for k in self.brain.keys() if k.status != "retired"}


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    store = Store.open(f"sqlite:///{tmp_path / 'brain.db'}")
    brain = Brain(store, admin_token=ADMIN, jobs=JobRunner("inline"))
    brain.start()
    try:
        yield Fleet(brain)
    finally:
        brain.stop()
        store.close()


@pytest.fixture
def test_key() -> tuple[Ed25519PrivateKey, str, str]:
    """(private key, kid, base64 public key)."""
    key = Ed25519PrivateKey.generate()
    return key, "test-key", public_key_b64(key)
