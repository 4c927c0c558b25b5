"""Virtual patches: turn one attack fragment into a narrow signature rule every sidecar can load,
and prove it before anyone sees it.

``synthesize`` escapes the decoded fragment byte for byte as a literal (``\\xHH`` for everything
but letters, digits and ``_``: hyperscan-safe and regex-safe), picks the view the fragment was
decoded by, and scopes the rule to the collection (and, in the bundle, to the parameter) it was
found in. The rule is then parsed by the engine's own rule schema (``_parse_rule``), never by a
second validator. ``validate`` compiles it into an engine on its own and requires that it match
the triggering request and nothing in Siren's benign set.

The lifecycle is a table (``TRANSITIONS``); the brain records every transition.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from siren.brain.schema import Sample
from siren.corpus import read_corpus
from siren.engine import Engine, Policy, Request
from siren.engine.ruleset import CATEGORIES, Rule, _parse_rule
from siren.engine.views import VIEWS, chain
from siren.errors import RuleError

BENIGN = Path(__file__).resolve().parent.parent / "data" / "benign" / "siren-benign.jsonl"
MIN_FRAGMENT = 6
MAX_FRAGMENT = 200

STATUSES = ("proposed", "approved", "enforced", "rejected", "rolled_back")
PUBLISHED = ("approved", "enforced")
"""Statuses whose rule goes into bundles (approved becomes enforced once a bundle carries it)."""
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("approved", "rejected"),
    "approved": ("enforced", "rejected", "rolled_back"),
    "enforced": ("rolled_back",),
    "rolled_back": ("approved",),
    "rejected": ("proposed",),
}
ORIGINS = ("custom_rule", "report", "signal")


class PatchError(ValueError):
    """The fragment cannot become a safe rule; the message says why."""


@dataclass(frozen=True, slots=True)
class Candidate:
    rule: Rule
    raw: dict[str, Any]
    """The rule as data (what bundles carry)."""
    scope_target: str | None
    fragment: str


# Target name prefix -> rule collection; the parameter scope is kept for these.
_SCOPED = {"ARGS": "ARGS", "JSON": "ARGS", "COOKIE": "COOKIES", "XML": "XML", "FILE": "FILES"}
_WHOLE = {
    "PATH": "PATH", "PATH_SEGMENT": "PATH_SEGMENTS", "BODY": "BODY", "ARGS_NAMES": "ARGS_NAMES", "JSON_NAMES": "ARGS_NAMES",
    "COOKIE_NAMES": "COOKIE_NAMES", "FILE_NAMES": "FILE_NAMES",
}


def literal_pattern(text: str) -> str:
    """A pattern matching exactly ``text`` (hyperscan reads it as bytes, Python as text)."""
    out = []
    for ch in text:
        if ch.isascii() and (ch.isalnum() or ch == "_"):
            out.append(ch)
        else:
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8"))
    return "".join(out)


def view_of(transforms: tuple[str, ...] | list[str]) -> str:
    """The view whose transform chain produced a finding's fragment (``decoded`` if unknown)."""
    for view in VIEWS:
        if chain(view) == tuple(transforms):
            return view
    return "decoded"


def collection_of(target: str) -> tuple[str, str | None]:
    """(rule collection, parameter scope) for a finding's target name."""
    kind, _, name = target.partition(":")
    if kind == "HEADER" and name:
        return f"HEADERS:{name.split('|', 1)[0].lower()}", None
    if kind in _SCOPED and name:
        return _SCOPED[kind], target
    if kind == "REFERER_ARGS":
        return "HEADERS:referer", None
    if kind in _WHOLE:
        return _WHOLE[kind], None
    raise PatchError(f"cannot scope a rule to target {target!r}")


