"""The brain's operations, independent of HTTP: enrolment, heartbeats, event ingest, rules and
policies, reputation, patches, emergency stops, keys and bundles.

Every method is synchronous and thread-safe (the API runs them in a thread pool); every change
writes an audit record and, when it changes what sidecars enforce, publishes the next bundle.
Errors a caller can fix are raised as :class:`BrainError` subclasses carrying an HTTP status.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from siren.brain import auth, bundles, patches, signing
from siren.brain.auth import Principal
from siren.brain.bundles import BundleMeta
from siren.brain.jobs import JobRunner
from siren.brain.reputation import Allowlist, offenders, parse_client
from siren.brain.schema import REDACTED, Event, Heartbeat, IngestResult, Redaction
from siren.brain.store import Store
from siren.brain.tables import (
    allowlist,
    audit,
    blocklist,
    client_counts,
    emergency,
    exclusions,
    patch_transitions,
    policies,
    rules,
    sidecars,
    tokens,
)
from siren.brain.tables import events as events_table
from siren.brain.tables import patches as patches_table
from siren.engine import Policy
from siren.engine.ruleset import _parse_rule as parse_rule
from siren.engine.ruleset import builtin_rule_dir, compile_ruleset, load_rules
from siren.errors import ConfigError, RuleError
from siren.rulecheck import check_samples

log = logging.getLogger("siren.brain")

STALE_AFTER = 90.0
"""Seconds without a heartbeat after which the fleet view calls a sidecar stale."""
BLOCKING = ("block", "log")
"""Verdicts that count against a client: blocked, or would have been (shadow mode)."""
BUCKET_SECONDS = 5
"""Reputation counts are kept per client per 5 s; a window is measured to within that."""
CACHE_SECONDS = 5.0
"""How long settings and the list of service-scoped rules are cached (several replicas)."""
COUNTS_KEPT = 86400.0
"""How long per-client counts are kept (at least; longer if the reputation window is longer)."""


class BrainError(Exception):
    status = 400


class NotFound(BrainError):
    status = 404


class Conflict(BrainError):
    status = 409


class Invalid(BrainError):
    status = 422


class Forbidden(BrainError):
    status = 403


class Unavailable(BrainError):
    status = 503


class Settings(BaseModel):
    """What an operator tunes at run time (``PATCH /v1/settings``)."""

    model_config = ConfigDict(extra="forbid")

    store_samples: bool = False
    """Keep the (redacted) request sample of an event; the payload hash is always kept."""
    redact_headers: list[str] = []
    """Header names hidden in samples, on top of Authorization, Cookie, Set-Cookie, API keys…"""
    redact_fields: list[str] = []
    """Regular expressions of field names hidden, on top of password/token/secret/api_key-like names."""
    reputation_threshold: int = Field(20, ge=1)
    """Blocked events from one client, across services, within the window, that list it."""
    reputation_window: int = Field(300, ge=1, le=86400 * 7)
    reputation_ttl: int = Field(3600, ge=1, le=86400 * 365)
    auto_approve: bool = False
    """Approve proposed patches without a person (they are validated either way)."""


@dataclass
class _Caches:
    settings: Settings | None = None
    redaction: Redaction | None = None
    scoped_rules: set[str] | None = None
    builtin_ids: frozenset[str] | None = None
    inflight: set[str] = field(default_factory=set)
    loaded_at: float = 0.0

    def expire(self, now: float) -> None:
        """Other replicas change settings and rules too: re-read them every few seconds."""
        if now - self.loaded_at > CACHE_SECONDS:
            self.settings = None
            self.redaction = None
            self.scoped_rules = None
            self.loaded_at = now


class Brain:
    def __init__(
        self,
        store: Store,
        *,
        admin_token: str | None = None,
        clock: Callable[[], float] = time.time,
        jobs: JobRunner | None = None,
    ) -> None:
        self.store = store
        self.admin_token = admin_token or None
        self.clock = clock
        self.jobs = jobs or JobRunner("inline")
        self.on_publish: Callable[[BundleMeta], None] | None = None
        """Called after a new bundle is committed (the API wakes long-polls with it)."""
        self._publish_lock = threading.Lock()
        self._lock = threading.Lock()
        self._caches = _Caches()
        self.warmup: threading.Thread | None = None
        """Reads the benign corpus in the background after :meth:`start`."""
        self.counters: dict[str, int] = {
            "events_accepted": 0, "events_duplicate": 0, "patch_refused": 0, "heartbeat_id_mismatch": 0,
        }

    # -- start --------------------------------------------------------------------------------

    def start(self) -> str | None:
        """Make sure a signing key, an admin credential and a first bundle exist. Returns a newly
        generated admin token (print it: it is shown once), or ``None``."""
        now = self.clock()
        generated = None
        with self.store.begin() as conn:
            signing.ensure_key(conn, now)
            has_admin = conn.execute(
                sa.select(tokens.c.token_id).where(tokens.c.kind == "admin", tokens.c.revoked_at.is_(None)).limit(1)
            ).first()
            if self.admin_token is None and has_admin is None:
                generated = self._issue(conn, "admin", "admin", "system", now)
                self.store.audit(conn, now, "system", "admin.generate", "admin")
        self.publish("system", "start")
        self.jobs.start()
        self.warmup = threading.Thread(target=self._warm_up, name="siren-brain-warmup", daemon=True)
        self.warmup.start()
        return generated

    def _warm_up(self) -> None:
        """Read the benign set patch validation uses now, so the first patch does not wait for it
        (one that arrives meanwhile waits for this read: ``benign_requests`` is locked)."""
        try:
            patches.benign_requests()
        except Exception:  # the first patch reads it again and reports the problem
            log.exception("cannot read the benign corpus for patch validation")

    def stop(self) -> None:
        self.jobs.stop()

    # -- credentials --------------------------------------------------------------------------

    def _issue(self, conn: Connection, kind: auth.Kind, name: str, actor: str, now: float) -> str:
        tok = auth.new_token(kind)
        conn.execute(
            tokens.insert().values(
                token_id=tok.token_id, kind=kind, name=name, salt=tok.salt, digest=tok.digest, created_at=now, created_by=actor
            )
        )
        return tok.token

    def authenticate(self, token: str) -> Principal | None:
        if self.admin_token is not None and auth.env_token_matches(self.admin_token, token):
            return Principal("admin", "admin", auth.ENV_ADMIN)
        parts = auth.split_token(token)
        if parts is None:
            return None
        kind, token_id, secret = parts
        with self.store.engine.connect() as conn:
            row = conn.execute(
                sa.select(tokens.c.name, tokens.c.salt, tokens.c.digest).where(
                    tokens.c.token_id == token_id, tokens.c.kind == kind, tokens.c.revoked_at.is_(None)
                )
            ).first()
        if row is None or not auth.secret_matches(row.salt, row.digest, secret):
            return None
        return Principal(kind, row.name, token_id)

    def enrol(self, sidecar_id: str, service: str, actor: str) -> str:
        """A new token for ``sidecar_id`` (its earlier tokens are revoked)."""
        now = self.clock()
        with self.store.begin() as conn:
            conn.execute(
                tokens.update()
                .where(tokens.c.kind == "sidecar", tokens.c.name == sidecar_id, tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            token = self._issue(conn, "sidecar", sidecar_id, actor, now)
            self.store.upsert(
                conn,
                sidecars,
                {"sidecar_id": sidecar_id, "service": service, "counters": {}, "enrolled_at": now, "revoked_at": None},
                ["sidecar_id"],
            )
            self.store.audit(conn, now, actor, "sidecar.enrol", sidecar_id, {"service": service})
        return token

    def revoke(self, sidecar_id: str, actor: str) -> None:
        now = self.clock()
        with self.store.begin() as conn:
            found = conn.execute(
                sidecars.update().where(sidecars.c.sidecar_id == sidecar_id, sidecars.c.revoked_at.is_(None)).values(revoked_at=now)
            ).rowcount
            if not found:
                raise NotFound(f"no enrolled sidecar {sidecar_id!r}")
            conn.execute(
                tokens.update().where(tokens.c.kind == "sidecar", tokens.c.name == sidecar_id, tokens.c.revoked_at.is_(None)).values(
                    revoked_at=now
                )
            )
            self.store.audit(conn, now, actor, "sidecar.revoke", sidecar_id)

    # -- heartbeats and the fleet -------------------------------------------------------------

    def heartbeat(self, principal: Principal, hb: Heartbeat) -> int:
        """Record a sidecar's heartbeat under its token's sidecar name (the token says who it is;
        a different ``sidecar_id`` in the body, a misconfigured sidecar, is logged and counted)."""
        if principal.kind != "sidecar":
            raise Forbidden("heartbeats come from sidecar tokens")
        sidecar_id = principal.name
        if hb.sidecar_id != sidecar_id:
            with self._lock:
                self.counters["heartbeat_id_mismatch"] += 1
            log.warning("heartbeat from the token of sidecar %r names %r: recorded under %r", sidecar_id, hb.sidecar_id, sidecar_id)
        now = self.clock()
        with self.store.begin() as conn:
            conn.execute(
                sidecars.update()
                .where(sidecars.c.sidecar_id == sidecar_id)
                .values(
                    service=hb.service, version=hb.version, bundle_version=hb.bundle_version, mode=hb.mode,
                    counters=dict(hb.counters), last_seen=now,
                )
            )
            meta = bundles.latest(conn)
        return meta.version if meta else 0

    def fleet(self) -> dict[str, Any]:
        now = self.clock()
        with self.store.engine.connect() as conn:
            meta = bundles.latest(conn)
            stops = [_plain(r) for r in conn.execute(sa.select(emergency).order_by(emergency.c.target))]
            rows = conn.execute(sa.select(sidecars).where(sidecars.c.revoked_at.is_(None)).order_by(sidecars.c.sidecar_id)).all()
        latest_version = meta.version if meta else 0
        out = []
        for r in rows:
            stop = _stop_for(stops, r.service)
            out.append(
                {
                    "sidecar_id": r.sidecar_id,
                    "service": r.service,
                    "version": r.version,
                    "bundle_version": r.bundle_version,
                    "up_to_date": r.bundle_version >= latest_version,
                    "mode": r.mode,
                    "emergency": stop,
                    "effective_mode": stop["mode"] if stop else (r.mode or None),
                    "last_seen": r.last_seen,
                    "seconds_since_seen": None if r.last_seen is None else round(now - r.last_seen, 3),
                    "stale": r.last_seen is None or now - r.last_seen > STALE_AFTER,
                    "counters": r.counters,
                    "enrolled_at": r.enrolled_at,
                }
            )
        return {"latest_bundle_version": latest_version, "emergency": stops, "sidecars": out}

    # -- settings -----------------------------------------------------------------------------

    def settings(self) -> Settings:
        self._caches.expire(time.monotonic())
        cached = self._caches.settings
        if cached is not None:
            return cached
        with self.store.engine.connect() as conn:
            value = self.store.get_setting(conn, "settings")
        current = Settings.model_validate(value or {})
        self._caches.settings = current
        return current

    def update_settings(self, changes: dict[str, Any], actor: str) -> Settings:
        merged = {**self.settings().model_dump(), **changes}
        try:
            new = Settings.model_validate(merged)
            Redaction.with_extra(new.redact_headers, new.redact_fields)
        except ValueError as exc:
            raise Invalid(str(exc)) from exc
        now = self.clock()
        with self.store.begin() as conn:
            self.store.put_setting(conn, "settings", new.model_dump())
            self.store.audit(conn, now, actor, "settings.update", "settings", changes)
        self._caches.settings = new
        self._caches.redaction = None
        return new

    def _redaction(self, settings: Settings) -> Redaction:
        cached = self._caches.redaction
        if cached is None:
            cached = Redaction.with_extra(settings.redact_headers, settings.redact_fields)
            self._caches.redaction = cached
        return cached

    # -- events -------------------------------------------------------------------------------

    def ingest(self, principal: Principal, batch: Sequence[Event]) -> IngestResult:
        """Store a batch (redacted; idempotent by event id), then update reputation and queue
        patch candidates for the events that were new."""
        settings = self.settings()
        redaction = self._redaction(settings)
        now = self.clock()
        sidecar_id = principal.name
        unique: dict[str, Event] = {}
        for event in batch:
            unique.setdefault(event.event_id, event)
        keep = settings.store_samples
        rows = [redaction.event_record(e, keep_sample=keep) | {"sidecar_id": sidecar_id, "received_at": now} for e in unique.values()]
        with self.store.begin() as conn:
            inserted = set(self.store.insert_events(conn, rows))
            new = [e for e in unique.values() if e.event_id in inserted]
            counts: dict[tuple[str, int], int] = {}
            bucket = int(now // BUCKET_SECONDS)
            for e in new:
                if e.action in BLOCKING and e.client:
                    counts[(e.client, bucket)] = counts.get((e.client, bucket), 0) + 1
            self.store.add_counts(conn, client_counts, counts)
        with self._lock:
            self.counters["events_accepted"] += len(new)
            self.counters["events_duplicate"] += len(batch) - len(new)
        clients = {client for client, _ in counts}
        if clients and self._update_reputation(clients, settings, now):
            self.publish("reputation", "client listed by reputation")
        scoped = self._scoped_rule_ids()
        for event in new:
            if event.signal is None and not any(f.rule_id in scoped for f in event.findings):
                continue
            # Patches are learned from what may be stored and shared: the redacted event.
            clean = redaction.event(event, keep_sample=True)
            trigger = self._patch_trigger(clean)
            if trigger is not None:
                origin, finding_index = trigger
                self.jobs.submit(functools.partial(self._propose_from_event, clean, origin, finding_index))
        return IngestResult(accepted=len(new), duplicates=len(batch) - len(new))

    def list_events(self, *, service: str | None = None, client: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        query = sa.select(events_table).order_by(events_table.c.id.desc()).limit(limit)
        if service:
            query = query.where(events_table.c.service == service)
        if client:
            query = query.where(events_table.c.client == client)
        with self.store.engine.connect() as conn:
            return [_plain(r) for r in conn.execute(query)]

    def get_event(self, event_id: str) -> dict[str, Any]:
        with self.store.engine.connect() as conn:
            row = conn.execute(sa.select(events_table).where(events_table.c.event_id == event_id)).first()
        if row is None:
            raise NotFound(f"no event {event_id!r}")
        return _plain(row)

    def count_events(self) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(events_table)).scalar_one())

    # -- reputation ---------------------------------------------------------------------------

    def _update_reputation(self, clients: set[str], settings: Settings, now: float) -> bool:
        since = int((now - settings.reputation_window) // BUCKET_SECONDS)
        with self.store.begin() as conn:
            counts = {
                r.client: int(r.n)
                for r in conn.execute(
                    sa.select(client_counts.c.client, sa.func.sum(client_counts.c.blocked).label("n"))
                    .where(client_counts.c.client.in_(sorted(clients)), client_counts.c.bucket > since)
                    .group_by(client_counts.c.client)
                )
            }
            listed = [
                r.client
                for r in conn.execute(
                    sa.select(blocklist.c.client).where(blocklist.c.client.in_(sorted(counts)), blocklist.c.expires_at > now)
                )
            ]
            allowed = Allowlist.of(r.client for r in conn.execute(sa.select(allowlist.c.client)))
            new = offenders(counts, settings.reputation_threshold, allowed, listed)
            for client in new:
                reason = f"{counts[client]} blocked requests within {settings.reputation_window}s"
                self.store.upsert(
                    conn,
                    blocklist,
                    {"client": client, "reason": reason, "source": "auto", "listed_at": now,
                     "expires_at": now + settings.reputation_ttl, "listed_by": "reputation"},
                    ["client"],
                )
                self.store.audit(conn, now, "reputation", "blocklist.add", client, {"reason": reason, "ttl": settings.reputation_ttl})
        return bool(new)

    def reputation(self) -> dict[str, Any]:
        now = self.clock()
        with self.store.engine.connect() as conn:
            listed = [_plain(r) for r in conn.execute(sa.select(blocklist).where(blocklist.c.expires_at > now).order_by(blocklist.c.client))]
            allowed = [_plain(r) for r in conn.execute(sa.select(allowlist).order_by(allowlist.c.client))]
        return {"blocklist": listed, "allowlist": allowed}

    def block_client(self, client: str, ttl: int, reason: str, actor: str) -> None:
        now = self.clock()
        with self.store.begin() as conn:
            allowed = Allowlist.of(r.client for r in conn.execute(sa.select(allowlist.c.client)))
            if allowed.allows(client):
                raise Conflict(f"{client} is allowlisted: remove it from the allowlist first")
            self.store.upsert(
                conn, blocklist,
                {"client": client, "reason": reason or "manual", "source": "manual", "listed_at": now, "expires_at": now + ttl,
                 "listed_by": actor},
                ["client"],
            )
            self.store.audit(conn, now, actor, "blocklist.add", client, {"reason": reason, "ttl": ttl})
        self.publish(actor, f"block {client}")

    def unblock_client(self, client: str, actor: str) -> None:
        now = self.clock()
        with self.store.begin() as conn:
            if not conn.execute(blocklist.delete().where(blocklist.c.client == client)).rowcount:
                raise NotFound(f"{client} is not on the blocklist")
            self.store.audit(conn, now, actor, "blocklist.remove", client)
        self.publish(actor, f"unblock {client}")

    def allow_client(self, client: str, reason: str, actor: str) -> None:
        entry = parse_client(client)
        text = str(entry)
        now = self.clock()
        with self.store.begin() as conn:
            self.store.upsert(conn, allowlist, {"client": text, "reason": reason, "created_at": now, "created_by": actor}, ["client"])
            self.store.audit(conn, now, actor, "allowlist.add", text, {"reason": reason})
        self.publish(actor, f"allowlist {text}")

    def unallow_client(self, client: str, actor: str) -> None:
        text = str(parse_client(client))
        now = self.clock()
        with self.store.begin() as conn:
            if not conn.execute(allowlist.delete().where(allowlist.c.client == text)).rowcount:
                raise NotFound(f"{text} is not on the allowlist")
            self.store.audit(conn, now, actor, "allowlist.remove", text)
        self.publish(actor, f"remove {text} from the allowlist")

    # -- custom rules, exclusions, policies ---------------------------------------------------

    def _builtin_ids(self) -> frozenset[str]:
        if self._caches.builtin_ids is None:
            try:
                self._caches.builtin_ids = frozenset(r.id for r in load_rules([builtin_rule_dir()]))
            except RuleError as exc:
                raise Unavailable(f"the built-in rules do not load, so rule ids cannot be checked: {exc}") from exc
        return self._caches.builtin_ids

    def _check_rule(self, raw: dict[str, Any]) -> str:
        """Validate with the engine's own schema, compiler and sample checker; the rule id."""
        try:
            rule = parse_rule(raw, "api")
            compile_ruleset([rule], use_cache=False)
        except RuleError as exc:
            raise Invalid(str(exc)) from exc
        failures = check_samples([rule])
        if failures:
            raise Invalid("; ".join(failures))
        if rule.id in self._builtin_ids():
            raise Conflict(f"rule id {rule.id} is a built-in rule's id")
        if rule.id.startswith("patch."):
            raise Invalid("rule ids starting with 'patch.' are reserved for virtual patches")
        return rule.id

    def list_rules(self) -> list[dict[str, Any]]:
        with self.store.engine.connect() as conn:
            return [_plain(r) for r in conn.execute(sa.select(rules).order_by(rules.c.rule_id))]

    def get_rule(self, rule_id: str) -> dict[str, Any]:
        with self.store.engine.connect() as conn:
            row = conn.execute(sa.select(rules).where(rules.c.rule_id == rule_id)).first()
        if row is None:
            raise NotFound(f"no custom rule {rule_id!r}")
        return _plain(row)

    def put_rule(self, service: str, raw: dict[str, Any], actor: str, *, replace: bool, rule_id: str | None = None) -> dict[str, Any]:
        rid = self._check_rule(raw)
        if rule_id is not None and rid != rule_id:
            raise Invalid(f"the rule's id {rid!r} differs from the URL's {rule_id!r}")
        now = self.clock()
        with self.store.begin() as conn:
            exists = conn.execute(sa.select(rules.c.created_at).where(rules.c.rule_id == rid)).first()
            if exists is not None and not replace:
                raise Conflict(f"rule {rid} exists: PUT /v1/rules/{rid} replaces it")
            row = {"rule_id": rid, "service": service, "body": raw, "created_at": exists.created_at if exists else now,
                   "updated_at": now, "updated_by": actor}
            self.store.upsert(conn, rules, row, ["rule_id"])
            self.store.audit(conn, now, actor, "rule.replace" if exists else "rule.create", rid, {"service": service})
        self._caches.scoped_rules = None
        self.publish(actor, f"rule {rid}")
        return self.get_rule(rid)

    def delete_rule(self, rule_id: str, actor: str) -> None:
        now = self.clock()
        with self.store.begin() as conn:
            if not conn.execute(rules.delete().where(rules.c.rule_id == rule_id)).rowcount:
                raise NotFound(f"no custom rule {rule_id!r}")
            self.store.audit(conn, now, actor, "rule.delete", rule_id)
        self._caches.scoped_rules = None
        self.publish(actor, f"delete rule {rule_id}")

    def list_exclusions(self) -> list[dict[str, Any]]:
        with self.store.engine.connect() as conn:
            return [_plain(r) for r in conn.execute(sa.select(exclusions).order_by(exclusions.c.id))]

    def add_exclusion(
        self, service: str, rule_ids: list[str], targets: list[str], route_prefix: str | None, note: str, actor: str
    ) -> dict[str, Any]:
        if not rule_ids and not targets:
            raise Invalid("an exclusion needs 'rules' and/or 'targets' (an empty one would exclude everything)")
        if route_prefix is not None and not route_prefix.startswith("/"):
            raise Invalid("route_prefix must start with '/'")
        try:
            Policy.from_dict({"exclusions": [{"rules": rule_ids, "targets": targets}]})
        except ConfigError as exc:
            raise Invalid(str(exc)) from exc
        now = self.clock()
        with self.store.begin() as conn:
            new_id = conn.execute(
                exclusions.insert()
                .values(service=service, route_prefix=route_prefix, rules=rule_ids, targets=targets, note=note, created_at=now,
                        created_by=actor)
                .returning(exclusions.c.id)
            ).scalar_one()
            self.store.audit(conn, now, actor, "exclusion.create", str(new_id), {"service": service, "rules": rule_ids, "targets": targets})
        self.publish(actor, f"exclusion {new_id}")
        return next(e for e in self.list_exclusions() if e["id"] == new_id)

    def delete_exclusion(self, exclusion_id: int, actor: str) -> None:
        now = self.clock()
        with self.store.begin() as conn:
            if not conn.execute(exclusions.delete().where(exclusions.c.id == exclusion_id)).rowcount:
                raise NotFound(f"no exclusion {exclusion_id}")
            self.store.audit(conn, now, actor, "exclusion.delete", str(exclusion_id))
        self.publish(actor, f"delete exclusion {exclusion_id}")

    def list_policies(self) -> dict[str, Any]:
        with self.store.engine.connect() as conn:
            stored = {r.service: _plain(r) for r in conn.execute(sa.select(policies).order_by(policies.c.service))}
            effective = bundles.policy_map(conn)
        return {"stored": stored, "effective": effective}

    def put_policy(self, service: str, body: dict[str, Any], actor: str) -> dict[str, Any]:
        try:
            Policy.from_dict(body)
        except ConfigError as exc:
            raise Invalid(str(exc)) from exc
        now = self.clock()
        with self.store.begin() as conn:
            self.store.upsert(conn, policies, {"service": service, "body": body, "updated_at": now, "updated_by": actor}, ["service"])
            self.store.audit(conn, now, actor, "policy.put", service, body)
        self.publish(actor, f"policy {service}")
        return body

    def delete_policy(self, service: str, actor: str) -> None:
        now = self.clock()
        with self.store.begin() as conn:
            if not conn.execute(policies.delete().where(policies.c.service == service)).rowcount:
                raise NotFound(f"no policy for {service!r}")
            self.store.audit(conn, now, actor, "policy.delete", service)
        self.publish(actor, f"delete policy {service}")

    # -- patches ------------------------------------------------------------------------------

    def _scoped_rule_ids(self) -> set[str]:
        self._caches.expire(time.monotonic())
        cached = self._caches.scoped_rules
        if cached is None:
            with self.store.engine.connect() as conn:
                cached = {r.rule_id for r in conn.execute(sa.select(rules.c.rule_id).where(rules.c.service != "*"))}
            self._caches.scoped_rules = cached
        return cached

    def _patch_trigger(self, event: Event) -> tuple[str, int] | None:
        """(origin, finding index) when an event is evidence only one sidecar could have seen."""
        scoped = self._scoped_rule_ids()
        for i, f in enumerate(event.findings):
            if f.rule_id in scoped and f.fragment and f.fragment != REDACTED:
                return "custom_rule", i
        if event.signal is not None:
            best = _best_finding(event, None)
            if best is not None:
                return "signal", best
        return None

    def _propose_from_event(self, event: Event, origin: str, index: int) -> None:
        f = event.findings[index]
        why = (
            f"custom rule {f.rule_id} of {event.service} matched" if origin == "custom_rule"
            else f"response signal {event.signal.kind if event.signal else ''} after finding {f.rule_id}"
        )
        try:
            self.propose(
                origin=origin, service=event.service, target=f.target, fragment=f.fragment, category=f.category,
                view=patches.view_of(f.transforms), event=event, actor="system", reason=f"event {event.event_id}: {why}",
            )
        except patches.PatchError as exc:
            log.info("no patch from event %s: %s", event.event_id, exc)

    def propose(
        self, *, origin: str, service: str, target: str, fragment: str, category: str, view: str, event: Event | None,
        actor: str, reason: str,
    ) -> dict[str, Any]:
        """Synthesize, validate and store a patch (or count more evidence for an existing one)."""
        if fragment == REDACTED:
            raise patches.PatchError("the fragment was redacted (it sits in a secret-named field): report it with the fragment")
        candidate = patches.synthesize(fragment, target, category=category, view=view, service=service, origin=origin)
        pid = candidate.rule.id
        now = self.clock()
        with self._lock:
            if pid in self._caches.inflight:
                raise patches.PatchError(f"patch {pid} is being validated already")
            self._caches.inflight.add(pid)
        try:
            with self.store.begin() as conn:
                if conn.execute(sa.select(patches_table.c.status).where(patches_table.c.patch_id == pid)).first() is not None:
                    conn.execute(
                        patches_table.update().where(patches_table.c.patch_id == pid)
                        .values(evidence=patches_table.c.evidence + 1, updated_at=now)
                    )
                    existing = True
                else:
                    existing = False
            if existing:
                return self.get_patch(pid)
            triggers = []
            if event is not None and event.sample is not None:
                triggers.append(patches.request_from_sample(event.sample, event.client))
            rebuilt = patches.request_for(target, candidate.fragment)
            if rebuilt is not None:
                triggers.append(rebuilt)
            try:
                patches.validate(candidate, triggers)
            except patches.PatchError as exc:
                with self.store.begin() as conn:
                    self.store.audit(conn, self.clock(), actor, "patch.refused", pid, {"reason": str(exc), "origin": origin, "service": service})
                with self._lock:
                    self.counters["patch_refused"] += 1
                raise
            auto = self.settings().auto_approve
            now = self.clock()  # validation takes a while: stamp the patch when it was proposed
            with self.store.begin() as conn:
                conn.execute(
                    patches_table.insert().values(
                        patch_id=pid, status="proposed", rule=candidate.raw, scope_target=candidate.scope_target, service=service,
                        origin=origin, event_id=event.event_id if event else None, evidence=1, bundle_version=None,
                        created_at=now, updated_at=now,
                    )
                )
                self._transition(conn, pid, None, "proposed", actor, reason, now)
                if auto:
                    self._transition(conn, pid, "proposed", "approved", "policy:auto-approve", "auto-approve is on; validated", now)
        finally:
            with self._lock:
                self._caches.inflight.discard(pid)
        if auto:
            self.publish("policy:auto-approve", f"patch {pid}")
        return self.get_patch(pid)

    def report(
        self, *, event_id: str | None, service: str | None, target: str | None, fragment: str | None, category: str | None,
        view: str | None, reason: str, actor: str,
    ) -> dict[str, Any]:
        """An operator's report of an attack: from a stored event, or from a fragment and target."""
        event: Event | None = None
        if event_id is not None:
            row = self.get_event(event_id)
            event = _event_from_row(row)
            index = _best_finding(event, target)
            if index is None and (fragment is None or target is None):
                raise Invalid(f"event {event_id} has no finding with a fragment: give 'target' and 'fragment'")
            if index is not None:
                f = event.findings[index]
                target = target or f.target
                fragment = fragment or f.fragment
                category = category or f.category
                view = view or patches.view_of(f.transforms)
            service = service or event.service
        if not (service and target and fragment):
            raise Invalid("a report needs 'event_id', or 'service', 'target' and 'fragment'")
        try:
            return self.propose(
                origin="report", service=service, target=target, fragment=fragment, category=category or "other",
                view=view or "decoded", event=event, actor=actor, reason=reason or "operator report",
            )
        except patches.PatchError as exc:
            raise Invalid(str(exc)) from exc

    def _transition(self, conn: Connection, pid: str, old: str | None, new: str, actor: str, reason: str, now: float) -> None:
        if old is not None and new not in patches.TRANSITIONS.get(old, ()):
            raise Conflict(f"patch {pid} is {old}: it cannot become {new} (allowed: {', '.join(patches.TRANSITIONS.get(old, ())) or 'none'})")
        query = patches_table.update().where(patches_table.c.patch_id == pid)
        if old is not None:
            query = query.where(patches_table.c.status == old)
        if not conn.execute(query.values(status=new, updated_at=now)).rowcount:
            raise Conflict(f"patch {pid} changed meanwhile; read it again")
        conn.execute(
            patch_transitions.insert().values(patch_id=pid, from_status=old, to_status=new, actor=actor, at=now, reason=reason[:2048])
        )
        self.store.audit(conn, now, actor, f"patch.{new}", pid, {"from": old, "reason": reason})

    def transition(self, pid: str, new: str, actor: str, reason: str) -> dict[str, Any]:
        """A person's decision: ``approved``, ``rejected`` or ``rolled_back``."""
        if new not in ("approved", "rejected", "rolled_back"):
            raise Invalid(f"unknown decision {new!r}")
        now = self.clock()
        with self.store.begin() as conn:
            row = conn.execute(sa.select(patches_table.c.status).where(patches_table.c.patch_id == pid)).first()
            if row is None:
                raise NotFound(f"no patch {pid!r}")
            self._transition(conn, pid, row.status, new, actor, reason or new, now)
        self.publish(actor, f"patch {pid} {new}")
        return self.get_patch(pid)

    def list_patches(self, status: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(patches_table).order_by(patches_table.c.created_at, patches_table.c.patch_id)
        if status:
            query = query.where(patches_table.c.status == status)
        with self.store.engine.connect() as conn:
            return [_plain(r) for r in conn.execute(query)]

    def get_patch(self, pid: str) -> dict[str, Any]:
        with self.store.engine.connect() as conn:
            row = conn.execute(sa.select(patches_table).where(patches_table.c.patch_id == pid)).first()
            if row is None:
                raise NotFound(f"no patch {pid!r}")
            history = [
                _plain(r)
                for r in conn.execute(
                    sa.select(patch_transitions).where(patch_transitions.c.patch_id == pid).order_by(patch_transitions.c.id)
                )
            ]
        return {**_plain(row), "transitions": history}

    # -- emergency stop -----------------------------------------------------------------------

    def set_emergency(self, scope: str, service: str | None, mode: str, reason: str, actor: str) -> BundleMeta:
        if scope == "service" and not service:
            raise Invalid("scope 'service' needs 'service'")
        if scope == "all":
            service = None
        key = "all" if scope == "all" else f"service:{service}"
        now = self.clock()
        with self.store.begin() as conn:
            self.store.upsert(
                conn, emergency,
                {"target": key, "scope": scope, "service": service, "mode": mode, "reason": reason, "created_at": now, "created_by": actor},
                ["target"],
            )
            self.store.audit(conn, now, actor, "emergency.set", key, {"mode": mode, "reason": reason})
        return self.publish(actor, f"emergency stop {key}: {mode}")

    def lift_emergency(self, scope: str | None, service: str | None, actor: str) -> BundleMeta:
        now = self.clock()
        with self.store.begin() as conn:
            query = emergency.delete()
            if scope == "all":
                query = query.where(emergency.c.target == "all")
            elif service:
                query = query.where(emergency.c.target == f"service:{service}")
            if not conn.execute(query).rowcount:
                raise NotFound("no emergency stop in force for that scope")
            self.store.audit(conn, now, actor, "emergency.lift", service or scope or "everything")
        return self.publish(actor, "emergency stop lifted")

    def emergencies(self) -> list[dict[str, Any]]:
        with self.store.engine.connect() as conn:
            return [_plain(r) for r in conn.execute(sa.select(emergency).order_by(emergency.c.target))]

    # -- keys and bundles ---------------------------------------------------------------------

    def keys(self) -> list[signing.KeyInfo]:
        with self.store.engine.connect() as conn:
            return signing.list_keys(conn)

    def rotate_key(self, actor: str) -> str:
        now = self.clock()
        with self.store.begin() as conn:
            kid = signing.rotate(conn, now)
            self.store.audit(conn, now, actor, "key.rotate", kid)
        self.publish(actor, f"key rotation: {kid}")
        return kid

    def retire_key(self, kid: str, actor: str) -> signing.KeyInfo:
        now = self.clock()
        with self.store.begin() as conn:
            try:
                info = signing.retire(conn, kid, now)
            except LookupError as exc:
                raise NotFound(f"no key {kid!r}") from exc
            except ValueError as exc:
                raise Conflict(str(exc)) from exc
            self.store.audit(conn, now, actor, "key.retire", kid)
        self.publish(actor, f"retire key {kid}")
        return info

    def publish(self, actor: str, reason: str) -> BundleMeta:
        """Publish the current state if it differs from the latest bundle; the latest bundle."""
        with self._publish_lock:
            now = self.clock()
            for attempt in range(3):
                try:
                    with self.store.begin() as conn:
                        meta, new, enforced = bundles.publish(conn, now, reason)
                        for pid in enforced:
                            self._transition(conn, pid, "approved", "enforced", "system", f"published in bundle {meta.version}", now)
                            conn.execute(patches_table.update().where(patches_table.c.patch_id == pid).values(bundle_version=meta.version))
                        if new:
                            self.store.audit(conn, now, actor, "bundle.publish", str(meta.version), {"reason": reason, "sha256": meta.sha256})
                    break
                except sa.exc.IntegrityError:
                    # Another replica published the same version first: build on top of it.
                    if attempt == 2:
                        raise
        if new and self.on_publish is not None:
            self.on_publish(meta)
        return meta

    def latest_bundle(self) -> BundleMeta | None:
        with self.store.engine.connect() as conn:
            return bundles.latest(conn)

    def bundle_text(self, version: int) -> str | None:
        with self.store.engine.connect() as conn:
            return bundles.envelope_text(conn, version)

    def maintain(self) -> BundleMeta:
        """Periodic: drop old reputation counts; republish when blocklist entries expired."""
        now = self.clock()
        horizon = int((now - max(COUNTS_KEPT, self.settings().reputation_window)) // BUCKET_SECONDS)
        with self.store.begin() as conn:
            conn.execute(client_counts.delete().where(client_counts.c.bucket < horizon))
        return self.publish("system", "maintenance")

    def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        with self.store.engine.connect() as conn:
            return [_plain(r) for r in conn.execute(sa.select(audit).order_by(audit.c.id.desc()).limit(limit))]


def _plain(row: sa.Row[Any]) -> dict[str, Any]:
    """A row as a dict with plain ``str`` keys (SQLAlchemy's are ``str`` subclasses)."""
    return {str(k): v for k, v in row._mapping.items()}


def _stop_for(stops: Iterable[dict[str, Any]], service: str) -> dict[str, Any] | None:
    """The emergency stop that applies to ``service`` (the most permissive when two do)."""
    found = [s for s in stops if s["scope"] == "all" or s["service"] == service]
    if not found:
        return None
    return max(found, key=lambda s: (s["mode"] == "off", s["scope"] == "service"))


def _best_finding(event: Event, target: str | None) -> int | None:
    """The index of the strongest finding with a usable fragment (in ``target`` if given)."""
    best: int | None = None
    for i, f in enumerate(event.findings):
        if not f.fragment or f.fragment == REDACTED or (target is not None and f.target != target):
            continue
        if best is None or f.score > event.findings[best].score:
            best = i
    return best


def _event_from_row(row: dict[str, Any]) -> Event:
    fields = {k: row[k] for k in Event.model_fields if k in row}
    return Event.model_validate(fields)
