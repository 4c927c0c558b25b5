"""Sidecar configuration: one YAML file (optional) plus command-line overrides, validated into
frozen dataclasses. Unknown keys are errors, so a typo never silently turns a protection off.

A configuration file is never needed to protect one upstream::

    siren proxy --listen 127.0.0.1:8080 --upstream http://127.0.0.1:3000

The full shape (every key optional; see ``docs/proxy.md``)::

    listen: 127.0.0.1:8080
    admin: 127.0.0.1:9901            # /healthz /readyz /metrics; "" turns it off
    upstream: http://127.0.0.1:3000  # the default service's upstream
    service: shop                    # the default service's name
    policy: {mode: block, paranoia: 1, threshold: 5, fail_open: true,
             routes: [{prefix: /api/, mode: shadow}]}
    services:                        # more services, chosen by Host
      - {name: billing, hosts: [billing.local], upstream: http://127.0.0.1:3001, policy: {mode: shadow}}
    limits: {header_bytes: 32768, headers: 100, body_inspect_bytes: 1048576,
             body_over_limit: inspect, body_max_bytes: 0}
    timeouts: {header: 10, body: 30, idle: 60, upstream_connect: 5, upstream_read: 60,
               tunnel_idle: 3600, drain: 15}
    overload: {max_in_flight: 1024, retry_after: 1}
    upstream_pool: {max_idle: 128, idle_timeout: 4}
    engine: {rules: [], builtin: true, classifier: true}
    logging: {access_log: false, level: info}
    events: {queue: 2048}
    forwarded: append                # X-Forwarded-For: append to the client's value, or replace it
    trust_request_id: true           # keep a well-formed X-Request-Id sent by the client
    websocket: true
    brain:                           # the control plane (all optional: without it, no brain)
      url: http://127.0.0.1:8700
      token: siren_sidecar_...       # or --token, or $SIREN_SIDECAR_TOKEN
      sidecar_id: shop-1             # the id the token was enrolled for (default: the service name)
      state_dir: /var/lib/siren      # last good bundle and pinned keys (default: under $SIREN_DATA_DIR)
      trust_keys: {kid: base64-ed25519-public-key}   # pinned; else fetched at first start
      poll_timeout: 30               # long-poll length, seconds
      heartbeat_interval: 10
      flush_interval: 0.25           # longest wait before queued events are sent
      retry_max: 30                  # longest pause between retries while the brain is away
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from siren.engine import Policy
from siren.errors import ConfigError

BODY_OVER_LIMIT = ("inspect", "reject")
FORWARDED = ("append", "replace")
LOG_LEVELS = ("debug", "info", "warning", "error")
ENV_TOKEN = "SIREN_SIDECAR_TOKEN"
"""Where the sidecar token is read from when neither ``--token`` nor ``brain.token`` gives it."""
_NAME = re.compile(r"^[A-Za-z0-9._:@*-]{1,128}$")


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Limits:
    header_bytes: int = 32_768
    """Request line plus header section; more is answered 431."""
    headers: int = 100
    """Header fields; more is answered 431."""
    body_inspect_bytes: int = 1_048_576
    """Body bytes buffered and inspected before anything reaches the upstream."""
    body_over_limit: str = "inspect"
    """Past ``body_inspect_bytes``: ``inspect`` the first bytes and stream the rest, or ``reject`` (413)."""
    body_max_bytes: int = 0
    """Largest body accepted at all (413 beyond); 0 = no cap."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    header: float = 10.0
    """From the first byte of a request to the end of its header section."""
    body: float = 30.0
    """Longest pause while a request body is being received."""
    idle: float = 60.0
    """A kept-alive client connection with no request, or a client that stops reading."""
    upstream_connect: float = 5.0
    upstream_read: float = 60.0
    """Longest pause while waiting for (or reading) the upstream's response."""
    tunnel_idle: float = 3600.0
    """An upgraded (WebSocket) connection with no traffic either way."""
    drain: float = 15.0
    """Graceful shutdown: how long in-flight requests may take to finish."""


