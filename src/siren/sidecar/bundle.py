"""Verify and compile a bundle: pure functions, no I/O (``sync.py`` does the fetching and disk).

``verify_bundle`` refuses anything it cannot prove came from the brain unchanged: malformed
JSON, a content hash that does not match, no signature by a trusted key, or a version not newer
than the one in force (a replay). ``compile_bundle`` turns a verified bundle into one engine per
service: the service's base engine (the proxy's built-in rules and configuration) plus the
bundle's rules as one more signature detector, its policy layered over the local one, the
emergency stop applied, and the reputation detector. Either raises :class:`BundleError`; the
caller then keeps the engines it has.

The bundle's rules are compiled into their own hyperscan database rather than recompiling the
built-in database with them: the built-in one is cached on disk, so a new patch costs
milliseconds instead of seconds (time to immunity).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from siren.brain.schema import BundleContent, BundleEnvelope, content_sha256, signing_message
from siren.engine import Engine, Policy, Route
from siren.engine.context import Context
from siren.engine.detectors import Detector
from siren.engine.detectors.signatures import SignatureDetector
from siren.engine.ruleset import Rule, Ruleset, _parse_rule, compile_ruleset
from siren.engine.verdict import Finding
from siren.errors import ConfigError, RuleError, SirenError
from siren.sidecar.reputation import ReputationDetector

EngineFactory = Callable[[str, Policy], Engine]
"""Builds a service's base engine for a policy: ``(service, policy) -> Engine``."""


