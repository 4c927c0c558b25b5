"""Docs generated from registries are current; the engine imports no I/O layer."""

from __future__ import annotations

import ast
from pathlib import Path

from siren.reference import render

ROOT = Path(__file__).resolve().parents[2]


def test_reference_doc_is_current() -> None:
    doc = ROOT / "docs" / "reference.md"
    assert doc.read_text(encoding="utf-8") == render(), "docs/reference.md is stale: python -m siren.reference > docs/reference.md"


FORBIDDEN = ("siren.proxy", "siren.brain", "siren.sidecar", "asyncio", "socket", "httpx", "uvloop")


def test_engine_is_pure() -> None:
    offenders = []
    for path in (ROOT / "src" / "siren" / "engine").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, offenders
