"""The brain's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

The schema is created and changed only by the Alembic migrations in ``siren/brain/migrations``;
this module describes it for queries, and a test checks the two agree. Times are epoch seconds
(floats) so that both databases compare and index them the same way.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("token_id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("salt", sa.String(64), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("created_by", sa.String(160), nullable=False),
    sa.Column("revoked_at", sa.Double, nullable=True),
)

sidecars = sa.Table(
    "sidecars",
    metadata,
    sa.Column("sidecar_id", sa.String(128), primary_key=True),
    sa.Column("service", sa.String(128), nullable=False, server_default=""),
    sa.Column("version", sa.String(64), nullable=False, server_default=""),
    sa.Column("bundle_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("mode", sa.String(16), nullable=False, server_default=""),
    sa.Column("counters", sa.JSON, nullable=False),
    sa.Column("enrolled_at", sa.Double, nullable=False),
    sa.Column("last_seen", sa.Double, nullable=True),
    sa.Column("revoked_at", sa.Double, nullable=True),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(80), nullable=False, unique=True),
    sa.Column("time", sa.Double, nullable=False),
    sa.Column("received_at", sa.Double, nullable=False),
    sa.Column("sidecar_id", sa.String(128), nullable=False),
    sa.Column("service", sa.String(128), nullable=False),
    sa.Column("route", sa.String(1024), nullable=False),
    sa.Column("client", sa.String(128), nullable=False),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("action", sa.String(8), nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("threshold", sa.Integer, nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("incident_id", sa.String(128), nullable=False),
    sa.Column("categories", sa.JSON, nullable=False),
    sa.Column("findings", sa.JSON, nullable=False),
    sa.Column("sample", sa.JSON, nullable=True),
    sa.Column("payload_sha256", sa.String(64), nullable=True),
    sa.Column("signal", sa.JSON, nullable=True),
    sa.Index(None, "client", "received_at"),
    sa.Index(None, "received_at"),
    sa.Index(None, "service", "received_at"),
)

client_counts = sa.Table(
    "client_counts",
    metadata,
    sa.Column("client", sa.String(128), primary_key=True),
    sa.Column("bucket", sa.BigInteger, primary_key=True, autoincrement=False),  # floor(received_at / bucket seconds)
    sa.Column("blocked", sa.Integer, nullable=False),
)
"""Blocked events per client per few seconds: what reputation sums over its window, so the cost
of a check does not grow with the number of stored events."""

rules = sa.Table(
    "rules",
    metadata,
    sa.Column("rule_id", sa.String(96), primary_key=True),
    sa.Column("service", sa.String(128), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.Column("updated_by", sa.String(160), nullable=False),
)

exclusions = sa.Table(
    "exclusions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("service", sa.String(128), nullable=False),
    sa.Column("route_prefix", sa.String(1024), nullable=True),
    sa.Column("rules", sa.JSON, nullable=False),
    sa.Column("targets", sa.JSON, nullable=False),
    sa.Column("note", sa.String(1024), nullable=False, server_default=""),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("created_by", sa.String(160), nullable=False),
)

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("service", sa.String(128), primary_key=True),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.Column("updated_by", sa.String(160), nullable=False),
)

blocklist = sa.Table(
    "blocklist",
    metadata,
    sa.Column("client", sa.String(128), primary_key=True),
    sa.Column("reason", sa.String(1024), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("listed_at", sa.Double, nullable=False),
    sa.Column("expires_at", sa.Double, nullable=False),
    sa.Column("listed_by", sa.String(160), nullable=False),
)

allowlist = sa.Table(
    "allowlist",
    metadata,
    sa.Column("client", sa.String(128), primary_key=True),
    sa.Column("reason", sa.String(1024), nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("created_by", sa.String(160), nullable=False),
)

patches = sa.Table(
    "patches",
    metadata,
    sa.Column("patch_id", sa.String(96), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rule", sa.JSON, nullable=False),
    sa.Column("scope_target", sa.String(512), nullable=True),
    sa.Column("service", sa.String(128), nullable=False),
    sa.Column("origin", sa.String(32), nullable=False),
    sa.Column("event_id", sa.String(80), nullable=True),
    sa.Column("evidence", sa.Integer, nullable=False),
    sa.Column("bundle_version", sa.Integer, nullable=True),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
)

patch_transitions = sa.Table(
    "patch_transitions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("patch_id", sa.String(96), nullable=False),
    sa.Column("from_status", sa.String(16), nullable=True),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(160), nullable=False),
    sa.Column("at", sa.Double, nullable=False),
    sa.Column("reason", sa.String(2048), nullable=False),
    sa.Index(None, "patch_id"),
)

emergency = sa.Table(
    "emergency",
    metadata,
    sa.Column("target", sa.String(160), primary_key=True),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("service", sa.String(128), nullable=True),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(1024), nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("created_by", sa.String(160), nullable=False),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("public_key", sa.String(128), nullable=False),
    sa.Column("private_key", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("retired_at", sa.Double, nullable=True),
)

bundles = sa.Table(
    "bundles",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("envelope", sa.Text, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("reason", sa.String(1024), nullable=False),
)

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.JSON, nullable=False),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Double, nullable=False),
    sa.Column("actor", sa.String(160), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(256), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Index(None, "at"),
)
