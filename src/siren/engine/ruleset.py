"""Rules as data: load and validate YAML rule files, and compile them into one hyperscan
database per view. Compiled databases are cached on disk by content hash, because a large
database takes seconds to compile and milliseconds to load.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hyperscan
import yaml

from siren.engine.views import VIEWS
from siren.errors import RuleError

SEVERITY_SCORES = {"critical": 5, "error": 4, "warning": 3, "notice": 2}
COLLECTIONS = frozenset(
    {"ARGS", "ARGS_NAMES", "PATH", "PATH_SEGMENTS", "COOKIES", "COOKIE_NAMES", "HEADERS", "FILES", "FILE_NAMES", "BODY", "XML"}
)
CATEGORIES = frozenset(
    {"sqli", "xss", "rce", "lfi", "rfi", "ssrf", "ssti", "xxe", "nosqli", "ldapi", "log4shell", "crlf", "scanner",
     "protocol", "java", "php", "deserialization", "shellshock", "other"}
)
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{2,80}$")
_KEYS = {"id", "category", "severity", "paranoia", "view", "targets", "pattern", "message", "match", "no_match", "tags"}


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    severity: str
    paranoia: int
    view: str
    targets: frozenset[str]
    """Collections (``ARGS``) or single headers (``HEADERS:user-agent``, lower-cased)."""
    pattern: str
    message: str
    match: tuple[Any, ...] = ()
    no_match: tuple[Any, ...] = ()
    source: str = ""

    @property
    def score(self) -> int:
        return SEVERITY_SCORES[self.severity]

    def applies_to(self, collection: str, name: str) -> bool:
        if collection in self.targets:
            return True
        if collection == "HEADERS" and name.startswith("HEADER:"):
            return f"HEADERS:{name[7:].lower()}" in self.targets
        return False


def _parse_rule(raw: Any, source: str) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(f"{source}: each rule must be a mapping, got {type(raw).__name__}")
    unknown = set(raw) - _KEYS
    rid = str(raw.get("id", "?"))
    if unknown:
        raise RuleError(f"{source}: rule {rid}: unknown keys {sorted(unknown)}")
    for key in ("id", "category", "pattern", "targets"):
        if key not in raw:
            raise RuleError(f"{source}: rule {rid}: missing '{key}'")
    if not _ID.match(rid):
        raise RuleError(f"{source}: rule id {rid!r} must be lower-case letters, digits, '.', '_' or '-'")
    category = str(raw["category"])
    if category not in CATEGORIES:
        raise RuleError(f"{source}: rule {rid}: unknown category {category!r}")
    severity = str(raw.get("severity", "critical"))
    if severity not in SEVERITY_SCORES:
        raise RuleError(f"{source}: rule {rid}: severity must be one of {sorted(SEVERITY_SCORES)}")
    view = str(raw.get("view", "decoded"))
    if view not in VIEWS:
        raise RuleError(f"{source}: rule {rid}: unknown view {view!r} (known: {sorted(VIEWS)})")
    paranoia = raw.get("paranoia", 1)
    if not isinstance(paranoia, int) or not 1 <= paranoia <= 4:
        raise RuleError(f"{source}: rule {rid}: paranoia must be 1..4")
    targets = raw["targets"]
    if isinstance(targets, str):
        targets = [targets]
    norm: set[str] = set()
    for t in targets:
        t = str(t)
        if t.upper().startswith("HEADERS:"):
            norm.add("HEADERS:" + t.split(":", 1)[1].lower())
        elif t in COLLECTIONS:
            norm.add(t)
        else:
            raise RuleError(f"{source}: rule {rid}: unknown target {t!r} (known: {sorted(COLLECTIONS)} or HEADERS:Name)")
    pattern = str(raw["pattern"])
    try:
        re.compile(pattern)
    except re.error as exc:
        raise RuleError(f"{source}: rule {rid}: pattern does not compile: {exc}") from exc
    match = raw.get("match", []) or []
    no_match = raw.get("no_match", []) or []
    if not isinstance(match, list) or not isinstance(no_match, list):
        raise RuleError(f"{source}: rule {rid}: match and no_match must be lists")
    return Rule(
        id=rid, category=category, severity=severity, paranoia=paranoia, view=view,
        targets=frozenset(norm), pattern=pattern, message=str(raw.get("message", rid)),
        match=tuple(match), no_match=tuple(no_match), source=source,
    )


def load_rules(paths: list[Path]) -> list[Rule]:
    """Load every ``*.yaml`` file under ``paths`` (files or folders); ids must be unique."""
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.y*ml") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise RuleError(f"{path}: no such rule file or folder")
    for file in files:
        try:
            doc = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise RuleError(f"{file}: not valid YAML: {exc}") from exc
        if doc is None:
            continue
        items = doc.get("rules") if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise RuleError(f"{file}: expected a list of rules (or a mapping with 'rules:')")
        for raw in items:
            rule = _parse_rule(raw, str(file))
            if rule.id in seen:
                raise RuleError(f"{file}: duplicate rule id {rule.id} (first in {seen[rule.id]})")
            seen[rule.id] = str(file)
            rules.append(rule)
    return rules


def builtin_rule_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "rules"


@dataclass(slots=True)
class CompiledView:
    view: str
    rules: list[Rule]
    database: Any
    som: list[bool]
    """Whether the rule at each index reports a start offset."""
    prefilter: Any = None
    """The same rules compiled without start-of-match tracking (several times smaller and faster
    to scan), or ``None`` when no rule of the view has a start offset. Both databases report the
    same (rule, end offset) matches, so a view whose prefilter scan finds no match that could
    become a finding need not be scanned with ``database`` (see the signature detector)."""


@dataclass(slots=True)
class Ruleset:
    rules: list[Rule]
    views: dict[str, CompiledView] = field(default_factory=dict)
    digest: str = ""


_FLAGS = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_DOTALL


def _cache_dir() -> Path:
    base = os.environ.get("SIREN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "siren"
    )
    return Path(base)


def _compile(rules: list[Rule], som: list[bool]) -> Any:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    flags = [_FLAGS | (hyperscan.HS_FLAG_SOM_LEFTMOST if s else 0) for s in som]
    db.compile(
        expressions=[r.pattern.encode("utf-8") for r in rules],
        ids=list(range(len(rules))),
        elements=len(rules),
        flags=flags,
    )
    return db


def _som_ok(rule: Rule) -> bool:
    try:
        _compile([rule], [True])
        return True
    except hyperscan.error:
        return False


def compile_ruleset(rules: list[Rule], *, paranoia: int = 4, use_cache: bool = True) -> Ruleset:
    """Compile the rules up to ``paranoia`` into one database per view."""
    active = [r for r in rules if r.paranoia <= paranoia]
    h = hashlib.sha256(hyperscan.__version__.encode() if hasattr(hyperscan, "__version__") else b"hs")
    for r in active:
        h.update(f"{r.id}\0{r.view}\0{r.pattern}\n".encode())
    digest = h.hexdigest()[:24]
    ruleset = Ruleset(rules=active, digest=digest)
    by_view: dict[str, list[Rule]] = {}
    for r in active:
        by_view.setdefault(r.view, []).append(r)
    cache = _cache_dir()
    for view, vrules in sorted(by_view.items()):
        vh = hashlib.sha256((digest + view).encode()).hexdigest()[:24]
        path = cache / f"hs-{vh}.db"
        som_path = cache / f"hs-{vh}.som"
        db = None
        som: list[bool] = []
        if use_cache and path.exists() and som_path.exists():
            try:
                db = hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
                som = [c == "1" for c in som_path.read_text()]
                if len(som) != len(vrules):
                    db = None
            except (hyperscan.error, OSError):
                db = None
        if db is None:
            for r in vrules:
                try:
                    _compile([r], [False])
                except hyperscan.error as exc:
                    raise RuleError(f"{r.source}: rule {r.id}: hyperscan rejects the pattern: {exc}") from exc
            som = [_som_ok(r) for r in vrules]
            db = _compile(vrules, som)
            if use_cache:
                try:
                    cache.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(f".tmp{os.getpid()}")
                    tmp.write_bytes(hyperscan.dumpb(db))
                    os.replace(tmp, path)
                    som_path.write_text("".join("1" if s else "0" for s in som))
                except OSError:
                    pass
        db.scratch = hyperscan.Scratch(db)
        prefilter = _prefilter(vrules, som, cache / f"hs-{vh}.pre.db" if use_cache else None)
        ruleset.views[view] = CompiledView(view, vrules, db, som, prefilter)
    return ruleset


def _prefilter(rules: list[Rule], som: list[bool], path: Path | None) -> Any:
    """The view's rules compiled without start offsets (cached on disk like the main database),
    or ``None`` when no rule has a start offset (the main database is then the same thing)."""
    if not any(som):
        return None
    db = None
    if path is not None and path.exists():
        try:
            db = hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
        except (hyperscan.error, OSError):
            db = None
    if db is None:
        db = _compile(rules, [False] * len(rules))
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                tmp.write_bytes(hyperscan.dumpb(db))
                os.replace(tmp, path)
            except OSError:
                pass
    db.scratch = hyperscan.Scratch(db)
    return db
