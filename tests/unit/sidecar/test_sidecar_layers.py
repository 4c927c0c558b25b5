"""The sidecar needs the wire format from the brain, nothing else: no web framework, no database."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src" / "siren"
HEAVY = ("fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn", "psycopg")


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_sidecar_modules_import_only_the_brain_schema() -> None:
    for path in (SRC / "sidecar").glob("*.py"):
        brain = {n for n in imports(path) if n == "siren.brain" or n.startswith("siren.brain.")}
        assert brain <= {"siren.brain.schema"}, f"{path.name} imports {brain}"
        assert not {n for n in imports(path) if n.split(".")[0] in (*HEAVY, "siren")} - {
            n for n in imports(path) if n.startswith(("siren.brain.schema", "siren.engine", "siren.errors", "siren.sidecar"))
        }, path.name


def test_the_schema_is_pure() -> None:
    top = {n.split(".")[0] for n in imports(SRC / "brain" / "schema.py")}
    assert top <= {"__future__", "hashlib", "re", "collections", "dataclasses", "typing", "urllib", "orjson", "pydantic"}, top


def test_importing_the_sidecar_loads_no_server_or_database_code() -> None:
    code = f"import sys, siren.sidecar; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
