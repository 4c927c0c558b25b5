"""Command-line normalisation: undo the shell tricks that split or hide command words.

Removes quoting and escaping inside words (``c''at``, ``c\\at``, ``w"h"o``, Windows ``^``), turns
``$IFS``/``${IFS}``, literal ``\\x09``-style whitespace escapes and runs of blanks (and Windows
``,`` delimiters) into one space, drops empty expansions and substitutions (``$@``, ``$*``,
``$?``, ``$9``, ``$u``/``${a}``-style short unset variables, ``$()``, ``````, ``<()``), and lowers the
case. A literal ``\\n`` or ``\\r`` outside a word (as typed in payload lists) is read as the line
break it stands for, that is as a command separator (``;``). ``/bin//cat`` → ``/bin/cat``.

A line break at the very start or end of the value is read as a command separator (``;``): a value
does not start with a line break unless it is meant to end a command line. Other line breaks
inside the value become spaces like other blanks, and the whole value is framed by a
``\\n`` on each side, so rules can anchor at the start or end of a value with ``\\n`` (hyperscan
scans all values of a request joined, so ``^`` and ``$`` cannot do that).
"""

from __future__ import annotations

import re

_IFS = re.compile(r"\$\{?ifs(?:\}|\b)(?:\$9|\$\{9\})?", re.IGNORECASE)
# Expansions that are empty (or nearly so) in an attacker's shell and only serve to split words.
_EMPTY_EXPANSIONS = re.compile(
    r"\$(?:[@*!?_-]|\$|\{[@*!?_-]?\}|\d(?![\d])|\{[a-z_][a-z0-9_]{0,2}\}|[a-z_][a-z0-9_]{0,2}(?![a-z0-9_]))"
)
_EMPTY_SUBSTITUTIONS = re.compile(r"\$\(\s*\)|``|[<>]\(\s*\)")
_HEX_BLANK = re.compile(r"\\x(?:00|09|0a|0b|0c|0d|20|a0)")
# A literal \n or \r that is not inside a word (where a shell reads "\n" as a plain "n").
_ESCAPED_NEWLINE = re.compile(r"(?<![a-z\\])\\[nr]|(?<!\\)\\[nr](?![a-z\\])")
# Line breaks that open or close the value end the command before them (a leading %0a injection).
_EDGE_BREAKS = re.compile(r"^[ \t]*[\r\n][\s]*|[\s]*[\r\n][ \t]*$")
_REMOVE = str.maketrans({"\\": None, "'": None, '"': None, "^": None})
_SPACES = re.compile(r"[\s,+]+")
_SLASHES = re.compile(r"/{2,}")


def cmdline(value: str) -> str:
    value = value.lower()
    if "\\" in value:
        value = _HEX_BLANK.sub(" ", value)
    if "$" in value:
        value = _IFS.sub(" ", value)
        value = _EMPTY_EXPANSIONS.sub("", value)
    if "\\" in value:
        value = _ESCAPED_NEWLINE.sub(";", value)
    if "(" in value or "``" in value:
        value = _EMPTY_SUBSTITUTIONS.sub("", value)
    if "\n" in value or "\r" in value:
        value = _EDGE_BREAKS.sub(";", value)
    value = value.translate(_REMOVE)
    value = _SPACES.sub(" ", value)
    if "//" in value:
        value = _SLASHES.sub("/", value)
    return "\n" + value + "\n"
