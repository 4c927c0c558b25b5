"""Credentials: the admin token and sidecar tokens, and what each may do.

A token reads ``siren_<kind>_<id>_<secret>``: the id finds the stored row, the secret is checked
against ``HMAC-SHA256(salt, secret)`` with a per-token random salt, so the database never holds
a usable token. A sidecar token may push events, send heartbeats and pull bundles; everything
else needs the admin token (``SIREN_ADMIN_TOKEN``, or one generated and printed at first start).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal

Kind = Literal["admin", "sidecar"]
_TOKEN = re.compile(r"^siren_(admin|sidecar)_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")
ENV_ADMIN = "ADMIN-ENV"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling."""

    kind: Kind
    name: str
    """``admin`` or the sidecar id the token was issued to."""
    token_id: str

    @property
    def actor(self) -> str:
        """How the audit log names the caller."""
        return "admin" if self.kind == "admin" else f"sidecar:{self.name}"


@dataclass(frozen=True, slots=True)
class NewToken:
    token: str
    """The only time the secret exists in clear: give it to the sidecar, it is not stored."""
    token_id: str
    salt: str
    digest: str


def hash_secret(salt: str, secret: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode("ascii"), hashlib.sha256).hexdigest()


def new_token(kind: Kind) -> NewToken:
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    return NewToken(f"siren_{kind}_{token_id}_{secret}", token_id, salt, hash_secret(salt, secret))


def split_token(token: str) -> tuple[Kind, str, str] | None:
    """(kind, id, secret) of a well-formed token, else ``None``."""
    m = _TOKEN.match(token)
    if m is None:
        return None
    kind: Kind = "admin" if m.group(1) == "admin" else "sidecar"
    return kind, m.group(2), m.group(3)


def secret_matches(salt: str, digest: str, secret: str) -> bool:
    return hmac.compare_digest(hash_secret(salt, secret), digest)


def env_token_matches(expected: str, presented: str) -> bool:
    """Constant-time comparison of an admin token given by environment (any string)."""
    return hmac.compare_digest(hashlib.sha256(expected.encode()).digest(), hashlib.sha256(presented.encode()).digest())
