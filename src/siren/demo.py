"""``siren demo``: Siren's main job, end to end, on one machine, in about a minute.

Everything listens on 127.0.0.1 ephemeral ports and is a real process talking over real sockets:

- a small shop app (in this process, a threaded HTTP server) with a vulnerability of its own:
  ``GET /api/reports?view=internal.<name>`` serves internal reports (customer data) to anyone;
- ``siren brain`` (a temporary SQLite database, an admin token generated for the run, patches
  auto-approved once validated);
- two ``siren proxy`` sidecars in front of the app, ``service-a`` and ``service-b``, each enrolled
  with its own sidecar token and pinned to the brain's signing key.

Service A's owners know the app's weak spot and gave their sidecar a custom rule for it (through
the brain, scoped to service A). Nothing in the built-in rules knows it, so B lets it through.
Then: benign traffic to both; an attack campaign at A, which A blocks with its custom rule and
reports; the brain turns the first event into a virtual patch (a literal signature scoped to the
parameter, validated against the attack and Siren's benign set), approves it by policy, publishes
a new signed bundle and wakes every sidecar's long-poll; B verifies and swaps it in and blocks
the same campaign. **Time to immunity** is the first attack request on A → B blocking it,
measured from here by a probe sent to B each time B reports a new bundle.

The run is bounded (``--timeout``), stops every process it started and removes its temporary
folder, and exits 1 if B did not become immune (or blocked benign traffic).
The building blocks (:class:`DemoApp`, :class:`Fleet`) are reused by the end-to-end tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import httpx

from siren.errors import SirenError

SERVICE_A = "service-a"
SERVICE_B = "service-b"
TARGET_SECONDS = 2.0
"""The time-to-immunity budget on one machine."""

CUSTOM_RULE: dict[str, Any] = {
    "id": "shop.report-internal-view",
    "category": "other",
    "severity": "critical",
    "view": "decoded",
    "targets": ["ARGS"],
    "pattern": r"\x00internal\.[a-z_]+\x00",
    "message": "internal report view requested from outside (shop app, reports module)",
    "match": ["internal.all_customers"],
    "no_match": ["monthly", "internal", "internal reports"],
}
"""Service A's own rule: the shop app's report module serves ``internal.*`` views to anyone."""

EXPLOIT = "internal.customers_full_export"
CAMPAIGN = tuple(
    f"/api/reports?view={EXPLOIT}&{extra}" for extra in ("format=csv", "format=json", "page=1", "page=2", "format=xlsx")
)
"""The attack campaign: the same exploit with a few variations in the other parameters."""
PROBE = f"/api/reports?view={EXPLOIT}&probe=1"

JSON = (("Accept", "application/json"),)
BENIGN: tuple[tuple[str, str, bytes, tuple[tuple[str, str], ...]], ...] = (
    ("GET", "/", b"", ()),
    ("GET", "/api/products?q=running+shoes&page=2", b"", JSON),
    ("GET", "/api/products?q=o%27neill+rain+jacket&sort=price", b"", JSON),
    ("GET", "/api/products?q=select+a+size&category=shoes%2Fwomen", b"", JSON),
    ("POST", "/api/cart", b'{"sku": "SKU-1042", "qty": 2, "note": "gift wrap, please - it\'s for my mum\'s 60th!"}',
     (("Content-Type", "application/json"), *JSON)),
    ("POST", "/api/cart", b"sku=SKU-77&qty=1", (("Content-Type", "application/x-www-form-urlencoded"),)),
    ("GET", "/api/reports?view=monthly&format=csv", b"", JSON),
    ("GET", "/api/reports?view=weekly", b"", JSON),
    ("GET", "/api/reports?view=internal", b"", JSON),
    ("GET", "/static/app.js", b"", ()),
)
"""What the shop's customers do (none of it may be blocked)."""

WARM = "from siren.engine import Engine\nEngine.create(classifier=False)\n"
STOP_SECONDS = 15.0
HTTP_TIMEOUT = 10.0


class DemoError(SirenError):
    pass


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def check(self, what: str) -> None:
        if self.remaining() <= 0:
            raise DemoError(f"gave up after {self.seconds:g} s: {what}")


# -- the protected app ----------------------------------------------------------------------------


