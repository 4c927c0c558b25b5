"""Brain fixtures: a store on SQLite and on PostgreSQL (every storage test runs on both), a brain
with a controllable clock and inline jobs, and a synchronous client for the API (httpx over
ASGI, no sockets).

PostgreSQL must be reachable (``SIREN_TEST_PG``, default postgres@127.0.0.1:5432): the tests
create a throwaway database ``siren_test_<random>`` for the session and drop it at the end. They
fail, never skip, when the server is not there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from siren.brain.api import ApiConfig, create_app
from siren.brain.core import Brain
from siren.brain.jobs import JobRunner
from siren.brain.store import Store
from siren.brain.tables import metadata
from siren.brain.testing import PG_ADMIN_URL, FakeClock, postgres_database, postgres_reachable

ADMIN = "test-admin-token"
T0 = 1_800_000_000.0


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    problem = postgres_reachable()
    if problem is not None:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({problem}). The brain's storage tests run on SQLite and "
            "PostgreSQL: start PostgreSQL (user postgres, trust auth on 127.0.0.1:5432) or point SIREN_TEST_PG at one."
        )
    with postgres_database() as url:
        store = Store.open(url)
        store.close()
        yield url


def _truncate(store: Store) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with store.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'brain.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store.open(db_url)
    if store.dialect == "postgresql":
        _truncate(store)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def brain(store: Store, clock: FakeClock) -> Iterator[Brain]:
    brain = Brain(store, admin_token=ADMIN, clock=clock, jobs=JobRunner("inline"))
    brain.start()
    try:
        yield brain
    finally:
        brain.stop()


class Api:
    """Synchronous calls into the ASGI app (each runs its own event loop)."""

    def __init__(self, brain: Brain, config: ApiConfig | None = None) -> None:
        self.brain = brain
        self.app = create_app(brain, config)

    def client(self, token: str | None = ADMIN) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://brain", headers=headers)

    def request(self, method: str, url: str, *, token: str | None = ADMIN, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            async with self.client(token) as c:
                return await c.request(method, url, **kwargs)

        return asyncio.run(go())

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", url, **kw)

    def patch(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PATCH", url, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", url, **kw)

    def enrol(self, sidecar_id: str = "sc-1", service: str = "shop") -> str:
        r = self.post("/v1/sidecars", json={"sidecar_id": sidecar_id, "service": service})
        assert r.status_code == 201, r.text
        token: str = r.json()["token"]
        return token


@pytest.fixture
def api(brain: Brain) -> Api:
    return Api(brain, ApiConfig(max_body_bytes=256 * 1024, max_batch_events=100))
