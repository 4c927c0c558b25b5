"""Bundles: what every sidecar enforces, as one signed, versioned, content-addressed document.

``build_content`` gathers the current rules (custom rules and published patches), policies
(exclusions folded in), the reputation blocklist, emergency stops and the public signing keys, in
a deterministic order. ``publish`` hashes it (sha256 of the canonical JSON); when the hash
differs from the latest bundle's it stores version ``latest + 1`` signed by the key ring, and
marks approved patches it carries as enforced. Publishing unchanged content is a no-op, so the
brain can call it after every change and on a timer (blocklist entries expire).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siren.brain import signing
from siren.brain.patches import PUBLISHED
from siren.brain.reputation import Allowlist
from siren.brain.schema import (
    BlockedClient,
    BundleContent,
    BundleEnvelope,
    BundleRule,
    EmergencyStop,
    Reputation,
    content_sha256,
    signing_message,
)
from siren.brain.tables import allowlist, blocklist, bundles, emergency, exclusions, patches, policies, rules


@dataclass(frozen=True, slots=True)
class BundleMeta:
    version: int
    sha256: str
    created_at: float

    @property
    def etag(self) -> str:
        return f'"{self.version}-{self.sha256[:16]}"'


def policy_map(conn: Connection) -> dict[str, dict[str, Any]]:
    """Per service (``*`` = every service), the stored policy with that scope's exclusions folded
    in (route exclusions into that route). Sidecars layer them: their local policy, then ``*``,
    then their service's entry (see ``siren.sidecar.bundle.effective_policy``)."""
    stored = {r.service: dict(r.body) for r in conn.execute(sa.select(policies.c.service, policies.c.body))}
    excl = conn.execute(
        sa.select(exclusions.c.service, exclusions.c.route_prefix, exclusions.c.rules, exclusions.c.targets).order_by(exclusions.c.id)
    ).all()
    out: dict[str, dict[str, Any]] = {}
    for service in sorted(set(stored) | {e.service for e in excl}):
        body = dict(stored.get(service, {}))
        body_exclusions = list(body.get("exclusions", []))
        routes = [dict(r) for r in body.get("routes", [])]
        for e in excl:
            if e.service != service:
                continue
            item = {"rules": list(e.rules), "targets": list(e.targets)}
            if e.route_prefix:
                route = next((r for r in routes if r.get("prefix") == e.route_prefix), None)
                if route is None:
                    route = {"prefix": e.route_prefix}
                    routes.append(route)
                route["exclusions"] = [*route.get("exclusions", []), item]
            else:
                body_exclusions.append(item)
        if routes:
            body["routes"] = routes
        if body_exclusions:
            body["exclusions"] = body_exclusions
        out[service] = body
    return out


def build_content(conn: Connection, now: float) -> BundleContent:
    bundle_rules = [
        BundleRule(service=r.service, rule=dict(r.body))
        for r in conn.execute(sa.select(rules.c.service, rules.c.body).order_by(rules.c.rule_id))
    ]
    bundle_rules += [
        BundleRule(service="*", rule=dict(p.rule), scope_target=p.scope_target)
        for p in conn.execute(
            sa.select(patches.c.rule, patches.c.scope_target).where(patches.c.status.in_(PUBLISHED)).order_by(patches.c.patch_id)
        )
    ]
    allowed = Allowlist.of(r.client for r in conn.execute(sa.select(allowlist.c.client)))
    listed = [
        BlockedClient(client=r.client, until=int(r.expires_at), reason=r.reason)
        for r in conn.execute(
            sa.select(blocklist.c.client, blocklist.c.expires_at, blocklist.c.reason)
            .where(blocklist.c.expires_at > now)
            .order_by(blocklist.c.client)
        )
        if not allowed.allows(r.client)
    ]
    stops = [
        EmergencyStop(scope="all" if r.scope == "all" else "service", service=r.service, mode=r.mode, reason=r.reason)
        for r in conn.execute(sa.select(emergency).order_by(emergency.c.target))
    ]
    return BundleContent(
        rules=bundle_rules,
        policies=policy_map(conn),
        reputation=Reputation(blocklist=listed),
        emergency=stops,
        keys=signing.public_keys(conn),
    )


def latest(conn: Connection) -> BundleMeta | None:
    row = conn.execute(
        sa.select(bundles.c.version, bundles.c.sha256, bundles.c.created_at).order_by(bundles.c.version.desc()).limit(1)
    ).first()
    return None if row is None else BundleMeta(row.version, row.sha256, row.created_at)


def envelope_text(conn: Connection, version: int) -> str | None:
    row = conn.execute(sa.select(bundles.c.envelope).where(bundles.c.version == version)).first()
    return None if row is None else str(row.envelope)


def publish(conn: Connection, now: float, reason: str) -> tuple[BundleMeta, bool, list[str]]:
    """The latest bundle after publishing the current state, whether it is new (it is only when
    the content changed), and the ids of approved patches it carries (now enforced)."""
    content = build_content(conn, now).model_dump(mode="json")
    digest = content_sha256(content)
    current = latest(conn)
    if current is not None and current.sha256 == digest:
        return current, False, []
    version = (current.version if current else 0) + 1
    issued_at = int(now)
    envelope = BundleEnvelope(
        version=version,
        sha256=digest,
        issued_at=issued_at,
        content=content,
        signatures=signing.sign(conn, signing_message(version, digest, issued_at)),
    )
    text = orjson.dumps(envelope.model_dump(mode="json")).decode()
    conn.execute(bundles.insert().values(version=version, sha256=digest, envelope=text, created_at=now, reason=reason[:1024]))
    enforced = [
        r.patch_id for r in conn.execute(sa.select(patches.c.patch_id).where(patches.c.status == "approved").order_by(patches.c.patch_id))
    ]
    return BundleMeta(version, digest, now), True, enforced