class _ShopHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DemoApp

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, doc: Any) -> None:
        self._send(status, json.dumps(doc).encode())

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        self.server.count("requests")
        if parts.path == "/":
            self._send(200, b"<!doctype html><title>Siren demo shop</title><h1>Shop</h1>", "text/html")
        elif parts.path == "/api/products":
            q = query.get("q", [""])[0]
            self._json(200, {"query": q, "products": [{"sku": "SKU-1042", "name": "Trail runner", "price": 89.0}]})
        elif parts.path == "/api/reports":
            view = query.get("view", ["monthly"])[0]
            if view.startswith("internal."):  # the app's bug: internal views are served to anyone
                self.server.count("leaks")
                rows = [{"customer": f"c-{i}", "email": f"customer{i}@example.com", "card_last4": f"{1000 + i}"} for i in range(3)]
                self._json(200, {"view": view, "rows": rows})
            else:
                self._json(200, {"view": view, "total": 1234.5})
        elif parts.path.startswith("/static/"):
            self._send(200, b"console.log('shop');", "application/javascript")
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        self.server.count("requests")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if urlsplit(self.path).path == "/api/cart":
            self._json(200, {"added": True, "bytes": len(body)})
        else:
            self._json(404, {"error": "not found"})

    def log_message(self, format: str, *args: Any) -> None:
        return None


class DemoApp(ThreadingHTTPServer):
    """The shop: ``/``, ``/api/products?q=``, ``POST /api/cart``, ``/api/reports?view=`` (with the
    bug), ``/static/*``. Counts requests and leaked internal reports."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ShopHandler)
        self.counts: dict[str, int] = {"requests": 0, "leaks": 0}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="siren-demo-app", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(STOP_SECONDS)
            self._thread = None
        self.server_close()


# -- child processes --------------------------------------------------------------------------------


@dataclass
class Line:
    at: float
    """``time.monotonic()`` when this process read it."""
    stream: str
    text: str
    doc: dict[str, Any] | None = None
    """A JSON log line, parsed."""


class Process:
    """A ``siren ARGS`` child process (or ``python ARGS`` with ``python=True``); its output lines
    are collected by two reader threads."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], *, python: bool = False) -> None:
        self.name = name
        self.args = args
        self.lines: list[Line] = []
        self._cond = threading.Condition()
        argv = [sys.executable, *args] if python else [sys.executable, "-m", "siren.cli", *args]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._readers = [
            threading.Thread(target=self._pump, args=(stream, label), name=f"siren-demo-{name}-{label}", daemon=True)
            for stream, label in ((self.proc.stdout, "stdout"), (self.proc.stderr, "stderr"))
        ]
        for reader in self._readers:
            reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _pump(self, stream: IO[bytes], label: str) -> None:
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", "replace").rstrip("\n")
            doc = None
            if text.startswith("{"):
                with suppress(ValueError):
                    parsed = json.loads(text)
                    doc = parsed if isinstance(parsed, dict) else None
            with self._cond:
                self.lines.append(Line(time.monotonic(), label, text, doc))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait(self, match: Callable[[Line], bool], deadline: Deadline, what: str, *, start: int = 0) -> Line:
        """The first line from index ``start`` on that ``match`` accepts (bounded by ``deadline``)."""
        seen = start
        with self._cond:
            while True:
                for line in self.lines[seen:]:
                    if match(line):
                        return line
                seen = len(self.lines)
                if self.proc.poll() is not None and not any(r.is_alive() for r in self._readers):
                    raise DemoError(f"{self.name} exited ({self.proc.returncode}) before {what}:\n{self.tail()}")
                left = deadline.remaining()
                if left <= 0:
                    raise DemoError(f"{self.name}: no {what} within {deadline.seconds:g} s:\n{self.tail()}")
                self._cond.wait(min(left, 0.5))

    def event(self, name: str, deadline: Deadline, *, start: int = 0, where: Callable[[dict[str, Any]], bool] | None = None) -> Line:
        def match(line: Line) -> bool:
            return line.doc is not None and line.doc.get("event") == name and (where is None or where(line.doc))

        return self.wait(match, deadline, f"a {name!r} log line", start=start)

    def wait_exit(self, deadline: Deadline, what: str) -> int:
        try:
            return self.proc.wait(timeout=max(deadline.remaining(), 0.01))
        except subprocess.TimeoutExpired:
            raise DemoError(f"{self.name}: {what} did not finish within {deadline.seconds:g} s") from None

    def mark(self) -> int:
        with self._cond:
            return len(self.lines)

    def tail(self, n: int = 15) -> str:
        with self._cond:
            lines = self.lines[-n:]
        return "\n".join(f"  {self.name}| {line.text[:300]}" for line in lines)

    def stop(self, timeout: float = STOP_SECONDS) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; by PID, only this child."""
        if self.proc.poll() is None:
            with suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    self.proc.kill()
                with suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return self.proc.returncode


def _child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SIREN_ADMIN_TOKEN", "SIREN_SIDECAR_TOKEN")}
    env.update(extra)
    return env


@dataclass
class BrainProcess:
    process: Process
    url: str
    admin_token: str
    db: str
    port: int

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.admin_token}"}, timeout=HTTP_TIMEOUT)


def start_brain(db: str, admin_token: str, deadline: Deadline, *, port: int = 0) -> BrainProcess:
    process = Process(
        "brain", ["brain", "--listen", f"127.0.0.1:{port}", "--db", db, "--log-level", "warning"],
        _child_env(SIREN_ADMIN_TOKEN=admin_token),
    )
    try:
        line = process.wait(lambda ln: "listening on http://" in ln.text, deadline, "'listening on'")
    except BaseException:
        process.stop()
        raise
    m = re.search(r"listening on (http://127\.0\.0\.1:(\d+))", line.text)
    if m is None:
        process.stop()
        raise DemoError(f"brain: unexpected start line {line.text!r}")
    return BrainProcess(process, m.group(1), admin_token, db, int(m.group(2)))


@dataclass
class SidecarProcess:
    name: str
    service: str
    process: Process
    url: str
    admin_url: str
    args: list[str] = field(default_factory=list)

    def bundle_version(self) -> int:
        """The bundle in force, from the sidecar's own log (``bundle_applied``/``bundle_from_disk``)."""
        version = 0
        for line in list(self.process.lines):
            if line.doc is not None and line.doc.get("event") in ("bundle_applied", "bundle_from_disk"):
                version = max(version, int(line.doc.get("version") or 0))
        return version

    def wait_bundle(self, version: int, deadline: Deadline) -> Line:
        return self.process.wait(
            lambda ln: ln.doc is not None and ln.doc.get("event") in ("bundle_applied", "bundle_from_disk")
            and int(ln.doc.get("version") or 0) >= version,
            deadline, f"bundle {version} in force",
        )


