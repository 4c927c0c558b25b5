"""``siren brain`` on the command line: argument errors are clear, exit status 2."""

from __future__ import annotations

import pytest

from siren.brain.cli import parse_listen
from siren.cli import build_parser, main
from siren.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:8700", ("127.0.0.1", 8700)), ("[::1]:0", ("::1", 0)), (":9000", ("127.0.0.1", 9000))],
)
def test_listen_addresses(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["8700", "host:", "host:http", "host:70000"])
def test_bad_listen_addresses(text: str) -> None:
    with pytest.raises(ConfigError, match="HOST:PORT"):
        parse_listen(text)


def test_the_brain_command_is_registered() -> None:
    args = build_parser().parse_args(["brain", "--listen", "127.0.0.1:0", "--db", "sqlite:///x.db"])
    assert args.listen == "127.0.0.1:0" and args.db == "sqlite:///x.db" and callable(args.func)


def test_bad_arguments_exit_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["brain", "--listen", "nowhere"]) == 2
    assert "HOST:PORT" in capsys.readouterr().err
    assert main(["brain", "--listen", "127.0.0.1:0", "--db", "mysql://u@h/db"]) == 2
    assert "unsupported database" in capsys.readouterr().err
