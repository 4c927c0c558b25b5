from siren.engine import Action, Engine, Exclusion, Policy, Route
from siren.engine.request import Request
from siren.testing import make_request

ATTACKS = [
    make_request("/?q=%27%20OR%201%3D1--"),
    make_request("/?q=%3Cscript%3Ealert(1)%3C/script%3E"),
    make_request("/login", form={"user": "admin' UNION SELECT password FROM users--"}),
]
BENIGN = [
    make_request("/products?id=42&sort=price"),
    make_request("/search?q=union+station+to+brooklyn"),
    make_request("/api/orders", json_body={"item": "shoes", "qty": 2, "note": "leave at the door, thanks!"}),
]


def test_blocks_attacks_and_explains(engine: Engine) -> None:
    for req in ATTACKS:
        verdict = engine.inspect(req)
        assert verdict.action is Action.BLOCK, req.target
        assert verdict.score >= verdict.threshold
        assert verdict.findings and all(f.target for f in verdict.findings)
        assert "BLOCK" in verdict.explain()


def test_allows_benign(engine: Engine) -> None:
    for req in BENIGN:
        verdict = engine.inspect(req)
        assert verdict.action is Action.ALLOW, (req.target, verdict.explain())


def test_shadow_mode_logs_instead_of_blocking() -> None:
    eng = Engine.create(policy=Policy(mode="shadow"))
    verdict = eng.inspect(ATTACKS[0])
    assert verdict.action is Action.LOG and verdict.score >= verdict.threshold


def test_off_route_and_exclusions() -> None:
    policy = Policy(
        routes=(
            Route(prefix="/internal", mode="off"),
            Route(prefix="/cms", exclusions=(Exclusion(rules=("libinjection.*",), targets=("ARGS:q",)),)),
        )
    )
    eng = Engine.create(policy=policy)
    assert eng.inspect(make_request("/internal?q=%27%20OR%201%3D1--")).action is Action.ALLOW
    cms = eng.inspect(make_request("/cms?q=%27%20OR%201%3D1--"))
    assert not any(f.detector == "libinjection" and f.target == "ARGS:q" for f in cms.findings)
    assert eng.inspect(make_request("/other?q=%27%20OR%201%3D1--")).action is Action.BLOCK


class Exploding:
    name = "exploding"

    def detect(self, ctx: object) -> list[object]:
        raise RuntimeError("boom")


def test_detector_crash_fails_open_or_closed(engine: Engine) -> None:
    for fail_open, expected in ((True, Action.ALLOW), (False, Action.BLOCK)):
        eng = Engine(engine.ruleset, Policy(fail_open=fail_open), detectors=[Exploding()])  # type: ignore[list-item]
        verdict = eng.inspect(make_request("/"))
        assert verdict.action is expected
        assert any(f.rule_id == "engine.error" and "boom" in f.message for f in verdict.findings)


def test_protocol_anomalies(engine: Engine) -> None:
    req = Request("POST", "/", (("Host", "x"), ("Content-Length", "3"), ("Transfer-Encoding", "chunked")), b"abc")
    verdict = engine.inspect(req)
    assert "protocol.cl_te" in {f.rule_id for f in verdict.findings}
    assert verdict.blocked
    odd = engine.inspect(Request("FOO", "/%zz", ()))
    assert {"protocol.method", "protocol.host", "protocol.percent"} <= {f.rule_id for f in odd.findings}