def start_sidecar(
    name: str, service: str, *, upstream: str, brain_url: str, token: str, state_dir: Path, trust_keys: dict[str, str],
    deadline: Deadline, config: dict[str, Any] | None = None, workdir: Path | None = None,
) -> SidecarProcess:
    args = [
        "proxy", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--upstream", upstream, "--service", service,
        "--brain", brain_url, "--sidecar-id", name, "--state-dir", str(state_dir), "--log-level", "info",
    ]
    for kid, key in sorted(trust_keys.items()):
        args += ["--trust-key", f"{kid}={key}"]
    if config:
        path = (workdir or state_dir.parent) / f"{name}.yaml"
        path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
        args += ["--config", str(path)]
    process = Process(name, args, _child_env(SIREN_SIDECAR_TOKEN=token))
    try:
        first = process.event("listening", deadline)
    except BaseException:
        process.stop()
        raise
    assert first.doc is not None
    return SidecarProcess(name, service, process, f"http://{first.doc['listen']}", f"http://{first.doc['admin']}", args)


# -- the fleet ----------------------------------------------------------------------------------------


@dataclass
class Sent:
    status: int
    at: float


def send(client: httpx.Client, method: str, target: str, body: bytes = b"", headers: tuple[tuple[str, str], ...] = ()) -> Sent:
    response = client.request(method, target, content=body or None, headers=dict(headers))
    return Sent(response.status_code, time.monotonic())


