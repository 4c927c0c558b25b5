"""The sidecar's link to the brain (``--brain URL`` or ``brain:`` in the configuration): events
out, signed bundles in, heartbeats. Without it the sidecar enforces its local configuration only,
exactly as before.

- **Events.** The worker's event sink is an :class:`~siren.sidecar.EventShipper`: the request
  path only appends to its bounded queue (a full queue drops and counts; values of secret-named
  query parameters are redacted first); a background task posts batches to ``POST /v1/events``
  at most ``flush_interval`` seconds after an event was queued.
- **Bundles.** At start the last good bundle kept in ``state_dir`` is verified again and layered
  over the proxy's own engines before the first request is served; then a background task
  long-polls ``GET /v1/bundles/latest``, verifies each bundle (Ed25519, pinned keys), compiles it
  over the proxy's engines (its built-in and local rules, its local policy underneath the
  bundle's) and swaps the engines in through :meth:`Worker.swap_engines` (one assignment on the
  event loop: a request sees the old engines or the new ones, never a mix). The reputation
  detector joins every engine with the bundle.
- **Heartbeats** every ``heartbeat_interval`` seconds: bundle version, mode, counters.
- **Trust.** The keys given by configuration (``--trust-key KID=KEY``) are pinned. Without them,
  the keys kept in ``state_dir`` from an earlier start are; at a first start the sidecar asks
  ``GET /v1/keys`` and, if its token may not read it, trusts the keys the first bundle names and
  is signed by (trust on first use), and keeps them in ``state_dir/trusted-keys.json``. After
  that, only bundles signed by a pinned key, or by a key a verified bundle listed, are accepted.

When the brain is away nothing changes for requests: the engines in force stay, events queue up to
the bound then drop (counted), and retries back off up to ``retry_max`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import httpx
import orjson

from siren import __version__
from siren.brain.schema import DEFAULT_REDACTION
from siren.engine import Engine, Policy
from siren.errors import SirenError
from siren.proxy.config import BrainSettings, ProxyConfig
from siren.proxy.events import Event
from siren.proxy.metrics import Stats
from siren.sidecar import BrainClient, BundleSync, CompiledBundle, EventShipper, HeartbeatSender, verify_bundle
from siren.sidecar.backoff import Backoff, CircuitBreaker
from siren.sidecar.bundle import EngineFactory, VerifiedBundle, compile_bundle, load_public_keys

PINNED_FILE = "trusted-keys.json"
"""Keys pinned at a first start (no ``--trust-key``), in ``state_dir``."""
STOP_SECONDS = 2.0
"""At stop, how long queued events may take to reach the brain before they are given up."""


class BaseBuilder(Protocol):
    def __call__(self, config: ProxyConfig, paranoia: int) -> Engine: ...


class SwapTarget(Protocol):
    def __call__(self, engines: dict[str, Engine]) -> None: ...


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class _ToStructlog(logging.Handler):
    """The sidecar client logs with :mod:`logging`; the proxy writes JSON lines: bridge them."""

    def __init__(self, log: Any) -> None:
        super().__init__()
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            method = getattr(self.log, record.levelname.lower(), None) or self.log.info
            method("brain_client", logger=record.name, message=record.getMessage())
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def bridge_logging(log: Any, level: str) -> None:
    logger = logging.getLogger("siren.sidecar")
    for handler in list(logger.handlers):
        if isinstance(handler, _ToStructlog):
            logger.removeHandler(handler)
    logger.addHandler(_ToStructlog(log))
    logger.setLevel(getattr(logging, level.upper(), logging.INFO))
    logger.propagate = False


class RedactingSink:
    """The worker's event sink with a brain: the shipper's queue, with the values of secret-named
    query parameters redacted from each event's target as it is queued (events leave the host)."""

    def __init__(self, shipper: EventShipper) -> None:
        self.shipper = shipper

    def offer(self, event: Event) -> bool:
        if "=" in event.path:
            event = replace(event, path=DEFAULT_REDACTION.target(event.path))
        return self.shipper.offer(event)

    @property
    def depth(self) -> int:
        return self.shipper.depth

    @property
    def dropped(self) -> int:
        return self.shipper.dropped


