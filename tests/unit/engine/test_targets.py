from siren.engine import Limits
from siren.engine.targets import extract_targets
from siren.testing import make_request


def names(req, limits=None):  # type: ignore[no-untyped-def]
    ex = extract_targets(req, limits or Limits())
    return {(t.name, t.value) for t in ex.targets}, ex.findings


def test_query_args_repeated_names_and_names() -> None:
    got, _ = names(make_request("/s?q=a+b&q=c%20d&flag"))
    assert ("ARGS:q", "a b") in got and ("ARGS:q", "c d") in got
    assert ("ARGS_NAMES", "flag") in got


def test_path_and_segments() -> None:
    got, _ = names(make_request("/api/%27%20or%201=1--/x"))
    assert ("PATH", "/api/' or 1=1--/x") in got
    assert ("PATH_SEGMENT", "' or 1=1--") in got


def test_form_json_cookies_headers() -> None:
    got, _ = names(make_request("/f", form={"name": "O'Brien"}, headers={"Cookie": "sid=abc; pref=%3Cb%3E", "X-Api": "v"}))
    assert ("ARGS:name", "O'Brien") in got
    assert ("COOKIE:pref", "<b>") in got and ("HEADER:X-Api", "v") in got
    got, _ = names(make_request("/j", json_body={"user": {"name": "x", "tags": ["a", 2]}, "ok": True}))
    assert {("JSON:user.name", "x"), ("JSON:user.tags[0]", "a"), ("JSON:user.tags[1]", "2"), ("JSON_NAMES", "user")} <= got


def test_referer_query_is_inspected() -> None:
    got, _ = names(make_request("/", headers={"Referer": "https://a.example/p?id=1%27--"}))
    assert ("REFERER_ARGS:id", "1'--") in got


def test_multipart_fields_and_files() -> None:
    body = (
        "--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n"
        "--B\r\nContent-Disposition: form-data; name=\"up\"; filename=\"../../x.php\"\r\nContent-Type: text/plain\r\n\r\n<?php system($_GET[1]); ?>\r\n"
        "--B--\r\n"
    )
    got, _ = names(make_request("/u", method="POST", body=body, headers={"Content-Type": "multipart/form-data; boundary=B"}))
    assert ("ARGS:title", "hello") in got
    assert ("FILE:up", "../../x.php") in got
    assert ("FILE:up", "<?php system($_GET[1]); ?>") in got


def test_xml_text_attributes_and_dtd_finding() -> None:
    got, findings = names(make_request("/x", method="POST", body='<a k="v1"><b>t1</b></a>', headers={"Content-Type": "text/xml"}))
    assert ("XML:/a@k", "v1") in got and ("XML:/a/b", "t1") in got
    xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    _, findings = names(make_request("/x", method="POST", body=xxe, headers={"Content-Type": "application/xml"}))
    assert {f.rule_id for f in findings} >= {"parser.xml_dtd", "parser.xml_entity"}


def test_limits_become_findings() -> None:
    limits = Limits(args=3, json_depth=3, body_bytes=50)
    _, findings = names(make_request("/?a=1&b=2&c=3&d=4&e=5"), limits)
    assert [f.rule_id for f in findings] == ["limits.args"]
    _, findings = names(make_request("/", json_body={"a": {"b": {"c": {"d": {"e": 1}}}}}), limits)
    assert "limits.json_depth" in {f.rule_id for f in findings}
    _, findings = names(make_request("/", form={"a": "x" * 100}), limits)
    assert "limits.body_bytes" in {f.rule_id for f in findings}


def test_broken_json_is_reported_and_kept_as_body() -> None:
    got, findings = names(make_request("/", method="POST", body="{broken", headers={"Content-Type": "application/json"}))
    assert ("BODY", "{broken") in got
    assert "parser.json" in {f.rule_id for f in findings}


def test_base64_values_get_a_decoded_twin() -> None:
    got, _ = names(make_request("/help?order=KCYodWlkPWFkbWluKSghKCYoMT0wKSh1c2VyUGFzc3dvcmQ9cSkpKSk&page=password"))
    assert ("ARGS:order|base64", "(&(uid=admin)(!(&(1=0)(userPassword=q))))") in got
    assert not any(name == "ARGS:page|base64" for name, _ in got)  # a word is not base64 text


def test_long_values_keep_head_and_tail() -> None:
    got, _ = names(make_request("/", form={"c": "A" * 200 + ";cat /etc/passwd"}), Limits(value_bytes=64))
    value = next(v for n, v in got if n == "ARGS:c")
    assert value.endswith(";cat /etc/passwd") and len(value) <= 65


def test_base64_path_segment() -> None:
    got, _ = names(make_request("/files/Oy9iaW4vY2F0IC9ldGMvcGFzc3dk"))
    assert ("PATH_SEGMENT|base64", ";/bin/cat /etc/passwd") in got
