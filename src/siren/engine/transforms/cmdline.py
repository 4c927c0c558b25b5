"""Command-line normalisation: undo the shell tricks that split or hide command words.

Removes quoting and escaping inside words (``c''at``, ``c\\at``, ``w"h"o``, Windows ``^``), turns
``$IFS``/``${IFS}`` and runs of separators into one space, drops empty ``$@``/``$*``, and lowers
the case. ``/bin//cat`` → ``/bin/cat``.
"""

from __future__ import annotations

import re

_IFS = re.compile(r"\$\{?ifs(?:\}|\b)(?:\$9|\$\{9\})?", re.IGNORECASE)
_EMPTY_EXPANSIONS = re.compile(r"\$(?:@|\*|\{@\}|\{\*\}|\{\}|\d(?![\d]))")
_REMOVE = str.maketrans({"\\": None, "'": None, '"': None, "^": None, "`": " "})
_SPACES = re.compile(r"[\s,]+")
_SLASHES = re.compile(r"/{2,}")


def cmdline(value: str) -> str:
    value = value.lower()
    if "$" in value:
        value = _IFS.sub(" ", value)
        value = _EMPTY_EXPANSIONS.sub("", value)
    value = value.translate(_REMOVE)
    value = _SPACES.sub(" ", value)
    if "//" in value:
        value = _SLASHES.sub("/", value)
    return value