@dataclass(frozen=True, slots=True)
class Service:
    """One protected service: its name, the Host values that select it, its upstream and policy."""

    name: str
    upstream: Address | None
    """``None`` for ``siren authz``, which forwards nothing."""
    policy: Policy
    hosts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BrainSettings:
    """How the sidecar talks to the brain (``brain:`` in the file, ``--brain`` and friends)."""

    url: str
    token: str = field(repr=False)
    sidecar_id: str
    state_dir: str
    """The last good bundle and the pinned keys are kept here."""
    trust_keys: tuple[tuple[str, str], ...] = ()
    """``(kid, base64 Ed25519 public key)`` pinned by configuration; empty: fetched at first start."""
    poll_timeout: float = 30.0
    heartbeat_interval: float = 10.0
    flush_interval: float = 0.25
    retry_max: float = 30.0


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    listen: Address = Address("127.0.0.1", 8080)
    admin: Address | None = Address("127.0.0.1", 9901)
    services: tuple[Service, ...] = (Service("default", None, Policy()),)
    """The first is the default service (requests whose Host selects no other)."""
    limits: Limits = field(default_factory=Limits)
    timeouts: Timeouts = field(default_factory=Timeouts)
    max_in_flight: int = 1024
    retry_after: int = 1
    pool_max_idle: int = 128
    pool_idle_timeout: float = 4.0
    rules: tuple[str, ...] = ()
    builtin: bool = True
    classifier: bool = True
    access_log: bool = False
    log_level: str = "info"
    event_queue: int = 2048
    forwarded: str = "append"
    trust_request_id: bool = True
    websocket: bool = True
    workers: int = 1
    brain: BrainSettings | None = None
    """``None``: no brain; the sidecar enforces its local configuration only."""
    source: str = ""
    """The file this came from (for reloads), or empty."""

    @property
    def default_service(self) -> Service:
        return self.services[0]


def parse_address(text: str, *, what: str = "address") -> Address:
    """``HOST:PORT``, ``[v6]:PORT`` or ``:PORT`` (loopback)."""
    text = text.strip()
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{what} must be HOST:PORT, got {text!r}")
    return Address(host or "127.0.0.1", int(port))


def parse_upstream(text: str) -> Address:
    parts = urlsplit(text if "://" in text else f"http://{text}")
    if parts.scheme != "http":
        raise ConfigError(f"upstream must be an http:// URL (TLS to the upstream is not supported), got {text!r}")
    if not parts.hostname:
        raise ConfigError(f"upstream URL has no host: {text!r}")
    if parts.path not in ("", "/") or parts.query:
        raise ConfigError(f"upstream URL must not have a path or query: {text!r}")
    try:
        port = parts.port or 80
    except ValueError as exc:
        raise ConfigError(f"upstream URL has an invalid port: {text!r}") from exc
    return Address(parts.hostname, port)


_TOP_KEYS = {
    "listen", "admin", "upstream", "service", "policy", "services", "limits", "timeouts", "overload",
    "upstream_pool", "engine", "logging", "events", "forwarded", "trust_request_id", "websocket", "workers", "brain",
}
_BRAIN_KEYS = {
    "url", "token", "sidecar_id", "state_dir", "trust_keys", "poll_timeout", "heartbeat_interval", "flush_interval", "retry_max",
}


def _section(data: Mapping[str, Any], key: str, allowed: set[str]) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a mapping")
    unknown = set(value) - allowed
    if unknown:
        raise ConfigError(f"{key}: unknown keys {sorted(unknown)} (allowed: {sorted(allowed)})")
    return value


