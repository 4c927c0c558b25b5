"""The wire format between sidecars and the brain: events, heartbeats and bundles, plus the two
pure functions both sides must agree on byte for byte (redaction and the canonical encoding that
bundle hashes and signatures cover).

This is the one brain module a sidecar imports. It must stay pure: pydantic, orjson and the
standard library only (no FastAPI, SQLAlchemy, httpx, cryptography); a test checks it.

What leaves the sidecar's host is an :class:`Event`: the verdict, the findings (their fragments
cut short by the engine) and, only when the sidecar is configured to send one, a
:class:`Sample` of the request with secrets already redacted. The brain redacts again before it
stores anything (``redact_event``), because a sidecar's redaction is a courtesy, not a guarantee.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal
from urllib.parse import unquote_plus

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

BUNDLE_FORMAT: Final = "siren-bundle/1"
REDACTED = "[redacted]"

MAX_FINDINGS = 64
MAX_FRAGMENT = 512
MAX_TARGET = 8192
MAX_BODY = 65536

EventId = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._:@-]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@*-]+$")]
"""A service, sidecar or key name: ``*`` means every service."""
ShortText = Annotated[str, StringConstraints(max_length=1024)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Action = Literal["allow", "block", "log"]
Mode = Literal["block", "shadow", "off"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FindingModel(_Strict):
    """One finding as the engine reported it (``siren.engine.Finding.as_dict()``)."""

    detector: Annotated[str, StringConstraints(max_length=64)]
    rule_id: Annotated[str, StringConstraints(max_length=128)]
    category: Annotated[str, StringConstraints(max_length=64)]
    target: Annotated[str, StringConstraints(max_length=512)]
    fragment: Annotated[str, StringConstraints(max_length=MAX_FRAGMENT)] = ""
    transforms: Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=32)] = []
    score: Annotated[int, Field(ge=-1000, le=1_000_000)] = 0
    message: ShortText = ""


class Sample(_Strict):
    """The request as the application saw it, secrets redacted; sent only when policy allows."""

    method: Annotated[str, StringConstraints(max_length=32)]
    target: Annotated[str, StringConstraints(max_length=MAX_TARGET)]
    headers: Annotated[list[tuple[Annotated[str, StringConstraints(max_length=256)], ShortText]], Field(max_length=128)] = []
    body: Annotated[str, StringConstraints(max_length=MAX_BODY)] = ""
    body_truncated: bool = False


class Signal(_Strict):
    """What the response said about the request: e.g. a database error string after a
    suspicious input (``kind="db_error"``). A signal turns an allowed request into evidence."""

    kind: Literal["db_error", "stack_trace", "server_error", "other"]
    detail: ShortText = ""


class Event(_Strict):
    """What a sidecar reports about one request that drew attention."""

    event_id: EventId
    """Unique per event; the brain ignores an id it has already stored (retries are safe)."""
    time: Annotated[float, Field(ge=0, le=10_000_000_000)]
    """Wall-clock seconds since the epoch, on the sidecar."""
    service: Name
    route: Annotated[str, StringConstraints(max_length=1024)] = ""
    client: Annotated[str, StringConstraints(max_length=128)] = ""
    method: Annotated[str, StringConstraints(max_length=32)] = ""
    target: Annotated[str, StringConstraints(max_length=MAX_TARGET)] = ""
    """Path and query, query values of secret-named parameters redacted."""
    action: Action
    score: Annotated[int, Field(ge=-1000, le=1_000_000)] = 0
    threshold: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    mode: Mode = "block"
    categories: Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=32)] = []
    findings: Annotated[list[FindingModel], Field(max_length=MAX_FINDINGS)] = []
    request_id: Annotated[str, StringConstraints(max_length=128)] = ""
    incident_id: Annotated[str, StringConstraints(max_length=128)] = ""
    sample: Sample | None = None
    payload_sha256: Sha256 | None = None
    """sha256 of the request as received (before redaction): identical payloads share it."""
    signal: Signal | None = None


class EventBatch(_Strict):
    events: list[Event]


class IngestResult(_Strict):
    accepted: int
    """Events stored by this call."""
    duplicates: int
    """Events whose id was already stored (a retry): ignored."""


class Heartbeat(_Strict):
    sidecar_id: Name
    service: Name
    version: Annotated[str, StringConstraints(max_length=64)] = ""
    """The sidecar's software version."""
    bundle_version: Annotated[int, Field(ge=0)] = 0
    mode: Mode = "block"
    counters: Annotated[dict[Annotated[str, StringConstraints(max_length=64)], Annotated[int, Field(ge=0)]], Field(max_length=64)] = {}