class Fleet:
    """The app, a brain and two enrolled sidecars (``a`` and ``b``), all stopped by :meth:`close`."""

    def __init__(self, workdir: Path, deadline: Deadline, *, say: Callable[[str], None] = lambda _m: None,
                 sidecar_config: dict[str, Any] | None = None) -> None:
        self.workdir = workdir
        self.deadline = deadline
        self.say = say
        self.sidecar_config = sidecar_config
        self.app = DemoApp()
        self.brain: BrainProcess | None = None
        self.sidecars: dict[str, SidecarProcess] = {}
        self.tokens: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        self.services = {"a": SERVICE_A, "b": SERVICE_B}
        self.admin_token = "siren_demo_" + secrets.token_urlsafe(24)
        self.db = f"sqlite:///{workdir / 'brain.db'}"
        self.clients: dict[str, httpx.Client] = {}
        self.started = time.monotonic()

    # -- starting -----------------------------------------------------------------------------

    def start(self) -> None:
        self.app.start()
        self.say(f"app        {self.app.url}  (a shop: /api/products, /api/cart, /api/reports)")
        # Compile the built-in rule database once (or find it in the cache) while the brain starts,
        # rather than in both sidecars at once.
        warm = Process("rule-compiler", ["-c", WARM], _child_env(), python=True)
        try:
            brain = self.start_brain()
            self.say(f"brain      {brain.url}  (SQLite in {self.workdir}, admin token generated for this run)")
            self.setup()
            if warm.proc.poll() is None:
                self.say("           (compiling the built-in rule database: once, then it is cached)")
            if warm.wait_exit(self.deadline, "compiling the rule database") != 0:
                raise DemoError(f"compiling the rule database failed:\n{warm.tail()}")
        finally:
            warm.stop()
        for key in ("a", "b"):
            self.start_sidecar(key)
        version = self.latest_version()
        for key, sidecar in self.sidecars.items():
            sidecar.wait_bundle(version, self.deadline)
            rule = "custom rule shop.report-internal-view (from the brain)" if key == "a" else "built-in rules only"
            self.say(f"sidecar {key.upper()}  {sidecar.url} -> app  ({sidecar.service}, bundle {version}: {rule})")

    def start_brain(self, port: int = 0) -> BrainProcess:
        self.brain = start_brain(self.db, self.admin_token, self.deadline, port=port)
        return self.brain

    def admin(self) -> httpx.Client:
        if self.brain is None:
            raise DemoError("the brain is not running")
        return self.brain.admin()

    def setup(self) -> None:
        """Enrol both sidecars, pin the signing key, auto-approve validated patches, and give
        service A its custom rule."""
        with self.admin() as admin:
            for key, service in self.services.items():
                self.tokens[key] = _ok(admin.post("/v1/sidecars", json={"sidecar_id": f"sidecar-{key}", "service": service}))["token"]
            self.keys = {k["kid"]: k["public_key"] for k in _ok(admin.get("/v1/keys")) if k["status"] != "retired"}
            _ok(admin.patch("/v1/settings", json={"auto_approve": True}))
            # Every client in this demo is 127.0.0.1: keep reputation from listing the loopback address.
            _ok(admin.post("/v1/reputation/allowlist", json={"client": "127.0.0.1", "reason": "demo: every client is loopback"}))
            _ok(admin.post("/v1/rules", json={"service": SERVICE_A, "rule": CUSTOM_RULE}))

    def latest_version(self) -> int:
        with self.admin() as admin:
            return int(_ok(admin.get("/healthz"))["bundle_version"])

    def start_sidecar(self, key: str) -> SidecarProcess:
        if self.brain is None:
            raise DemoError("start the brain first")
        sidecar = start_sidecar(
            f"sidecar-{key}", self.services[key], upstream=self.app.url, brain_url=self.brain.url, token=self.tokens[key],
            state_dir=self.workdir / f"sidecar-{key}", trust_keys=self.keys, deadline=self.deadline, config=self.sidecar_config,
            workdir=self.workdir,
        )
        self.sidecars[key] = sidecar
        old = self.clients.pop(key, None)
        if old is not None:
            old.close()
        self.clients[key] = httpx.Client(base_url=sidecar.url, timeout=HTTP_TIMEOUT, headers={"User-Agent": "siren-demo/1"})
        return sidecar

    def stop_sidecar(self, key: str) -> None:
        sidecar = self.sidecars.pop(key, None)
        client = self.clients.pop(key, None)
        if client is not None:
            client.close()
        if sidecar is not None:
            sidecar.process.stop()

    def stop_brain(self) -> None:
        if self.brain is not None:
            self.brain.process.stop()

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients.clear()
        for sidecar in self.sidecars.values():
            sidecar.process.stop()
        self.stop_brain()
        self.app.stop()

    def tails(self) -> str:
        parts = [s.process.tail() for s in self.sidecars.values()]
        if self.brain is not None:
            parts.append(self.brain.process.tail())
        return "\n".join(parts)

    # -- traffic ------------------------------------------------------------------------------

    def benign(self, key: str, rounds: int = 2) -> tuple[int, int]:
        """(requests, blocked) for ``rounds`` passes over :data:`BENIGN`."""
        sent = blocked = 0
        for _ in range(rounds):
            for method, target, body, headers in BENIGN:
                self.deadline.check("benign traffic")
                result = send(self.clients[key], method, target, body, headers)
                sent += 1
                blocked += result.status == 403
        return sent, blocked

    def attack(self, key: str, targets: tuple[str, ...] = CAMPAIGN) -> list[Sent]:
        return [send(self.clients[key], "GET", t, headers=JSON) for t in targets]


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise DemoError(f"brain: {response.request.method} {response.request.url.path} answered {response.status_code}: {response.text[:300]}")
    return response.json()