def synthesize(fragment: str, target: str, *, category: str, view: str, service: str, origin: str) -> Candidate:
    text = fragment.strip().lower()
    if "\x00" in text:
        raise PatchError("fragment holds a NUL byte: signatures scan NUL-separated values, so it could never match")
    if len(text) < MIN_FRAGMENT:
        raise PatchError(f"fragment {fragment!r} is shorter than {MIN_FRAGMENT} characters: too broad for a signature")
    if len(text) > MAX_FRAGMENT:
        text = text[:MAX_FRAGMENT]
    if view not in VIEWS:
        view = "decoded"
    collection, scope = collection_of(target)
    pattern = literal_pattern(text)
    digest = hashlib.sha256(f"{view}\0{collection}\0{scope}\0{pattern}".encode()).hexdigest()[:12]
    raw: dict[str, Any] = {
        "id": f"patch.{digest}",
        "category": category if category in CATEGORIES else "other",
        "severity": "critical",
        "paranoia": 1,
        "view": view,
        "targets": [collection],
        "pattern": pattern,
        "message": f"virtual patch ({origin} on {service}, {scope or collection})"[:300],
        "match": [text],
        "tags": ["patch", origin],
    }
    try:
        rule = _parse_rule(raw, f"patch:{origin}")
    except RuleError as exc:
        raise PatchError(str(exc)) from exc
    return Candidate(rule, raw, scope, text)


_BENIGN_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _load_benign() -> tuple[tuple[str, Request], ...]:
    return tuple((record.id, record.request) for record in read_corpus(BENIGN))


def benign_requests() -> tuple[tuple[str, Request], ...]:
    """Siren's benign set, read once. Thread-safe: a caller that arrives while another thread
    (the brain's warm-up at start) is reading it waits for that read instead of starting a second."""
    with _BENIGN_LOCK:
        return _load_benign()


def _fires(engine: Engine, rule_id: str, request: Request, scope: str | None) -> bool:
    return any(f.rule_id == rule_id and (scope is None or f.target == scope) for f in engine.inspect(request).findings)


def validate(candidate: Candidate, triggers: list[Request]) -> None:
    """Raise :class:`PatchError` unless the rule matches one of ``triggers`` (in its scope) and
    no benign request (anywhere)."""
    try:
        engine = Engine.create(builtin=False, extra_rules=[candidate.rule], policy=Policy(paranoia=4, threshold=1), use_cache=False)
    except RuleError as exc:
        raise PatchError(str(exc)) from exc
    rid = candidate.rule.id
    if not any(_fires(engine, rid, r, candidate.scope_target) for r in triggers):
        raise PatchError(f"rule {rid} does not match the triggering request in {candidate.scope_target or 'its target'}")
    for record_id, request in benign_requests():
        if _fires(engine, rid, request, None):
            raise PatchError(f"rule {rid} matches benign request {record_id}: the fragment is not specific to the attack")


# -- rebuilding the triggering request -------------------------------------------------------

_BASE = (("Host", "localhost"), ("User-Agent", "siren-patch-validation"))
_JSON_PATH = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _json_doc(path: str, value: str) -> Any:
    parts: list[str | int] = []
    for m in _JSON_PATH.finditer(path):
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
    node: Any = value
    for part in reversed(parts):
        if isinstance(part, int):
            node = [None] * part + [node]
        else:
            node = {part: node}
    return node


def request_for(target: str, fragment: str) -> Request | None:
    """A request carrying ``fragment`` where ``target`` names (``None`` if it cannot be built)."""
    kind, _, name = target.partition(":")
    name = name.split("|", 1)[0]
    if kind == "ARGS" and name:
        return Request("GET", f"/?{quote(name, safe='')}={quote(fragment, safe='')}", _BASE)
    if kind == "JSON" and name:
        body = orjson.dumps(_json_doc(name, fragment))
        return Request("POST", "/", (*_BASE, ("Content-Type", "application/json"), ("Content-Length", str(len(body)))), body)
    if kind == "COOKIE" and name:
        return Request("GET", "/", (*_BASE, ("Cookie", f"{name}={quote(fragment, safe='')}")))
    if kind == "HEADER" and name and "\r" not in fragment and "\n" not in fragment:
        return Request("GET", "/", (*_BASE, (name, fragment)))
    if kind in ("PATH", "PATH_SEGMENT"):
        return Request("GET", "/" + quote(fragment, safe=""), _BASE)
    if kind == "BODY":
        body = fragment.encode("utf-8")
        return Request("POST", "/", (*_BASE, ("Content-Type", "text/plain"), ("Content-Length", str(len(body)))), body)
    return None


def request_from_sample(sample: Sample, client: str = "") -> Request:
    body = sample.body.encode("utf-8")
    return Request(sample.method, sample.target, tuple(sample.headers), body, client=client)