class HeartbeatReply(_Strict):
    latest_bundle_version: int


# -- bundles ------------------------------------------------------------------------------------


class BundleRule(_Strict):
    service: Name = "*"
    """``*``: every service; else only the sidecars serving this service load it."""
    rule: dict[str, Any]
    """A rule in the YAML rule schema (``siren.engine.ruleset``)."""
    scope_target: Annotated[str, StringConstraints(max_length=512)] | None = None
    """Only findings in this target count (e.g. ``ARGS:q``): the parameter a patch was learned on."""


class BlockedClient(_Strict):
    client: Annotated[str, StringConstraints(max_length=128)]
    until: int
    """Epoch seconds; a sidecar ignores the entry after it, even when the brain is away."""
    reason: ShortText = ""


class Reputation(_Strict):
    blocklist: list[BlockedClient] = []


class EmergencyStop(_Strict):
    scope: Literal["all", "service"]
    service: Name | None = None
    mode: Literal["shadow", "off"]
    reason: ShortText = ""


class PublicKey(_Strict):
    kid: Name
    public_key: str
    """Raw Ed25519 public key, base64."""


class BundleContent(_Strict):
    rules: list[BundleRule] = []
    policies: dict[str, dict[str, Any]] = {}
    """Per service (``*`` = default), in ``Policy.from_dict`` form, exclusions included."""
    reputation: Reputation = Reputation()
    emergency: list[EmergencyStop] = []
    keys: list[PublicKey] = []
    """The brain's signing keys in force: a sidecar that verified this bundle trusts them next."""


class BundleSignature(_Strict):
    kid: Name
    sig: str
    """Ed25519 signature of :func:`signing_message`, base64."""


class BundleEnvelope(_Strict):
    format: Literal["siren-bundle/1"] = BUNDLE_FORMAT
    version: int
    sha256: Sha256
    """sha256 of ``canonical_json(content)``: the bundle is content-addressed."""
    issued_at: int
    content: dict[str, Any]
    signatures: list[BundleSignature] = []


