"""``siren brain --listen HOST:PORT [--db URL]``: run the control plane.

The database is migrated at start; a SQLite file under the data folder by default, PostgreSQL
with ``--db postgresql://user@host/db``. The admin token comes from ``SIREN_ADMIN_TOKEN``; without
it, one is generated at first start and printed once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from siren.errors import ConfigError

ENV_ADMIN = "SIREN_ADMIN_TOKEN"


def default_data_dir() -> Path:
    base = os.environ.get("SIREN_DATA_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "siren"
    )
    return Path(base)


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8700")
    return host.strip("[]") or "127.0.0.1", int(port)


def cmd_brain(args: argparse.Namespace) -> int:
    import uvicorn

    from siren.brain.api import ApiConfig, create_app
    from siren.brain.core import Brain
    from siren.brain.jobs import JobRunner
    from siren.brain.store import Store, default_url

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    host, port = parse_listen(args.listen)
    url = args.db or os.environ.get("SIREN_BRAIN_DB") or default_url(Path(args.data_dir) if args.data_dir else default_data_dir())
    store = Store.open(url)
    brain = Brain(store, admin_token=os.environ.get(ENV_ADMIN) or None, jobs=JobRunner("thread"))
    generated = brain.start()
    if generated:
        print(f"siren brain: admin token (shown once; keep it, or set {ENV_ADMIN}): {generated}", file=sys.stderr, flush=True)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    bound = sock.getsockname()[1]
    app = create_app(brain, ApiConfig(max_body_bytes=args.max_body, max_batch_events=args.max_batch))
    config = uvicorn.Config(
        app, log_level=args.log_level, access_log=args.access_log, timeout_graceful_shutdown=3, lifespan="on",
    )
    server = uvicorn.Server(config)
    print(f"siren brain: listening on http://{host}:{bound} (database {store.dialect}, schema {store.revision()})", flush=True)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the handler
    # it found: ours, so the brain's own cleanup runs and the exit status is 0.
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        brain.stop()
        store.close()
    return 0


class _Stopped(Exception):
    pass


def _stop(signum: int, _frame: object) -> None:
    raise _Stopped(signum)


def register(sub: Any) -> None:
    p = sub.add_parser("brain", help="run the brain: the control plane sidecars report to and pull bundles from")
    p.add_argument("--listen", default="127.0.0.1:8700", metavar="HOST:PORT", help="address to serve the API on (port 0: any free port)")
    p.add_argument("--db", default=None, metavar="URL", help="sqlite:///path or postgresql://user@host/db (default: a SQLite file in --data-dir)")
    p.add_argument("--data-dir", default=None, help="where the default SQLite database lives (default: $SIREN_DATA_DIR or ~/.local/share/siren)")
    p.add_argument("--max-body", type=int, default=8 * 1024 * 1024, metavar="BYTES", help="largest request body accepted (413 above)")
    p.add_argument("--max-batch", type=int, default=5000, metavar="N", help="most events in one POST /v1/events (413 above)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.set_defaults(func=cmd_brain)
