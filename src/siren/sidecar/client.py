"""The sidecar's HTTP client for the brain: one ``httpx.AsyncClient`` with the sidecar token,
shared by the event shipper, the bundle sync and the heartbeat (they reuse its connections)."""

from __future__ import annotations

import httpx

USER_AGENT = "siren-sidecar"


class BrainClient:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``transport`` replaces the network (tests pass ``httpx.ASGITransport(app)``)."""
        self.url = url.rstrip("/")
        self.http = httpx.AsyncClient(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self.http.aclose()
