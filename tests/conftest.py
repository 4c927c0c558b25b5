"""Shared fixtures. The compiled rule database is cached per test session in a temporary
folder, so tests never depend on (or write to) the user's cache."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("SIREN_CACHE_DIR", tempfile.mkdtemp(prefix="siren-test-cache-"))

from siren.engine import Engine

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SIREN_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    yield Engine.create()


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "corpus").is_dir():
        pytest.fail(f"the shared corpora are missing: expected {SHARED}/corpus (set SIREN_SHARED)")
    return SHARED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    try:
        from tests.conformance.test_corpus import REPORT
    except ImportError:
        return
    if REPORT.get("table"):
        terminalreporter.write_sep("=", "corpus detection figures (siren eval, default policy)")
        terminalreporter.write_line(REPORT["table"])