# -- the demo -----------------------------------------------------------------------------------------


@dataclass
class Report:
    time_to_immunity_s: float | None = None
    immune: bool = False
    benign_requests: int = 0
    benign_blocked: int = 0
    baseline_b_status: int = 0
    attack_requests_a: int = 0
    attack_blocked_a: int = 0
    attack_requests_b: int = 0
    attack_blocked_b: int = 0
    probe_requests_b: int = 0
    leaked_reports: int = 0
    bundle_before: int = 0
    bundle_immune: int = 0
    timeline: dict[str, float] = field(default_factory=dict)
    patch: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    setup_s: float = 0.0
    total_s: float = 0.0

    @property
    def passed(self) -> bool:
        return (
            self.immune and self.attack_blocked_b == self.attack_requests_b > 0 and self.attack_blocked_a == self.attack_requests_a
            and self.benign_blocked == 0
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "time_to_immunity_s": self.time_to_immunity_s,
            "target_s": TARGET_SECONDS,
            "immune": self.immune,
            "passed": self.passed,
            "attack_requests_a": self.attack_requests_a,
            "attack_blocked_a": self.attack_blocked_a,
            "attack_requests_b": self.attack_requests_b,
            "attack_blocked_b": self.attack_blocked_b,
            "benign_requests": self.benign_requests,
            "benign_blocked": self.benign_blocked,
            "baseline_b_status": self.baseline_b_status,
            "probe_requests_b": self.probe_requests_b,
            "leaked_reports": self.leaked_reports,
            "bundle_before": self.bundle_before,
            "bundle_immune": self.bundle_immune,
            "timeline_s": self.timeline,
            "patch": self.patch,
            "evidence": self.evidence,
            "setup_s": self.setup_s,
            "total_s": self.total_s,
        }


def _newer_than(version: int) -> Callable[[dict[str, Any]], bool]:
    return lambda doc: int(doc.get("version") or 0) > version


def watch_immunity(fleet: Fleet, start: int, since: int, deadline: Deadline, report: Report) -> tuple[float, int] | None:
    """Each time B logs a new bundle (from log line ``start`` on, newer than ``since``), probe it
    with the exploit: (when the probe was blocked, the bundle) or ``None`` if never."""
    b = fleet.sidecars["b"]
    seen = since
    while deadline.remaining() > 0:
        try:
            line = b.process.event("bundle_applied", deadline, start=start, where=_newer_than(seen))
        except DemoError:
            return None
        assert line.doc is not None
        seen = int(line.doc["version"])
        result = send(fleet.clients["b"], "GET", PROBE, headers=JSON)
        report.probe_requests_b += 1
        if result.status == 403:
            return result.at, seen
    return None


