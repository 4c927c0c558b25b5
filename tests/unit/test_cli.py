"""The CLI as a user calls it (in-process, through ``main``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siren.cli import main, request_from_argument


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_test_explains_sqli_block(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "test", "' OR 1=1--")
    assert code == 1
    assert "BLOCK" in out and "sqli" in out and "ARGS:q" in out


def test_test_explains_xss_block_from_request_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "test", "GET /?q=<script>alert(1)</script>")
    assert code == 1 and "xss" in out and "<script>" in out


def test_test_explains_a_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "test", "/products?id=42&sort=price", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["verdict"]["action"] == "allow" and doc["verdict"]["findings"] == []


def test_raw_request_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "req.http"
    f.write_text('POST /login HTTP/1.1\nHost: a\nContent-Type: application/json\n\n{"user": "admin\' or \'1\'=\'1"}')
    req = request_from_argument(f"@{f}")
    assert req.method == "POST" and req.header("Content-Length") == str(len(req.body))
    code, out, _ = run(capsys, "test", f"@{f}")
    assert code == 1 and "JSON:user" in out


def test_eval_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [
        {"id": "a1", "source": "t", "label": "attack", "category": "sqli", "method": "GET", "target": "/?id=1%27%20or%201=1--", "headers": [["Host", "x"]]},
        {"id": "a2", "source": "t", "label": "attack", "category": "scanner", "method": "GET", "target": "/admin.php", "headers": [["Host", "x"]]},
        {"id": "b1", "source": "t", "label": "benign", "category": "benign", "method": "GET", "target": "/?q=shoes", "headers": [["Host", "x"]]},
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    code, out, _ = run(capsys, "eval", str(path), "--json")
    doc = json.loads(out)
    assert code == 0
    assert set(doc) == {"overall", "files"} and list(doc["files"]) == [str(path)]
    c = doc["files"][str(path)]
    assert c["attack"] == {"total": 1, "blocked": 1}  # 'scanner' is not in the attack totals
    assert c["benign"] == {"total": 1, "blocked": 0}
    assert c["by_category"]["scanner"]["total"] == 1 and c["by_category"]["sqli"] == {"total": 1, "blocked": 1}


def test_bad_inputs_give_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"label": "attack"\n')
    code, _, err = run(capsys, "eval", str(broken))
    assert code == 2 and "broken.jsonl:1" in err
    bad_rules = tmp_path / "r.yaml"
    bad_rules.write_text("rules:\n  - id: x.bad\n    category: sqli\n    targets: [ARGS]\n    pattern: '(?=lookahead)'\n")
    code, _, err = run(capsys, "eval", str(broken), "--rules", str(bad_rules))
    assert code == 2 and "x.bad" in err
    code, _, err = run(capsys, "eval", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "cannot read" in err


def test_rules_lint_and_test_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "lint")
    assert code == 0 and "OK" in out
    code, out, _ = run(capsys, "rules", "test")
    assert code == 0 and " 0 failures" in out
