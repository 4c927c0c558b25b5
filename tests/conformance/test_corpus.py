"""Detection figures on the shared corpora, gated: this fails if detection drops below the
floors of issue 2 or false positives rise above them. The figures are printed at the end of
the run (see ``conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from siren.engine import Engine
from siren.evaluation import Evaluation, evaluate, format_table

pytestmark = pytest.mark.conformance

CORPORA = ["gotestwaf.jsonl", "crs.jsonl", "httpparams.jsonl", "patt.jsonl", "fwaf.jsonl"]
OWN_BENIGN = Path(__file__).resolve().parents[2] / "src/siren/data/benign/siren-benign.jsonl"

# Floors from issue 2 (the project's goal is 99% / 0.1%).
ATTACK_OVERALL = 0.97
ATTACK_PER_FILE = 0.90
BENIGN_OVERALL = 0.005
BENIGN_PER_FILE = 0.01

REPORT: dict[str, str] = {}


@pytest.fixture(scope="module")
def evaluation(engine: Engine, shared: Path) -> Evaluation:
    paths = [str(shared / "corpus" / name) for name in CORPORA]
    if OWN_BENIGN.exists():
        paths.append(str(OWN_BENIGN))
    ev = evaluate(engine, paths)
    REPORT["table"] = format_table(ev)
    return ev


def test_attacks_blocked_overall(evaluation: Evaluation) -> None:
    rate = evaluation.overall.attack.rate
    assert rate >= ATTACK_OVERALL, f"attacks blocked {rate:.2%} < {ATTACK_OVERALL:.0%}"


def test_benign_blocked_overall(evaluation: Evaluation) -> None:
    rate = evaluation.overall.benign.rate
    assert rate <= BENIGN_OVERALL, f"benign blocked {rate:.3%} > {BENIGN_OVERALL:.1%}"


@pytest.mark.parametrize("name", [*CORPORA, "siren-benign.jsonl"])
def test_per_file(evaluation: Evaluation, name: str) -> None:
    matches = [c for path, c in evaluation.files.items() if path.endswith("/" + name)]
    assert matches, f"{name} was not evaluated"
    counts = matches[0]
    if counts.attack.total:
        assert counts.attack.rate >= ATTACK_PER_FILE, f"{name}: attacks blocked {counts.attack.rate:.2%}"
    if counts.benign.total:
        assert counts.benign.rate <= BENIGN_PER_FILE, f"{name}: benign blocked {counts.benign.rate:.3%}"
