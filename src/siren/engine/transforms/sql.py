"""SQL comment removal: ``/* … */`` (MySQL ``/*! … */`` keeps its content), ``-- …``, ``# …``."""

from __future__ import annotations

import re

_VERSIONED = re.compile(r"/\*!\d*")
_BLOCK = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)
_LINE = re.compile(r"(?:--|#)[^\n]*")


def remove_sql_comments(value: str) -> str:
    """Replace comments with a space, so ``UNION/**/SELECT`` becomes ``UNION SELECT``."""
    if "/*" in value:
        value = _VERSIONED.sub(" ", value)
        value = _BLOCK.sub(" ", value)
    if "*/" in value:  # the end of a versioned comment whose content was kept
        value = value.replace("*/", " ")
    if "--" in value or "#" in value:
        value = _LINE.sub(" ", value)
    return value