def _number(section: str, key: str, value: Any, *, minimum: float = 0, integer: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        raise ConfigError(f"{section}.{key}: expected a {'whole ' if integer else ''}number, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{section}.{key}: must be >= {minimum}, got {value!r}")
    return value


def _policy(data: Any, where: str) -> Policy:
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping")
    try:
        return Policy.from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def default_state_dir(sidecar_id: str) -> str:
    """``$SIREN_DATA_DIR/sidecars/<id>`` (default ``~/.local/share/siren/sidecars/<id>``)."""
    base = os.environ.get("SIREN_DATA_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "siren"
    )
    return os.path.join(base, "sidecars", sidecar_id)


def parse_trust_key(text: str) -> tuple[str, str]:
    """``KID=BASE64`` (the base64 raw Ed25519 public key, as ``GET /v1/keys`` lists it)."""
    kid, sep, key = text.strip().partition("=")
    if not sep or not kid:
        raise ConfigError(f"trust key must be KID=BASE64, got {text!r}")
    return _trust_key(kid, key)


def _trust_key(kid: str, key: str) -> tuple[str, str]:
    kid, key = kid.strip(), key.strip()
    if not _NAME.match(kid):
        raise ConfigError(f"trust key id {kid!r}: letters, digits and ._:@- only")
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ConfigError(f"trust key {kid}: not a base64 Ed25519 public key (32 bytes)")
    return kid, key


def _brain(data: Any, default_service: str) -> BrainSettings | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ConfigError("brain: expected a mapping")
    unknown = set(data) - _BRAIN_KEYS
    if unknown:
        raise ConfigError(f"brain: unknown keys {sorted(unknown)} (allowed: {sorted(_BRAIN_KEYS)})")
    if not data.get("url"):
        if set(data) - {"token"}:
            raise ConfigError("brain.url: required when the brain section is given (--brain URL)")
        raise ConfigError("a sidecar token needs a brain: give --brain URL or 'brain: {url: ...}'")
    url = str(data["url"]).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ConfigError(f"brain.url must be an http:// or https:// URL, got {url!r}")
    token = str(data.get("token") or os.environ.get(ENV_TOKEN) or "")
    if not token:
        raise ConfigError(f"brain.token: no sidecar token (give --token, set {ENV_TOKEN}, or 'brain: {{token: ...}}')")
    sidecar_id = str(data.get("sidecar_id") or default_service)
    if not _NAME.match(sidecar_id):
        raise ConfigError(f"brain.sidecar_id {sidecar_id!r}: letters, digits and ._:@- only")
    keys = data.get("trust_keys") or {}
    if isinstance(keys, dict):
        trust = tuple(_trust_key(str(k), str(v)) for k, v in keys.items())
    elif isinstance(keys, list):
        trust = tuple(parse_trust_key(str(k)) for k in keys)
    else:
        raise ConfigError("brain.trust_keys: expected a mapping {kid: key} or a list of KID=KEY")
    return BrainSettings(
        url=url,
        token=token,
        sidecar_id=sidecar_id,
        state_dir=str(data.get("state_dir") or default_state_dir(sidecar_id)),
        trust_keys=tuple(dict(trust).items()),
        poll_timeout=float(_number("brain", "poll_timeout", data.get("poll_timeout", 30.0), minimum=0.1)),
        heartbeat_interval=float(_number("brain", "heartbeat_interval", data.get("heartbeat_interval", 10.0), minimum=0.1)),
        flush_interval=float(_number("brain", "flush_interval", data.get("flush_interval", 0.25), minimum=0.001)),
        retry_max=float(_number("brain", "retry_max", data.get("retry_max", 30.0), minimum=0.1)),
    )


def config_from_dict(data: Mapping[str, Any], *, source: str = "") -> ProxyConfig:
    """Validate configuration data; raises :class:`ConfigError` naming the key at fault."""
    if not isinstance(data, Mapping):
        raise ConfigError("the configuration must be a mapping")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)} (allowed: {sorted(_TOP_KEYS)})")
    cfg = ProxyConfig(source=source)
    if "listen" in data:
        cfg = replace(cfg, listen=parse_address(str(data["listen"]), what="listen"))
    if "admin" in data:
        admin = data["admin"]
        cfg = replace(cfg, admin=parse_address(str(admin), what="admin") if admin else None)

    upstream = parse_upstream(str(data["upstream"])) if data.get("upstream") else None
    services = [Service(str(data.get("service") or "default"), upstream, _policy(data.get("policy"), "policy"))]
    extra = data.get("services") or []
    if not isinstance(extra, list):
        raise ConfigError("services: expected a list")
    for n, item in enumerate(extra):
        where = f"services[{n}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected a mapping")
        bad = set(item) - {"name", "hosts", "upstream", "policy"}
        if bad:
            raise ConfigError(f"{where}: unknown keys {sorted(bad)}")
        if "name" not in item or "upstream" not in item:
            raise ConfigError(f"{where}: 'name' and 'upstream' are required")
        hosts = item.get("hosts") or []
        if not isinstance(hosts, list):
            raise ConfigError(f"{where}.hosts: expected a list")
        services.append(
            Service(
                str(item["name"]),
                parse_upstream(str(item["upstream"])),
                _policy(item.get("policy"), f"{where}.policy"),
                tuple(str(h).lower() for h in hosts),
            )
        )
    names = [s.name for s in services]
    if len(set(names)) != len(names):
        raise ConfigError(f"service names must be unique: {names}")
    cfg = replace(cfg, services=tuple(services))

    lim = _section(data, "limits", {"header_bytes", "headers", "body_inspect_bytes", "body_over_limit", "body_max_bytes"})
    d = Limits()
    limits = Limits(
        header_bytes=_number("limits", "header_bytes", lim.get("header_bytes", d.header_bytes), minimum=256, integer=True),
        headers=_number("limits", "headers", lim.get("headers", d.headers), minimum=1, integer=True),
        body_inspect_bytes=_number(
            "limits", "body_inspect_bytes", lim.get("body_inspect_bytes", d.body_inspect_bytes), minimum=0, integer=True
        ),
        body_over_limit=str(lim.get("body_over_limit", d.body_over_limit)),
        body_max_bytes=_number("limits", "body_max_bytes", lim.get("body_max_bytes", d.body_max_bytes), minimum=0, integer=True),
    )
    if limits.body_over_limit not in BODY_OVER_LIMIT:
        raise ConfigError(f"limits.body_over_limit must be one of {BODY_OVER_LIMIT}, got {limits.body_over_limit!r}")

    tmo = _section(data, "timeouts", set(Timeouts.__dataclass_fields__))
    defaults = Timeouts()
    timeouts = Timeouts(**{k: float(_number("timeouts", k, tmo.get(k, getattr(defaults, k)), minimum=0.001)) for k in Timeouts.__dataclass_fields__})

    over = _section(data, "overload", {"max_in_flight", "retry_after"})
    pool = _section(data, "upstream_pool", {"max_idle", "idle_timeout"})
    eng = _section(data, "engine", {"rules", "builtin", "classifier"})
    logs = _section(data, "logging", {"access_log", "level"})
    events = _section(data, "events", {"queue"})
    rules = eng.get("rules") or []
    if not isinstance(rules, list):
        raise ConfigError("engine.rules: expected a list of paths")
    forwarded = str(data.get("forwarded", "append"))
    if forwarded not in FORWARDED:
        raise ConfigError(f"forwarded must be one of {FORWARDED}, got {forwarded!r}")
    level = str(logs.get("level", "info"))
    if level not in LOG_LEVELS:
        raise ConfigError(f"logging.level must be one of {LOG_LEVELS}, got {level!r}")
    return replace(
        cfg,
        limits=limits,
        timeouts=timeouts,
        max_in_flight=_number("overload", "max_in_flight", over.get("max_in_flight", 1024), minimum=1, integer=True),
        retry_after=_number("overload", "retry_after", over.get("retry_after", 1), minimum=0, integer=True),
        pool_max_idle=_number("upstream_pool", "max_idle", pool.get("max_idle", 128), minimum=0, integer=True),
        pool_idle_timeout=float(_number("upstream_pool", "idle_timeout", pool.get("idle_timeout", 4.0), minimum=0.001)),
        rules=tuple(str(r) for r in rules),
        builtin=bool(eng.get("builtin", True)),
        classifier=bool(eng.get("classifier", True)),
        access_log=bool(logs.get("access_log", False)),
        log_level=level,
        event_queue=_number("events", "queue", events.get("queue", 2048), minimum=0, integer=True),
        forwarded=forwarded,
        trust_request_id=bool(data.get("trust_request_id", True)),
        websocket=bool(data.get("websocket", True)),
        workers=_number("workers", "workers", data.get("workers", 1), minimum=1, integer=True),
        brain=_brain(data.get("brain"), cfg.default_service.name),
    )