class BundleError(SirenError):
    """A bundle was refused (``kind``: ``malformed``, ``hash``, ``signature``, ``replay``) or
    failed to compile (``compile``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class VerifiedBundle:
    version: int
    sha256: str
    issued_at: int
    content: BundleContent
    signed_by: str
    raw: bytes
    """The bytes as received: what is kept on disk (the signature stays checkable)."""


@dataclass(frozen=True, slots=True)
class CompiledBundle:
    version: int
    sha256: str
    engines: dict[str, Engine]
    """Service name → its engine: what the proxy swaps in."""
    policies: dict[str, Policy]
    emergency: dict[str, str] = field(default_factory=dict)
    """Service → emergency mode in force (``shadow``/``off``), for services that have one."""
    content: BundleContent = field(default_factory=BundleContent)


def load_public_keys(keys: Mapping[str, str]) -> dict[str, Ed25519PublicKey]:
    """``{kid: base64 raw Ed25519 key}`` → usable keys; raises ``ConfigError`` naming a bad one."""
    out = {}
    for kid, text in keys.items():
        try:
            out[kid] = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
        except (ValueError, binascii.Error) as exc:
            raise ConfigError(f"trusted key {kid}: not a base64 Ed25519 public key ({exc})") from exc
    return out


def verify_bundle(data: bytes, trusted: Mapping[str, Ed25519PublicKey], *, after: int = 0) -> VerifiedBundle:
    try:
        envelope = BundleEnvelope.model_validate_json(data)
    except ValidationError as exc:
        raise BundleError("malformed", f"not a bundle: {exc.error_count()} problems, first: {exc.errors()[0]['msg']}") from None
    if content_sha256(envelope.content) != envelope.sha256:
        raise BundleError("hash", f"bundle {envelope.version}: content does not match its sha256 (altered in transit or at rest)")
    if not envelope.signatures:
        raise BundleError("signature", f"bundle {envelope.version} is not signed")
    message = signing_message(envelope.version, envelope.sha256, envelope.issued_at)
    signer = None
    for sig in envelope.signatures:
        key = trusted.get(sig.kid)
        if key is None:
            continue
        try:
            key.verify(base64.b64decode(sig.sig, validate=True), message)
        except (InvalidSignature, ValueError, binascii.Error):
            continue
        signer = sig.kid
        break
    if signer is None:
        kids = ", ".join(s.kid for s in envelope.signatures)
        raise BundleError("signature", f"bundle {envelope.version}: no valid signature by a trusted key (signed by: {kids})")
    if envelope.version <= after:
        raise BundleError("replay", f"bundle {envelope.version} is not newer than {after}")
    try:
        content = BundleContent.model_validate(envelope.content)
    except ValidationError as exc:
        raise BundleError("malformed", f"bundle {envelope.version}: content does not follow the schema: {exc.errors()[0]['msg']}") from None
    return VerifiedBundle(envelope.version, envelope.sha256, envelope.issued_at, content, signer, data)


# -- policy layering ---------------------------------------------------------------------------


def _merge_routes(base: tuple[Route, ...], extra: tuple[Route, ...]) -> tuple[Route, ...]:
    by_prefix = {r.prefix: r for r in base}
    for r in extra:
        old = by_prefix.get(r.prefix)
        if old is None:
            by_prefix[r.prefix] = r
        else:
            by_prefix[r.prefix] = Route(
                prefix=r.prefix,
                mode=r.mode or old.mode,
                paranoia=r.paranoia or old.paranoia,
                threshold=r.threshold or old.threshold,
                exclusions=old.exclusions + r.exclusions,
            )
    return tuple(by_prefix.values())


def _layer(policy: Policy, body: Mapping[str, object]) -> Policy:
    """``policy`` with the fields ``body`` sets overridden; exclusions and routes added."""
    parsed = Policy.from_dict(dict(body))
    return replace(
        policy,
        mode=parsed.mode if "mode" in body else policy.mode,
        paranoia=parsed.paranoia if "paranoia" in body else policy.paranoia,
        threshold=parsed.threshold if "threshold" in body else policy.threshold,
        fail_open=parsed.fail_open if "fail_open" in body else policy.fail_open,
        exclusions=policy.exclusions + parsed.exclusions,
        routes=_merge_routes(policy.routes, parsed.routes),
    )


def emergency_mode(content: BundleContent, service: str) -> str | None:
    """The emergency mode for ``service`` (``off`` wins over ``shadow`` when two stops apply)."""
    modes = {s.mode for s in content.emergency if s.scope == "all" or s.service == service}
    return "off" if "off" in modes else "shadow" if "shadow" in modes else None


def effective_policy(content: BundleContent, service: str, local: Policy) -> Policy:
    """The sidecar's own policy, then the bundle's ``*`` entry, then the service's entry, then an
    emergency stop (which overrides every route's mode too)."""
    policy = local
    for key in ["*"] if service == "*" else ["*", service]:
        body = content.policies.get(key)
        if body is not None:
            policy = _layer(policy, body)
    stop = emergency_mode(content, service)
    if stop is not None:
        policy = replace(policy, mode=stop, routes=tuple(replace(r, mode=stop) for r in policy.routes))
    return policy


# -- compiling ---------------------------------------------------------------------------------


class ScopedSignatures:
    """A signature detector whose findings of some rules count only in one target (a patch
    learned on ``ARGS:q`` must not fire on ``ARGS:comment``)."""

    name = "signature"

    def __init__(self, inner: SignatureDetector, scopes: Mapping[str, str]) -> None:
        self.inner = inner
        self.scopes = dict(scopes)

    def detect(self, ctx: Context) -> list[Finding]:
        found = self.inner.detect(ctx)
        if not self.scopes:
            return found
        return [f for f in found if f.rule_id not in self.scopes or self.scopes[f.rule_id] == f.target]


def bundle_rules(bundle: VerifiedBundle | BundleContent, service: str, *, source: str = "bundle") -> tuple[list[Rule], dict[str, str]]:
    """The rules a service loads (its own and ``*``), parsed by the engine's schema, and the
    target scopes of patches."""
    content = bundle.content if isinstance(bundle, VerifiedBundle) else bundle
    rules: list[Rule] = []
    scopes: dict[str, str] = {}
    seen: set[str] = set()
    for item in content.rules:
        if item.service not in ("*", service):
            continue
        rule = _parse_rule(item.rule, source)
        if rule.id in seen:
            raise RuleError(f"{source}: duplicate rule id {rule.id}")
        seen.add(rule.id)
        rules.append(rule)
        if item.scope_target:
            scopes[rule.id] = item.scope_target
    return rules, scopes


def assemble(base: Engine, rules: Sequence[Rule], scopes: Mapping[str, str], extra: Sequence[Detector]) -> Engine:
    """``base`` plus the bundle's rules (own database) and ``extra`` detectors."""
    detectors = list(base.detectors)
    all_rules = list(base.ruleset.rules)
    if rules:
        ruleset = compile_ruleset(list(rules), paranoia=base.policy.max_paranoia)
        index = next((i + 1 for i, d in enumerate(detectors) if d.name == "signature"), 0)
        detectors.insert(index, ScopedSignatures(SignatureDetector(ruleset), scopes))
        all_rules += ruleset.rules
    detectors.extend(extra)
    # The engine reads each rule's paranoia level from its ruleset: give it the bundle's too.
    merged = Ruleset(rules=all_rules, views=base.ruleset.views, digest=base.ruleset.digest)
    return Engine(merged, base.policy, base.limits, detectors)


def default_engine_factory(_service: str, policy: Policy) -> Engine:
    return Engine.create(policy=policy)


def compile_bundle(
    bundle: VerifiedBundle,
    services: Mapping[str, Policy],
    *,
    engine_factory: EngineFactory = default_engine_factory,
    clock: Callable[[], float] = time.time,
) -> CompiledBundle:
    """One engine per service in ``services`` (name → the sidecar's local policy)."""
    content = bundle.content
    blocked = {b.client: b.until for b in content.reputation.blocklist}
    reasons = {b.client: b.reason for b in content.reputation.blocklist}
    engines: dict[str, Engine] = {}
    policies: dict[str, Policy] = {}
    stops: dict[str, str] = {}
    try:
        for service, local in services.items():
            policy = effective_policy(content, service, local)
            rules, scopes = bundle_rules(content, service, source=f"bundle:{bundle.version}")
            reputation = ReputationDetector(blocked, reasons=reasons, clock=clock)
            engines[service] = assemble(engine_factory(service, policy), rules, scopes, [reputation])
            policies[service] = policy
            mode = emergency_mode(content, service)
            if mode is not None:
                stops[service] = mode
    except (SirenError, ValueError, KeyError, TypeError) as exc:
        raise BundleError("compile", f"bundle {bundle.version} does not compile: {exc}") from exc
    return CompiledBundle(bundle.version, bundle.sha256, engines, policies, stops, content)