def canonical_json(value: Any) -> bytes:
    """The one encoding hashes and signatures are computed over: sorted keys, no whitespace."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def content_sha256(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def signing_message(version: int, sha256: str, issued_at: int) -> bytes:
    """What a bundle signature covers: the version and the content hash (so neither a replayed
    old version nor altered content verifies)."""
    return f"{BUNDLE_FORMAT}\n{version}\n{sha256}\n{issued_at}".encode("ascii")


# -- redaction ----------------------------------------------------------------------------------

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token", "x-csrf-token", "x-xsrf-token"}
)
_SECRET_WORDS = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|credential"
    r"|auth|sess|cookie|card[-_]?number|cvv|cvc|otp|jwt"
)
_SECRET_NAME = _SECRET_WORDS + r"|(?:^|[-_.])sid$"


@dataclass(frozen=True, slots=True)
class Redaction:
    """What to hide. The defaults are always on; a policy can only add names."""

    headers: frozenset[str] = SECRET_HEADERS
    field_pattern: re.Pattern[str] = re.compile(_SECRET_NAME, re.IGNORECASE)
    words: str = _SECRET_WORDS
    """The same names, unanchored: for finding ``name=value`` inside free text."""

    @classmethod
    def with_extra(cls, headers: Iterable[str] = (), fields: Iterable[str] = ()) -> Redaction:
        """Add header names and field-name regular expressions (``ValueError`` names a bad one)."""
        extra = [f"(?:{f})" for f in fields]
        for f in fields:
            try:
                re.compile(f)
            except re.error as exc:
                raise ValueError(f"redact_fields: {f!r} is not a regular expression: {exc}") from None
        pattern = "|".join([_SECRET_NAME, *extra])
        words = "|".join([_SECRET_WORDS, *extra])
        return cls(SECRET_HEADERS | {h.lower() for h in headers}, re.compile(pattern, re.IGNORECASE), words)

    def secret_field(self, name: str) -> bool:
        return self.field_pattern.search(name) is not None

    def secret_target(self, target: str) -> bool:
        """Whether a finding's target names a secret (``ARGS:password``, ``HEADER:Authorization``,
        ``JSON:user.api_key``, ``COOKIE:sid``)."""
        kind, _, name = target.partition(":")
        if kind == "HEADER":
            return name.lower() in self.headers
        return bool(name) and self.secret_field(name.split("|", 1)[0])

    def query(self, text: str) -> str:
        """``a=1&password=x`` → ``a=1&password=[redacted]`` (the rest kept byte for byte)."""
        if not text:
            return text
        parts = text.split("&")
        for i, part in enumerate(parts):
            name, eq, _ = part.partition("=")
            if eq and self.secret_field(unquote_plus(name)):
                parts[i] = f"{name}={REDACTED}"
        return "&".join(parts)

    def target(self, target: str) -> str:
        path, q, query = target.partition("?")
        return f"{path}?{self.query(query)}" if q else path

    def json_value(self, node: Any) -> Any:
        if isinstance(node, dict):
            return {k: REDACTED if self.secret_field(str(k)) else self.json_value(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.json_value(v) for v in node]
        return node

    def body(self, body: str, content_type: str) -> str:
        ctype = content_type.lower()
        stripped = body.lstrip()
        if "json" in ctype or stripped[:1] in ("{", "["):
            try:
                return orjson.dumps(self.json_value(orjson.loads(body))).decode()
            except orjson.JSONDecodeError:
                pass
        if "x-www-form-urlencoded" in ctype or ("=" in body and "\n" not in body):
            return self.query(body)
        return self._loose(body)

    def _loose(self, text: str) -> str:
        # Anything else (multipart, XML, broken JSON): hide ``name=value``, ``"name": "value"`` and
        # ``<name>value</name>`` forms of secret names.
        names = self.words
        text = re.sub(rf'((?:{names})[\w-]*"?\s*[:=]\s*"?)[^"&\s,;}}]*', rf"\1{REDACTED}", text, flags=re.IGNORECASE)
        text = re.sub(
            rf'(name="[^"]*(?:{names})[^"]*"[^\n]*\r?\n(?:[^\n]*\r?\n)*?\r?\n)[^\r\n]*', rf"\1{REDACTED}", text, flags=re.IGNORECASE
        )
        return text

    def sample(self, sample: Sample) -> Sample:
        content_type = ""
        headers: list[tuple[str, str]] = []
        for name, value in sample.headers:
            lname = name.lower()
            if lname == "content-type":
                content_type = value
            headers.append((name, REDACTED if lname in self.headers else value))
        return Sample(
            method=sample.method,
            target=self.target(sample.target),
            headers=headers,
            body=self.body(sample.body, content_type) if sample.body else "",
            body_truncated=sample.body_truncated,
        )

    def finding(self, finding: FindingModel) -> FindingModel:
        if finding.fragment and self.secret_target(finding.target):
            return finding.model_copy(update={"fragment": REDACTED})
        return finding

    def event(self, event: Event, *, keep_sample: bool = True) -> Event:
        """The event with secrets hidden everywhere they can appear; the sample dropped unless
        ``keep_sample``. ``payload_sha256`` is kept (computed over the sample first if missing)."""
        digest = event.payload_sha256
        if digest is None and event.sample is not None:
            digest = sample_sha256(event.sample)
        return event.model_copy(
            update={
                "target": self.target(event.target),
                "findings": [self.finding(f) for f in event.findings],
                "sample": self.sample(event.sample) if keep_sample and event.sample is not None else None,
                "payload_sha256": digest,
            }
        )

    def event_record(self, event: Event, *, keep_sample: bool = True) -> dict[str, Any]:
        """What :meth:`event` returns, as plain data (the brain's ingest path: no model copies)."""
        findings = []
        for f in event.findings:
            fragment = f.fragment
            if fragment and self.secret_target(f.target):
                fragment = REDACTED
            findings.append({"detector": f.detector, "rule_id": f.rule_id, "category": f.category, "target": f.target,
                             "fragment": fragment, "transforms": list(f.transforms), "score": f.score, "message": f.message})
        sample = event.sample
        digest = event.payload_sha256
        if digest is None and sample is not None:
            digest = sample_sha256(sample)
        return {
            "event_id": event.event_id, "time": event.time, "service": event.service, "route": event.route,
            "client": event.client, "method": event.method, "target": self.target(event.target) if "?" in event.target else event.target,
            "action": event.action, "score": event.score, "threshold": event.threshold, "mode": event.mode,
            "categories": list(event.categories), "findings": findings, "request_id": event.request_id,
            "incident_id": event.incident_id,
            "sample": self.sample(sample).model_dump() if keep_sample and sample is not None else None,
            "payload_sha256": digest,
            "signal": event.signal.model_dump() if event.signal is not None else None,
        }


def sample_sha256(sample: Sample) -> str:
    return hashlib.sha256(canonical_json(sample.model_dump(mode="json"))).hexdigest()


DEFAULT_REDACTION = Redaction()
