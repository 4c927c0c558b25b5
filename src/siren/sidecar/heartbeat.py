"""Heartbeats: every few seconds the sidecar tells the brain who it is, which bundle it enforces,
its mode and its counters (``POST /v1/heartbeat``); the fleet view is built from them. A missed
heartbeat is only counted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping

import httpx

from siren.brain.schema import Heartbeat
from siren.sidecar.backoff import cancel_task
from siren.sidecar.client import BrainClient

log = logging.getLogger("siren.sidecar.heartbeat")


class HeartbeatSender:
    def __init__(
        self,
        client: BrainClient,
        *,
        sidecar_id: str,
        service: str,
        version: str = "",
        bundle_version: Callable[[], int] = lambda: 0,
        mode: Callable[[], str] = lambda: "block",
        counters: Callable[[], Mapping[str, int]] = dict,
        interval: float = 10.0,
    ) -> None:
        self.client = client
        self.sidecar_id = sidecar_id
        self.service = service
        self.version = version
        self.bundle_version = bundle_version
        self.mode = mode
        self.counters = counters
        self.interval = interval
        self.sent = 0
        self.failed = 0
        self.latest_bundle_version = 0
        """What the brain said its newest bundle is (the sync may be behind it)."""
        self._task: asyncio.Task[None] | None = None

    def heartbeat(self) -> Heartbeat:
        counters = {str(k)[:64]: max(0, int(v)) for k, v in list(self.counters().items())[:64]}
        mode = self.mode()
        return Heartbeat.model_validate(
            {"sidecar_id": self.sidecar_id, "service": self.service, "version": self.version,
             "bundle_version": self.bundle_version(), "mode": mode if mode in ("block", "shadow", "off") else "block",
             "counters": counters}
        )

    async def send_once(self) -> bool:
        try:
            response = await self.client.http.post("/v1/heartbeat", content=self.heartbeat().model_dump_json(),
                                                   headers={"Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            self.failed += 1
            log.warning("heartbeat failed: %s: %s", type(exc).__name__, exc)
            return False
        if response.status_code != 200:
            self.failed += 1
            log.warning("heartbeat refused (%d): %s", response.status_code, response.text[:200])
            return False
        self.sent += 1
        with contextlib.suppress(ValueError, KeyError, TypeError):
            self.latest_bundle_version = int(response.json()["latest_bundle_version"])
        return True

    async def run(self) -> None:
        while True:
            await self.send_once()
            await asyncio.sleep(self.interval)

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name="siren-heartbeat")
        return self._task

    async def stop(self) -> None:
        await cancel_task(self._task)
        self._task = None
