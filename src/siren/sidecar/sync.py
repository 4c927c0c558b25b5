"""Bundle sync: long-poll the brain for the next bundle, verify it, compile it, swap it in, and
keep the last good one on disk for a start without the brain.

Trust: the keys given at start (pinned, from the brain's ``GET /v1/keys``) plus the keys listed
by the last bundle that verified; a key rotation therefore reaches sidecars inside a bundle the
old key signed. A refused bundle (tampered, unsigned, replayed) or one that does not compile is
counted and the engines in force stay; nothing here raises into the proxy.

Files in ``state_dir``: ``bundle.json`` (the bytes as received) and ``keys.json``, both replaced
atomically. ``keys.json`` holds the learned keys and the *key chain*: the signed bundles that
introduced keys which are not pinned. Nothing on disk is trusted as such: at start the learned
keys are derived again by verifying the chain link by link, starting from the pinned keys (a
link counts only if a key already trusted signed it). A key in ``keys.json`` the chain does not
vouch for is dropped and counted (``learned_keys_dropped``), so whoever can write ``state_dir``
cannot plant a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from siren.engine import Policy
from siren.sidecar.backoff import Backoff, cancel_task
from siren.sidecar.bundle import (
    BundleError,
    CompiledBundle,
    EngineFactory,
    VerifiedBundle,
    compile_bundle,
    default_engine_factory,
    load_public_keys,
    verify_bundle,
)
from siren.sidecar.client import BrainClient

log = logging.getLogger("siren.sidecar.sync")

BUNDLE_FILE = "bundle.json"
KEYS_FILE = "keys.json"
MAX_CHAIN = 32
"""Most key-introducing bundles kept (a chain is reset whenever a pinned key signs a bundle)."""


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class BundleSync:
    def __init__(
        self,
        client: BrainClient,
        trusted_keys: Mapping[str, str],
        state_dir: Path,
        services: Mapping[str, Policy],
        on_swap: Callable[[CompiledBundle], None],
        *,
        engine_factory: EngineFactory = default_engine_factory,
        poll_timeout: float = 30.0,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``trusted_keys``: ``{kid: base64 Ed25519 public key}``; ``services``: name → the local
        policy; ``on_swap`` receives each newly compiled bundle (assign its ``engines``)."""
        self.client = client
        self.pinned = load_public_keys(trusted_keys)
        self.learned: dict[str, str] = {}
        """Keys listed by the last bundle that verified (``{kid: base64 key}``)."""
        self.chain: list[bytes] = []
        """The verified bundles, oldest first, that introduced the learned keys not pinned."""
        self.state_dir = Path(state_dir)
        self.services = dict(services)
        self.on_swap = on_swap
        self.engine_factory = engine_factory
        self.poll_timeout = poll_timeout
        self.backoff = backoff or Backoff(base=0.5, cap=30.0)
        self._sleep = sleep
        self._clock = clock
        self.current: CompiledBundle | None = None
        self.etag: str | None = None
        self.counters: dict[str, int] = {
            "bundles_applied": 0, "bundles_refused": 0, "compile_failures": 0, "not_modified": 0, "fetch_errors": 0,
            "learned_keys_dropped": 0,
        }
        self.last_error = ""
        self._task: asyncio.Task[None] | None = None

    @property
    def version(self) -> int:
        return self.current.version if self.current else 0

    def trusted(self) -> dict[str, Ed25519PublicKey]:
        keys = dict(self.pinned)
        with contextlib.suppress(Exception):
            for kid, key in load_public_keys(self.learned).items():
                keys.setdefault(kid, key)
        return keys

    # -- applying ----------------------------------------------------------------------------

    def apply(self, data: bytes, *, persist: bool = True) -> bool:
        """Verify, compile and swap in ``data``; ``False`` (counted, logged) if refused."""
        try:
            bundle = verify_bundle(data, self.trusted(), after=self.version)
        except BundleError as exc:
            self.counters["bundles_refused"] += 1
            self.last_error = str(exc)
            log.error("bundle refused (%s): %s", exc.kind, exc)
            return False
        return self._install(bundle, persist=persist)

    def _install(self, bundle: VerifiedBundle, *, persist: bool) -> bool:
        try:
            compiled = compile_bundle(bundle, self.services, engine_factory=self.engine_factory, clock=self._clock)
        except BundleError as exc:
            self.counters["compile_failures"] += 1
            self.last_error = str(exc)
            log.error("bundle %d does not compile, keeping bundle %d: %s", bundle.version, self.version, exc)
            return False
        self._swap(bundle, compiled, persist=persist)
        return True

    def _extend_chain(self, bundle: VerifiedBundle, learned: dict[str, str]) -> None:
        """Keep ``bundle`` as a chain link if it introduces a key that is neither pinned nor vouched
        for already; a bundle a pinned key signed starts the chain afresh."""
        introduces = any(kid not in self.pinned and self.learned.get(kid) != key for kid, key in learned.items())
        if bundle.signed_by in self.pinned:
            if introduces or any(kid not in self.pinned for kid in learned):
                self.chain = [bundle.raw]
            else:
                self.chain = []
        elif introduces:
            self.chain = [*self.chain, bundle.raw][-MAX_CHAIN:]

    def _swap(self, bundle: VerifiedBundle, compiled: CompiledBundle, *, persist: bool) -> None:
        learned = {k.kid: k.public_key for k in bundle.content.keys}
        if bundle.raw:
            self._extend_chain(bundle, learned)
        self.learned = learned
        if persist:
            try:
                state = {"learned": self.learned, "chain": [raw.decode("utf-8") for raw in self.chain]}
                _write_atomic(self.state_dir / KEYS_FILE, orjson.dumps(state))
                _write_atomic(self.state_dir / BUNDLE_FILE, bundle.raw)
            except OSError as exc:
                log.warning("cannot keep bundle %d on disk: %s", bundle.version, exc)
        self.current = compiled
        self.counters["bundles_applied"] += 1
        self.on_swap(compiled)
        log.info("bundle %d in force (sha256 %s, signed by %s)", bundle.version, bundle.sha256[:12], bundle.signed_by)

    def load_last_good(self) -> bool:
        """At start: the bundle kept on disk, verified again, compiled and swapped in."""
        path = self.state_dir / BUNDLE_FILE
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return False
        except OSError as exc:
            log.warning("cannot read %s: %s", path, exc)
            return False
        self._load_keys()
        return self.apply(data, persist=False)

    def _load_keys(self) -> None:
        """The learned keys, re-derived from the key chain kept on disk: each link must verify
        against the pinned keys or the keys an earlier link (that verified) listed. A key
        ``keys.json`` names but the chain does not vouch for is dropped and counted."""
        state: Any = {}
        with contextlib.suppress(OSError, orjson.JSONDecodeError):
            state = orjson.loads((self.state_dir / KEYS_FILE).read_bytes())
        if not isinstance(state, dict):
            state = {}
        claimed = state.get("learned") if "chain" in state or "learned" in state else state  # older files: {kid: key}
        links = state.get("chain")
        learned: dict[str, str] = {}
        chain: list[bytes] = []
        for link in links if isinstance(links, list) else []:
            raw = link.encode("utf-8") if isinstance(link, str) else b""
            trusted = dict(self.pinned)
            with contextlib.suppress(Exception):
                for kid, key in load_public_keys(learned).items():
                    trusted.setdefault(kid, key)
            try:
                bundle = verify_bundle(raw, trusted)
            except BundleError as exc:
                log.warning("key chain: a stored bundle does not verify against the trusted keys, ignored: %s", exc)
                continue
            learned = {k.kid: k.public_key for k in bundle.content.keys}
            chain.append(raw)
        dropped = 0
        if isinstance(claimed, dict):
            for kid, key in claimed.items():
                if str(kid) in self.pinned or learned.get(str(kid)) == key:
                    continue
                dropped += 1
                log.warning("key %s in %s is not vouched for by a bundle a trusted key signed: dropped", kid, KEYS_FILE)
        self.counters["learned_keys_dropped"] += dropped
        self.learned = learned
        self.chain = chain

    # -- fetching ----------------------------------------------------------------------------

    async def poll_once(self) -> str:
        """One long-poll: ``applied``, ``not_modified``, ``refused`` or ``error``."""
        headers = {"If-None-Match": self.etag} if self.etag and self.current else {}
        try:
            response = await self.client.http.get(
                "/v1/bundles/latest",
                params={"after": self.version, "timeout": self.poll_timeout},
                headers=headers,
                timeout=httpx.Timeout(self.client.http.timeout.connect, read=self.poll_timeout + 10),
            )
        except httpx.HTTPError as exc:
            self.counters["fetch_errors"] += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            return "error"
        if response.status_code in (204, 304):
            self.counters["not_modified"] += 1
            return "not_modified"
        if response.status_code != 200:
            self.counters["fetch_errors"] += 1
            self.last_error = f"brain answered {response.status_code}: {response.text[:200]}"
            log.warning("bundle fetch: %s", self.last_error)
            return "error"
        try:
            bundle = verify_bundle(response.content, self.trusted(), after=self.version)
        except BundleError as exc:
            self.counters["bundles_refused"] += 1
            self.last_error = str(exc)
            log.error("bundle refused (%s): %s", exc.kind, exc)
            return "refused"
        # Compiling takes CPU time (hyperscan): off the event loop, then swap on it.
        try:
            compiled = await asyncio.to_thread(
                compile_bundle, bundle, self.services, engine_factory=self.engine_factory, clock=self._clock
            )
        except BundleError as exc:
            self.counters["compile_failures"] += 1
            self.last_error = str(exc)
            log.error("bundle %d does not compile, keeping bundle %d: %s", bundle.version, self.version, exc)
            return "refused"
        self.etag = response.headers.get("ETag")
        self._swap(bundle, compiled, persist=True)
        return "applied"

    async def run(self) -> None:
        """Poll until cancelled; back off after errors and refusals."""
        if self.current is None:
            self.load_last_good()
        while True:
            outcome = await self.poll_once()
            if outcome in ("applied", "not_modified"):
                self.backoff.reset()
            else:
                await self._sleep(self.backoff.next())

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name="siren-bundle-sync")
        return self._task

    async def stop(self) -> None:
        await cancel_task(self._task)
        self._task = None
