"""Path normalisation: backslashes to slashes, repeated slashes, ``./`` removal.

``..`` segments are kept (resolving them would hide a traversal attempt from the rules); only
the noise attackers add around them is removed.
"""

from __future__ import annotations

import re

_SLASHES = re.compile(r"/{2,}")
_DOT_SEGMENT = re.compile(r"(?:^|/)\.(?=/|$)")
_DOTS_NOISE = re.compile(r"\.{3,}")


def normalize_path(value: str) -> str:
    if "\\" in value:
        value = value.replace("\\", "/")
    if "//" in value:
        value = _SLASHES.sub("/", value)
    if "/./" in value or value.startswith("./") or value.endswith("/."):
        value = _DOT_SEGMENT.sub("", value)
    if "..." in value:
        value = _DOTS_NOISE.sub("..", value)
    return value