def run_demo(timeout: float, say: Callable[[str], None]) -> Report:
    deadline = Deadline(timeout)
    report = Report()
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="siren-demo-"))
    fleet = Fleet(workdir, deadline, say=say, sidecar_config={"brain": {"heartbeat_interval": 2}})
    try:
        fleet.start()
        report.setup_s = round(time.monotonic() - started, 2)
        report.bundle_before = fleet.sidecars["b"].bundle_version()

        n, blocked = fleet.benign("a")
        m, blocked_b = fleet.benign("b")
        report.benign_requests, report.benign_blocked = n + m, blocked + blocked_b
        say(f"1. benign traffic         {n + m} requests to A and B: {blocked + blocked_b} blocked")

        report.baseline_b_status = send(fleet.clients["b"], "GET", f"/api/reports?view={EXPLOIT}", headers=JSON).status
        say(f"2. B before the patch     GET /api/reports?view={EXPLOIT} -> {report.baseline_b_status}"
            + ("  (the built-in rules do not know this exploit: the app leaked customer data)" if report.baseline_b_status == 200 else ""))

        mark = fleet.sidecars["b"].process.mark()
        t0, wall0 = time.monotonic(), time.time()
        results = fleet.attack("a")
        report.attack_requests_a = len(results)
        report.attack_blocked_a = sum(r.status == 403 for r in results)
        say(f"3. attack campaign on A   {len(results)} requests: {report.attack_blocked_a} blocked by A's custom rule {CUSTOM_RULE['id']}")

        immune = watch_immunity(fleet, mark, report.bundle_before, Deadline(min(30.0, max(deadline.remaining(), 0.1))), report)
        if immune is not None:
            t1, version = immune
            report.immune = True
            report.time_to_immunity_s = round(t1 - t0, 3)
            report.bundle_immune = version
            applied = fleet.sidecars["b"].process.event(
                "bundle_applied", deadline, start=mark, where=lambda d: int(d.get("version") or 0) == version
            )
            report.timeline["b_bundle_applied"] = round(applied.at - t0, 3)
            report.timeline["b_probe_blocked"] = report.time_to_immunity_s
        _describe_patch(fleet, report, wall0)
        if report.immune:
            say(f"4. the brain learns       {_learned(report)}")
            say(f"5. B is immune            bundle {report.bundle_immune} enforced by B {report.time_to_immunity_s:.3f} s after the first attack on A")
        else:
            say("4. the brain learns       no patch reached B in time")

        results = fleet.attack("b")
        report.attack_requests_b = len(results)
        report.attack_blocked_b = sum(r.status == 403 for r in results)
        say(f"6. attack campaign on B   {len(results)} requests: {report.attack_blocked_b} blocked")

        n, blocked = fleet.benign("a")
        m, blocked_b = fleet.benign("b")
        report.benign_requests += n + m
        report.benign_blocked += blocked + blocked_b
        say(f"7. benign traffic again   {n + m} requests to A and B: {blocked + blocked_b} blocked")
        report.leaked_reports = fleet.app.counts["leaks"]
    except DemoError:
        tails = fleet.tails()
        if tails:
            print(tails, file=sys.stderr)
        raise
    finally:
        fleet.close()
        shutil.rmtree(workdir, ignore_errors=True)
        report.total_s = round(time.monotonic() - started, 2)
    return report


def _describe_patch(fleet: Fleet, report: Report, wall0: float) -> None:
    with fleet.admin() as admin:
        patches = [p for p in _ok(admin.get("/v1/patches")) if p.get("service") == SERVICE_A]
        if not patches:
            return
        patch = _ok(admin.get(f"/v1/patches/{patches[0]['patch_id']}"))
        evidence: dict[str, Any] = {}
        if patch.get("event_id"):
            response = admin.get(f"/v1/events/{patch['event_id']}")
            if response.status_code == 200:
                event = response.json()
                finding: dict[str, Any] = next((f for f in event.get("findings", []) if f.get("rule_id") == CUSTOM_RULE["id"]), {})
                evidence = {
                    "event_id": event.get("event_id"), "sidecar_id": event.get("sidecar_id"), "service": event.get("service"),
                    "method": event.get("method"), "target": event.get("target"), "action": event.get("action"),
                    "rule_id": finding.get("rule_id"), "finding_target": finding.get("target"), "fragment": finding.get("fragment"),
                }
    transitions = [
        {"to": t["to_status"], "actor": t["actor"], "at_s": round(float(t["at"]) - wall0, 3), "reason": t["reason"]}
        for t in patch.get("transitions", [])
    ]
    for t in transitions:
        report.timeline.setdefault(f"patch_{t['to']}", t["at_s"])
    report.patch = {
        "patch_id": patch["patch_id"], "status": patch["status"], "origin": patch["origin"], "service": patch["service"],
        "scope_target": patch.get("scope_target"), "evidence_events": patch.get("evidence"), "bundle_version": patch.get("bundle_version"),
        "rule": patch["rule"], "transitions": transitions,
    }
    report.evidence = evidence


