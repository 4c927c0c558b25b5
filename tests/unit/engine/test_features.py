"""Syntax-token features of the learned classifier (siren.engine.features)."""

from __future__ import annotations

import pytest

from siren.engine.features import (
    WINDOW,
    feature_name,
    features,
    is_plain,
    is_syntax_feature,
    iter_windows,
    parse_feature,
    syntax_features,
    tokenize,
)

# (decoded text, expected display tokens)
TOKENS = [
    # prose in any script is words and prose punctuation, whatever its vocabulary
    ("das ist ein schöner tag, nicht wahr?", ["W", "W", "W", "W", "W", ",", "W", "W", "?"]),
    ("नमस्ते दुनिया", ["W", "W"]),  # combining vowel signs stay inside the word
    ("สวัสดีครับ", ["W"]),
    ("select the best option from the list", ["W"] * 7),
    ("curl and divergence", ["W", "W", "W"]),
    ("union station to brooklyn", ["W", "W", "W", "W"]),
    ("check the inbox (and spam folder)", ["W", "W", "W", "(", "W", "W", "W", ")"]),
    # keywords next to syntax keep their identity
    ("1' or '1'='1", ["N", "'", "or", "'", "N", "'", "=", "'", "N"]),
    ("1 union select 1,2", ["N", "union", "select", "N", ",", "N"]),
    ("1e1 union select x", ["N", "union", "select", "W"]),
    ("sleep(5)", ["sleep", "(", "N", ")"]),
    ("; cat /etc/passwd", [";", "cat", "/", "etc", "/", "passwd"]),
    ("<script>alert(1)</script>", ["<", "script", ">", "alert", "(", "N", ")", "<", "/", "script", ">"]),
    # operators, hex numbers, escapes, other symbols
    ("../..\\x", ["../", "..\\", "W"]),
    ("{{7*7}}", ["{{", "N", "*", "N", "}}"]),
    ("${jndi:ldap://x}", ["${", "jndi", ":", "ldap", ":", "/", "/", "W", "}"]),
    ("0x41 \\x41 \\u0041", ["X", "E", "E"]),
    ("a1b2 €", ["A", "S"]),
]


@pytest.mark.parametrize(("text", "expected"), TOKENS)
def test_tokenize(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


# (feature, can carry weight)
SYNTAX = [
    ("or", True),
    (("'", "or"), True),
    (("N", "../", "etc"), True),
    ("--", True),
    ("X", True),
    ("W", False),
    ("'", False),  # a lone quote is ordinary text (O'Brien, JSON)
    (("W", "'", "W"), False),
    (("(", "N", ")"), False),
    (("W", ";", "W"), False),
]


@pytest.mark.parametrize(("feature", "expected"), SYNTAX)
def test_is_syntax_feature(feature: str | tuple[str, ...], expected: bool) -> None:
    assert is_syntax_feature(feature) is expected  # type: ignore[arg-type]


def test_features_are_ngrams_with_markers() -> None:
    fs = features("1' or 1=1")
    assert {"or", ("^^", "N"), ("N", "'", "or"), ("N", "$$")} <= fs
    assert "^^" not in fs and "$$" not in fs  # markers only inside n-grams
    assert all(isinstance(f, str) or len(f) in (2, 3) for f in fs)
    assert syntax_features("1' or 1=1") == {f for f in fs if is_syntax_feature(f)}
    assert syntax_features("hello world, nice day") == set()


@pytest.mark.parametrize("text", ["1' or 1=1--", "<svg onload=alert(1)>", "plain words", "x " * 100])
def test_feature_names_round_trip(text: str) -> None:
    for f in features(text):
        assert parse_feature(feature_name(f)) == f


@pytest.mark.parametrize(("n_tokens", "n_windows"), [(1, 1), (WINDOW, 1), (WINDOW + 1, 2), (3 * WINDOW, 5)])
def test_windows_cover_the_text(n_tokens: int, n_windows: int) -> None:
    text = " ".join("w" if i % 5 else "1" for i in range(n_tokens))
    windows = [set(w) for w in iter_windows(text)]
    assert len(windows) == n_windows
    assert set().union(*windows) == features(text)


# (text, plain)
PLAIN = [
    ("john smith", True),
    ("42", True),
    ("jane.doe@example.com", True),
    ("union select 1", False),  # plain characters but keywords: scored
    ("o'brien", False),
    ("/etc/passwd", False),
]


@pytest.mark.parametrize(("text", "expected"), PLAIN)
def test_is_plain(text: str, expected: bool) -> None:
    assert is_plain(text) is expected


def test_deterministic() -> None:
    text = "1' union select null,concat(user,0x3a,pass) from users-- <img src=x onerror=alert(1)>"
    assert features(text) == features(text)
    assert sorted(map(feature_name, features(text))) == sorted(map(feature_name, features(text)))
