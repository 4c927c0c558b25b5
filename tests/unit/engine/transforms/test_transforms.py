"""Table-driven cases for every registered transform."""

import pytest

from siren.engine.transforms import REGISTRY, apply_chain

CASES: list[tuple[str, str, str]] = [
    ("url_decode", "a+b%20c", "a b c"),
    ("url_decode", "%27%20OR%201%3D1", "' OR 1=1"),
    ("url_decode", "100%", "100%"),
    ("url_decode", "%zz", "%zz"),
    ("url_decode", "%C3%A9t%C3%A9", "été"),
    ("url_decode_uni", "%u003cscript%u003e", "<script>"),
    ("url_decode_uni", "a+b", "a+b"),
    ("url_decode", "%c1%9c", "\\"),  # overlong / IIS-lax escapes of ASCII
    ("url_decode", "%c0%2e", "."),
    ("url_decode_uni", "%c0%ae%c0%ae%c0%af", "../"),
    ("url_decode", "caf%C3%A9", "café"),  # valid UTF-8 is never read as overlong
    ("url_decode_multi", "%252e%252e%252f", "../"),
    ("url_decode_multi", "%2525252e", "%2e"),  # bounded: three passes
    ("url_decode_multi", "plain", "plain"),
    ("html_entity_decode", "&lt;script&gt;", "<script>"),
    ("html_entity_decode", "&#x3c;svg &#60 onload", "<svg < onload"),
    ("html_entity_decode", "&amp;lt;", "<"),
    ("html_entity_decode", "Tom &amp Jerry", "Tom & Jerry"),
    ("html_entity_decode", "&#99999999;", "\ufffd"),
    ("js_decode", r"\x3cscript\u003e", "<script>"),
    ("js_decode", r"\u{61}lert", "alert"),
    ("js_decode", r"\141", "a"),
    ("js_decode", "no escapes", "no escapes"),
    ("css_decode", r"\3c script", "<script"),
    ("css_decode", r"exp\ression", "expression"),
    ("utf8_overlong_decode", "%c0%ae%c0%ae%c0%af", "../"),
    ("utf8_overlong_decode", "\u00c0\u00ae", "."),
    ("utf8_overlong_decode", "café", "café"),
    ("remove_nulls", "ja\x00vascript", "javascript"),
    ("base64_decode_text", "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg", "<script>alert(1)</script>"),
    ("base64_decode_text", "short", ""),
    ("base64_decode_text", "AAECAwQFBgcICQoLDA0ODxAREhM=", ""),  # binary, not text
    ("lowercase", "SeLeCt", "select"),
    ("compress_whitespace", "a \t\n\x0b b", "a b"),
    ("remove_sql_comments", "UNION/**/SELECT", "UNION SELECT"),
    ("remove_sql_comments", "/*!50000UNION*/ SELECT", " UNION  SELECT"),
    ("remove_sql_comments", "1 -- comment", "1  "),
    ("remove_sql_comments", "1 # comment", "1  "),
    ("normalize_path", "..\\..\\windows\\win.ini", "../../windows/win.ini"),
    ("normalize_path", "/a//b/./c/.", "/a/b/c"),
    ("normalize_path", "①⑥⑨∖．．∖etc", "169/../etc"),  # compatibility forms and look-alikes
    ("normalize_path", "..../....//etc", "../..//etc".replace("//", "/")),
    # the cmd view frames each value with line breaks, so rules can anchor "the value is a command"
    ("cmdline", "c'a't /e\\tc/pa\"ss\"wd", "\ncat /etc/passwd\n"),
    ("cmdline", "cat${IFS}/etc/passwd", "\ncat /etc/passwd\n"),
    ("cmdline", "w^h^o^a^m^i", "\nwhoami\n"),
    ("cmdline", "/bin//ls$@ -la", "\n/bin/ls -la\n"),
    ("cmdline", "%0aid", "\n%0aid\n"),
]


@pytest.mark.parametrize(("name", "given", "expected"), CASES)
def test_transform_table(name: str, given: str, expected: str) -> None:
    assert REGISTRY[name](given) == expected


def test_every_transform_has_cases() -> None:
    covered = {name for name, _, _ in CASES}
    assert covered == set(REGISTRY), f"transforms without a case: {set(REGISTRY) - covered}"


def test_apply_chain_runs_in_order() -> None:
    assert apply_chain("%253Cscript%253E", ("url_decode_multi", "lowercase")) == "<script>"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("JyBvciAxPTE", "' or 1=1"),
        ("eyJhbGciOiJIUzI1NiJ9", '{"alg":"HS256"}'),
        ("password", None),  # decodes to binary
        ("dGVzdA==", None),  # plain word: nothing an attack needs
        ("AAECAwQFBgc=", None),
        ("not base64!", None),
    ],
)
def test_decode_base64_value(given: str, expected: str | None) -> None:
    from siren.engine.transforms.base64 import decode_base64_value

    assert decode_base64_value(given) == expected