def read_config_file(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return data


def load_config(path: str | None = None, overrides: Mapping[str, Any] | None = None, *, require_upstream: bool = True) -> ProxyConfig:
    """The file at ``path`` (if any) with ``overrides`` (command-line values) applied on top.

    Overrides use the file's top-level keys; ``mode``, ``paranoia`` and ``threshold`` set the
    default service's policy; ``access_log`` and ``fail_open`` reach into their sections;
    ``brain.KEY`` sets ``KEY`` of the ``brain`` section (``brain.trust_keys`` adds to the file's)."""
    data: dict[str, Any] = read_config_file(path) if path else {}
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key in ("mode", "paranoia", "threshold", "fail_open"):
            policy = dict(data.get("policy") or {})
            policy[key] = value
            data["policy"] = policy
        elif key == "access_log":
            data["logging"] = {**(data.get("logging") or {}), "access_log": value}
        elif key in ("rules", "builtin", "classifier"):
            data["engine"] = {**(data.get("engine") or {}), key: value}
        elif key.startswith("brain."):
            section = data.get("brain")
            brain = dict(section) if isinstance(section, dict) else {}
            name = key.removeprefix("brain.")
            if name == "trust_keys":
                known = brain.get("trust_keys") or {}
                pairs: dict[str, Any] = {}
                if isinstance(known, list):
                    pairs.update(parse_trust_key(str(k)) for k in known)
                elif isinstance(known, dict):
                    pairs.update(known)
                pairs.update(parse_trust_key(str(k)) for k in value)
                value = pairs
            brain[name] = value
            data["brain"] = brain
        else:
            data[key] = value
    cfg = config_from_dict(data, source=path or "")
    if require_upstream and cfg.default_service.upstream is None:
        raise ConfigError("no upstream: give --upstream URL or 'upstream:' in the configuration file")
    return cfg
