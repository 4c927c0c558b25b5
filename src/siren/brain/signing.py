"""The bundle-signing key ring: Ed25519 keys with ids, rotated without breaking sidecars.

A key is ``active`` (signs, and is the one a rotation replaces), ``verify`` (still signs and is
still listed, so sidecars that only trust it keep accepting bundles) or ``retired`` (gone from
bundles; signatures by it no longer verify on sidecars that learned keys from bundles). Every
bundle is signed by every key that is not retired and lists their public keys, so a sidecar that
trusts the old key learns the new one from a bundle the old key signed; retire the old key once
the fleet view shows every sidecar on a bundle issued after the rotation.

Private keys live in the database as PKCS#8 PEM, encrypted with ``SIREN_SIGNING_PASSPHRASE``
when it is set (recommended for PostgreSQL shared by several replicas).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Connection

from siren.brain.schema import BundleSignature, PublicKey
from siren.brain.tables import signing_keys
from siren.errors import ConfigError

ENV_PASSPHRASE = "SIREN_SIGNING_PASSPHRASE"


@dataclass(frozen=True, slots=True)
class KeyInfo:
    kid: str
    public_key: str
    status: str
    created_at: float
    retired_at: float | None


def _passphrase() -> bytes | None:
    value = os.environ.get(ENV_PASSPHRASE)
    return value.encode() if value else None


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_raw: bytes) -> str:
    """Derived from the public key, so the same key always has the same id."""
    return "ed25519-" + hashlib.sha256(public_raw).hexdigest()[:16]


def _load_private(pem: str, kid: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=_passphrase())
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cannot load signing key {kid}: wrong or missing {ENV_PASSPHRASE}? ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"signing key {kid} is not an Ed25519 key")
    return key


def create_key(conn: Connection, now: float, status: str = "active") -> str:
    key = Ed25519PrivateKey.generate()
    raw = _raw_public(key)
    passphrase = _passphrase()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()
    kid = key_id(raw)
    conn.execute(
        signing_keys.insert().values(
            kid=kid, public_key=base64.b64encode(raw).decode(), private_key=pem, status=status, created_at=now, retired_at=None
        )
    )
    return kid


def ensure_key(conn: Connection, now: float) -> None:
    """Create the first key at first start."""
    if conn.execute(sa.select(signing_keys.c.kid).where(signing_keys.c.status == "active")).first() is None:
        create_key(conn, now)


def list_keys(conn: Connection) -> list[KeyInfo]:
    rows = conn.execute(
        sa.select(
            signing_keys.c.kid, signing_keys.c.public_key, signing_keys.c.status, signing_keys.c.created_at, signing_keys.c.retired_at
        ).order_by(signing_keys.c.created_at, signing_keys.c.kid)
    )
    return [KeyInfo(r.kid, r.public_key, r.status, r.created_at, r.retired_at) for r in rows]


def rotate(conn: Connection, now: float) -> str:
    """A new active key; the previous one keeps signing (status ``verify``) until retired."""
    conn.execute(signing_keys.update().where(signing_keys.c.status == "active").values(status="verify"))
    return create_key(conn, now)


def retire(conn: Connection, kid: str, now: float) -> KeyInfo:
    """Raises ``LookupError`` (no such key) or ``ValueError`` (it is the active key)."""
    row = conn.execute(sa.select(signing_keys.c.status).where(signing_keys.c.kid == kid)).first()
    if row is None:
        raise LookupError(kid)
    if row.status == "active":
        raise ValueError(f"{kid} is the active signing key: rotate first, then retire it")
    conn.execute(signing_keys.update().where(signing_keys.c.kid == kid).values(status="retired", retired_at=now))
    return next(k for k in list_keys(conn) if k.kid == kid)


def public_keys(conn: Connection) -> list[PublicKey]:
    return [PublicKey(kid=k.kid, public_key=k.public_key) for k in list_keys(conn) if k.status != "retired"]


def sign(conn: Connection, message: bytes) -> list[BundleSignature]:
    """Signatures of ``message`` by every key not retired, the active key first."""
    rows = list(
        conn.execute(
            sa.select(signing_keys.c.kid, signing_keys.c.private_key, signing_keys.c.status)
            .where(signing_keys.c.status != "retired")
            .order_by(signing_keys.c.created_at.desc(), signing_keys.c.kid)
        )
    )
    rows.sort(key=lambda r: r.status != "active")
    out = []
    for row in rows:
        key = _load_private(row.private_key, row.kid)
        out.append(BundleSignature(kid=row.kid, sig=base64.b64encode(key.sign(message)).decode()))
    return out
