from __future__ import annotations

from collections.abc import Iterator

import pytest
from proxytest import Running, running


@pytest.fixture(scope="module")
def proxy() -> Iterator[Running]:
    """A proxy (block mode, built-in rules) in front of the test app, shared by a module's tests."""
    with running() as r:
        yield r


@pytest.fixture(autouse=True)
def _clear_seen(request: pytest.FixtureRequest) -> None:
    if "proxy" in request.fixturenames:
        request.getfixturevalue("proxy").app.seen.clear()