def _learned(report: Report) -> str:
    p = report.patch
    if not p:
        return "(no patch found)"
    enforced = next((t["at_s"] for t in p["transitions"] if t["to"] == "enforced"), None)
    when = f" at +{enforced:.3f} s" if enforced is not None else ""
    return (
        f"A's event -> patch {p['patch_id']} ({p['origin']}, scoped to {p['scope_target']}): validated, auto-approved,\n"
        f"                          published in signed bundle {p['bundle_version']}{when}"
    )


def format_report(report: Report) -> str:
    ok = "yes" if report.passed else "NO"
    lines = [
        "",
        "Siren demo report",
        f"  time to immunity     {report.time_to_immunity_s if report.time_to_immunity_s is not None else '-'} s"
        f" (first attack on A -> B blocking it; target <= {TARGET_SECONDS:g} s)",
        f"  attack on A          {report.attack_blocked_a}/{report.attack_requests_a} blocked (A's custom rule)",
        f"  attack on B          {report.attack_blocked_b}/{report.attack_requests_b} blocked (the patch learned from A)",
        f"  benign requests      {report.benign_requests}, blocked {report.benign_blocked}",
        f"  probes sent to B     {report.probe_requests_b} (one per new bundle B reported)",
        f"  leaked reports       {report.leaked_reports} (the app served internal data; only before the patch)",
    ]
    p = report.patch
    if p:
        rule = p["rule"]
        lines += [
            f"  patch                {p['patch_id']}: {p['origin']} on {p['service']}, status {p['status']}, bundle {p['bundle_version']}",
            f"    rule               targets {rule.get('targets')} view {rule.get('view')} pattern {rule.get('pattern')!r}, "
            f"scope {p['scope_target']}",
            "    lifecycle          " + " -> ".join(f"{t['to']} ({t['actor']}, +{t['at_s']:.3f}s)" for t in p["transitions"]),
        ]
    e = report.evidence
    if e:
        lines.append(
            f"    evidence           event {e.get('event_id')} from {e.get('sidecar_id')}: {e.get('method')} {e.get('target')} "
            f"-> {e.get('action')}; {e.get('rule_id')} on {e.get('finding_target')}: {e.get('fragment')!r}"
        )
    lines.append(f"  passed               {ok} (setup {report.setup_s:.1f} s, total {report.total_s:.1f} s)")
    return "\n".join(lines)


class _Interrupted(Exception):
    pass


@contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGTERM and SIGINT end the demo through its cleanup (processes stopped, folder removed)."""

    raised = False

    def handler(signum: int, _frame: FrameType | None) -> None:
        nonlocal raised
        if not raised:  # once: a second signal must not cut the cleanup short
            raised = True
            raise _Interrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def cmd_demo(args: argparse.Namespace) -> int:
    def say(message: str) -> None:
        print(message, file=sys.stderr if args.json else sys.stdout, flush=True)

    say("Siren demo: a shop app, a brain and two sidecars (service-a, service-b), all on 127.0.0.1")
    try:
        with _signals_raise():
            report = run_demo(args.timeout, say)
    except _Interrupted:
        print("siren demo: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(format_report(report))
    return 0 if report.passed else 1


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo", help="run a shop app, a brain and two sidecars; show an attack on one making the other immune",
        description="Everything on 127.0.0.1, cleaned up at the end. Exits 1 if B did not become immune.",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON (progress goes to stderr)")
    p.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                   help="give up after this long (default 120; the first run compiles the rule database)")
    p.set_defaults(func=cmd_demo)
