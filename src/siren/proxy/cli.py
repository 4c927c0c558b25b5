"""``siren proxy`` and ``siren authz``: registered into ``siren``'s command line by
``siren.cli`` (which calls :func:`register`)."""

from __future__ import annotations

import argparse
from typing import Any

from siren.errors import ConfigError
from siren.proxy.config import ENV_TOKEN


def _common(p: argparse.ArgumentParser, *, listen: str, admin: str) -> None:
    p.add_argument("--listen", default=None, metavar="HOST:PORT", help=f"where to accept requests (default {listen})")
    p.add_argument("--config", default=None, metavar="FILE", help="YAML configuration (reloaded on SIGHUP)")
    p.add_argument("--admin", default=None, metavar="HOST:PORT",
                   help=f"admin port for /healthz /readyz /metrics (default {admin}; '' turns it off)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="worker processes sharing the port (default 1)")
    p.add_argument("--mode", choices=["block", "shadow", "off"], default=None, help="the default service's mode")
    p.add_argument("--paranoia", type=int, choices=[1, 2, 3, 4], default=None)
    p.add_argument("--threshold", type=int, default=None)
    p.add_argument("--fail-closed", action="store_true", help="block when the engine fails (default: fail open)")
    p.add_argument("--rules", action="append", default=None, metavar="PATH", help="extra rule file or folder (repeatable)")
    p.add_argument("--no-builtin", action="store_true", help="only the --rules given: no built-in rules, libinjection or classifier")
    p.add_argument("--no-classifier", action="store_true", help="leave the learned classifier out")
    p.add_argument("--access-log", action="store_true", help="one JSON line per request")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default=None)
    p.add_argument("--service", default=None, metavar="NAME", help="the default service's name (events, heartbeats, bundles)")
    brain = p.add_argument_group("brain", "report to a brain and enforce its signed bundles (all optional)")
    brain.add_argument("--brain", default=None, metavar="URL", help="the brain's URL, e.g. http://127.0.0.1:8700")
    brain.add_argument("--token", default=None, metavar="TOKEN", help=f"this sidecar's token (default: ${ENV_TOKEN})")
    brain.add_argument("--sidecar-id", default=None, metavar="ID", help="the id the token was enrolled for (default: the service name)")
    brain.add_argument("--state-dir", default=None, metavar="DIR",
                       help="where the last good bundle and pinned keys are kept (default: under $SIREN_DATA_DIR)")
    brain.add_argument("--trust-key", action="append", default=None, metavar="KID=KEY",
                       help="pin a bundle signing key (base64 Ed25519, from GET /v1/keys; repeatable); "
                       "without it the keys are fetched at the first start and pinned")


def _overrides(args: argparse.Namespace, *, listen: str, admin: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "listen": args.listen,
        "admin": args.admin,
        "workers": args.workers,
        "mode": args.mode,
        "paranoia": args.paranoia,
        "threshold": args.threshold,
        "fail_open": False if args.fail_closed else None,
        "rules": args.rules,
        "builtin": False if args.no_builtin else None,
        "classifier": False if args.no_classifier else None,
        "access_log": True if args.access_log else None,
        "service": args.service,
        "brain.url": args.brain,
        "brain.token": args.token,
        "brain.sidecar_id": args.sidecar_id,
        "brain.state_dir": args.state_dir,
        "brain.trust_keys": args.trust_key,
    }
    if args.log_level:
        out["logging_level"] = args.log_level
    if args.config is None:  # no file: the command line's defaults
        out["listen"] = out["listen"] or listen
        out["admin"] = admin if out["admin"] is None else out["admin"]
    return out


def _load(args: argparse.Namespace, kind: str, *, listen: str, admin: str, authz: dict[str, str] | None = None) -> int:
    from siren.proxy.runtime import Launch, run

    overrides = _overrides(args, listen=listen, admin=admin)
    level = overrides.pop("logging_level", None)
    if getattr(args, "upstream", None):
        overrides["upstream"] = args.upstream
    launch = Launch(kind=kind, overrides=overrides, authz=authz or {})
    config = launch.load(args.config)
    if level:
        from dataclasses import replace

        config = replace(config, log_level=level)
    if config.workers < 1:
        raise ConfigError("--workers must be at least 1")
    return run(config, launch)


def cmd_proxy(args: argparse.Namespace) -> int:
    return _load(args, "proxy", listen="127.0.0.1:8080", admin="127.0.0.1:9901")


def cmd_authz(args: argparse.Namespace) -> int:
    authz = {"uri_header": args.uri_header, "method_header": args.method_header, "path_prefix": args.path_prefix}
    return _load(args, "authz", listen="127.0.0.1:8081", admin="127.0.0.1:9902", authz=authz)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "proxy", help="reverse proxy that inspects every request (the sidecar)",
        description="Protect one upstream: siren proxy --listen 127.0.0.1:8080 --upstream http://127.0.0.1:3000",
    )
    _common(p, listen="127.0.0.1:8080", admin="127.0.0.1:9901")
    p.add_argument("--upstream", default=None, metavar="URL", help="http://HOST:PORT of the protected service")
    p.set_defaults(func=cmd_proxy)

    p = sub.add_parser(
        "authz", help="the same inspection as a decision service (nginx auth_request, Envoy ext_authz)",
        description="Answer 200 (allow) or 403 (block) for the request described by each check request.",
    )
    _common(p, listen="127.0.0.1:8081", admin="127.0.0.1:9902")
    p.add_argument("--uri-header", default="X-Original-URI", help="nginx: header holding the original URI")
    p.add_argument("--method-header", default="X-Original-Method", help="nginx: header holding the original method")
    p.add_argument("--path-prefix", default="", help="Envoy: path_prefix configured in ext_authz, removed before inspection")
    p.set_defaults(func=cmd_authz)
