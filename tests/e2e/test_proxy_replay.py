"""The proxy loses nothing in parsing: corpus requests replayed through ``siren proxy`` with the
wafbench harness (raw sockets, byte for byte) get the same decision, request by request, as the
same engine in-process (``siren.evaluation.evaluate``, what ``siren eval`` runs). A spread subset
of every corpus file; both sides run one frozen copy of the package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest_proxy import origin_app, siren, snapshot_package

pytestmark = pytest.mark.e2e

SHARED = Path(__file__).resolve().parents[3] / "shared"
CORPUS = sorted((SHARED / "corpus").glob("*.jsonl"))
REPLAY = SHARED / "wafbench" / "replay.py"
PER_FILE = 60

# In-process decisions for the replayed records, with the default engine (as `siren eval`).
DECIDE = """
import json, sys
from pathlib import Path
from siren.corpus import read_corpus
from siren.engine import Engine
wanted = {tuple(x) for x in json.load(open(sys.argv[1]))}
engine = Engine.create()
out = {}
for path in sys.argv[2:]:
    for record in read_corpus(Path(path)):
        if (Path(path).name, record.id) in wanted:
            verdict = engine.inspect(record.request)
            out[Path(path).name + "/" + record.id] = verdict.score >= verdict.threshold
print(json.dumps(out))
"""


@pytest.mark.skipif(not CORPUS or not REPLAY.exists(), reason="../shared/corpus or ../shared/wafbench not present")
def test_replay_through_the_proxy_matches_in_process_decisions(tmp_path: Path) -> None:
    pythonpath = snapshot_package(tmp_path / "snapshot")
    out = tmp_path / "replay.json"
    with origin_app() as app, siren(
        "proxy", "--listen", "127.0.0.1:0", "--admin", "", "--upstream", f"http://127.0.0.1:{app.server_port}", pythonpath=pythonpath
    ) as proc:
        run = subprocess.run(
            [sys.executable, str(REPLAY), "--target", f"http://127.0.0.1:{proc.port}", *map(str, CORPUS), "--limit", str(PER_FILE),
             "--concurrency", "4", "--timeout", "60", "--max-seconds", "900", "--json-out", str(out)],
            capture_output=True, timeout=1200,
        )
        assert run.returncode == 0, run.stderr.decode()
    records = json.loads(out.read_text())["records"]
    assert len(records) == PER_FILE * len(CORPUS)
    assert [r for r in records if r["outcome"] == "error"] == []
    wanted = tmp_path / "wanted.json"
    wanted.write_text(json.dumps([[r["file"], r["id"]] for r in records]))
    decide = subprocess.run(
        [sys.executable, "-c", DECIDE, str(wanted), *map(str, CORPUS)], capture_output=True, timeout=1200,
        env=dict(os.environ, PYTHONPATH=pythonpath),
    )
    assert decide.returncode == 0, decide.stderr.decode()
    in_process = json.loads(decide.stdout)
    differ = [(r["file"], r["id"], r["outcome"]) for r in records if (r["outcome"] == "blocked") != in_process[f"{r['file']}/{r['id']}"]]
    assert differ == []