class BrainLink:
    def __init__(
        self,
        settings: BrainSettings,
        stats: Stats,
        log: Any,
        on_swap: SwapTarget,
        *,
        build_base: BaseBuilder,
        queue: int = 2048,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``on_swap`` receives the engines (service → engine) of each bundle put in force;
        ``build_base(config, paranoia)`` builds the proxy's own engine at a paranoia level its
        engines were not compiled for (a bundle may raise it)."""
        self.settings = settings
        self.stats = stats
        self.log = log
        self.on_swap = on_swap
        self.build_base = build_base
        self.state_dir = Path(settings.state_dir)
        self.client = BrainClient(settings.url, settings.token, transport=transport)
        self.shipper = EventShipper(
            self.client, maxsize=queue, flush_interval=settings.flush_interval,
            backoff=Backoff(base=0.2, cap=min(10.0, settings.retry_max)),
            breaker=CircuitBreaker(threshold=5, reset_after=settings.retry_max),
        )
        self.sink = RedactingSink(self.shipper)
        """What the worker offers events to."""
        keys = dict(settings.trust_keys)
        self.key_source = "configuration" if keys else ""
        if not keys:
            keys = self._read_pinned()
            self.key_source = "state_dir" if keys else ""
        self.sync = BundleSync(
            self.client, keys, self.state_dir, {}, self._swapped, poll_timeout=settings.poll_timeout,
            backoff=Backoff(base=0.5, cap=settings.retry_max),
        )
        self.heartbeat = HeartbeatSender(
            self.client, sidecar_id=settings.sidecar_id, service="default", version=__version__,
            bundle_version=lambda: self.sync.version, mode=self._mode, counters=self._counters,
            interval=settings.heartbeat_interval,
        )
        self.config: ProxyConfig | None = None
        self.reachable: bool | None = None
        self._sync_task: asyncio.Task[None] | None = None

    # -- engines ------------------------------------------------------------------------------

    def factory(self, config: ProxyConfig, base: Mapping[str, Engine]) -> EngineFactory:
        """Builds a service's engine for a bundle's effective policy, on the proxy's own rules."""
        compiled_at = max(s.policy.max_paranoia for s in config.services)
        higher: dict[int, Engine] = {}

        def make(service: str, policy: Policy) -> Engine:
            engine = base.get(service) or next(iter(base.values()))
            wanted = policy.max_paranoia
            if wanted > compiled_at:  # the bundle raised the paranoia level: those rules were never compiled
                if wanted not in higher:
                    higher[wanted] = self.build_base(config, wanted)
                engine = higher[wanted]
            return Engine(engine.ruleset, policy, engine.limits, engine.detectors)

        return make

    def services(self, config: ProxyConfig) -> dict[str, Policy]:
        return {s.name: s.policy for s in config.services}

    def rebase(self, config: ProxyConfig, base: Mapping[str, Engine]) -> None:
        """Use ``config`` and its engines under the bundles from now on (at start, after a reload)."""
        self.config = config
        self.sync.services = self.services(config)
        self.sync.engine_factory = self.factory(config, dict(base))
        self.heartbeat.service = config.default_service.name
        self.shipper.maxsize = config.event_queue

    def layered(self, config: ProxyConfig, base: Mapping[str, Engine]) -> tuple[int, dict[str, Engine]]:
        """The bundle in force compiled over new engines (a reload): (its version, engines).
        Raises :class:`BundleError` if it does not compile over them."""
        current = self.sync.current
        if current is None:
            return 0, dict(base)
        bundle = VerifiedBundle(current.version, current.sha256, 0, current.content, "", b"")
        compiled = compile_bundle(bundle, self.services(config), engine_factory=self.factory(config, dict(base)))
        return current.version, compiled.engines

    def _swapped(self, compiled: CompiledBundle) -> None:
        self.stats.bundle_version = compiled.version
        self.on_swap(compiled.engines)
        content = compiled.content
        self.log.info(
            "bundle_applied", version=compiled.version, sha256=compiled.sha256[:16], rules=len(content.rules),
            blocklist=len(content.reputation.blocklist), emergency=compiled.emergency or None,
        )

    def load_last_good(self) -> bool:
        """At start, before the first request: the bundle kept on disk, if it still verifies."""
        if not (self.state_dir / "bundle.json").exists():
            return False
        if self.sync.load_last_good():
            self.log.info("bundle_from_disk", version=self.sync.version, state_dir=str(self.state_dir))
            return True
        self.log.error("bundle_from_disk_refused", state_dir=str(self.state_dir), error=self.sync.last_error)
        return False

    # -- trust --------------------------------------------------------------------------------

    def _read_pinned(self) -> dict[str, str]:
        try:
            data = orjson.loads((self.state_dir / PINNED_FILE).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        if not isinstance(data, dict):
            return {}
        keys = {str(k): str(v) for k, v in data.items()}
        try:
            load_public_keys(keys)
        except SirenError:
            return {}
        return keys

    async def _fetch_keys(self) -> tuple[dict[str, str], str]:
        http = self.client.http
        try:
            response = await http.get("/v1/keys")
            if response.status_code == 200:
                listed = {str(k["kid"]): str(k["public_key"]) for k in response.json() if k.get("status") != "retired"}
                return listed, "keys endpoint"
            if response.status_code != 403:
                self.log.warning("keys_unavailable", status=response.status_code, detail=response.text[:200])
                return {}, ""
            # Sidecar tokens may not read the key list: trust the keys the first bundle names and is signed by.
            response = await http.get("/v1/bundles/latest", params={"after": 0, "timeout": 0})
            if response.status_code != 200:
                self.log.warning("keys_unavailable", status=response.status_code, detail=response.text[:200])
                return {}, ""
            envelope = orjson.loads(response.content)
            named = {str(k["kid"]): str(k["public_key"]) for k in envelope["content"]["keys"]}
            verify_bundle(response.content, load_public_keys(named))
            return named, "first bundle (trust on first use)"
        except httpx.HTTPError as exc:
            self._set_reachable(False, f"{type(exc).__name__}: {exc}")
        except (ValueError, KeyError, TypeError, SirenError) as exc:
            self.log.error("keys_unavailable", error=f"{type(exc).__name__}: {exc}"[:300])
        return {}, ""

    async def _pin(self) -> None:
        backoff = Backoff(base=0.5, cap=self.settings.retry_max)
        while True:
            keys, source = await self._fetch_keys()
            if keys:
                self.sync.pinned = load_public_keys(keys)
                try:
                    _write_atomic(self.state_dir / PINNED_FILE, orjson.dumps(keys))
                except OSError as exc:
                    self.log.warning("keys_not_kept", state_dir=str(self.state_dir), error=str(exc))
                self.key_source = source
                self.log.info("keys_pinned", kids=sorted(keys), source=source)
                return
            await asyncio.sleep(backoff.next())

    # -- running ------------------------------------------------------------------------------

    def _set_reachable(self, up: bool, error: str = "") -> None:
        if up and self.reachable is not True:
            self.log.info("brain_reachable", url=self.settings.url, bundle_version=self.sync.version)
        elif not up and self.reachable is not False:
            self.log.warning("brain_unreachable", url=self.settings.url, error=error[:300], bundle_version=self.sync.version)
        self.reachable = up

    async def _run_sync(self) -> None:
        if not self.sync.pinned:
            await self._pin()
        if self.sync.current is None:
            self.load_last_good()
        backoff = self.sync.backoff
        while True:
            outcome = await self.sync.poll_once()
            if outcome in ("applied", "not_modified"):
                self._set_reachable(True)
                backoff.reset()
                continue
            if outcome == "error":
                self._set_reachable(False, self.sync.last_error)
            await asyncio.sleep(backoff.next())

    def start(self) -> None:
        """Start the background tasks (on the worker's event loop)."""
        self.log.info(
            "brain_link", url=self.settings.url, sidecar_id=self.settings.sidecar_id, state_dir=str(self.state_dir),
            trusted=sorted(self.sync.pinned), key_source=self.key_source or None, bundle_version=self.sync.version,
        )
        self.shipper.start()
        self.heartbeat.start()
        self._sync_task = asyncio.create_task(self._run_sync(), name="siren-brain-sync")

    async def stop(self) -> None:
        """Stop the tasks; give queued events ``STOP_SECONDS`` to reach the brain."""
        task, self._sync_task = self._sync_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.heartbeat.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.shipper.stop(drain=True), STOP_SECONDS)
        await self.client.aclose()

    # -- numbers ------------------------------------------------------------------------------

    def export(self) -> None:
        """Copy the client's counters into the proxy's metrics."""
        sync, shipper = self.sync.counters, self.shipper.counters
        counters = self.stats.counters
        counters["brain_bundles"] = {(k,): v for k, v in sync.items()}
        counters["brain_events"] = {
            ("sent",): shipper["events_sent"], ("rejected",): shipper["events_rejected"], ("invalid",): shipper["events_invalid"],
        }
        counters["heartbeats"] = {("sent",): self.heartbeat.sent, ("failed",): self.heartbeat.failed}

    def _mode(self) -> str:
        config = self.config
        if config is None:
            return "block"
        name = config.default_service.name
        current = self.sync.current
        if current is not None and name in current.policies:
            return current.policies[name].mode
        return config.default_service.policy.mode

    def _counters(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (_service, outcome), value in list(self.stats.counters["requests"].items()):
            key = f"requests_{outcome}"
            out[key] = out.get(key, 0) + int(value)
        out.update(self.shipper.counters)
        out.update(self.sync.counters)
        return out
