"""Path normalisation: compatibility forms (NFKC: full-width and circled characters), look-alike
dots and slashes, control characters, backslashes to slashes, repeated slashes, ``./`` removal.

``..`` segments are kept (resolving them would hide a traversal attempt from the rules); only
the noise attackers add around them is removed.
"""

from __future__ import annotations

import re
import unicodedata

_SLASHES = re.compile(r"/{2,}")
_DOT_SEGMENT = re.compile(r"(?:^|/)\.(?=/|$)")
_DOTS_NOISE = re.compile(r"\.{3,}")
_CONTROLS = re.compile(r"[\x01-\x1f\x7f]+")
# Characters that best-fit mappings (IIS, Windows ANSI APIs), IDNA or path APIs turn into ``.``,
# ``/`` or ``\`` and NFKC leaves alone: one-dot leader, ideographic full stops, the division
# slash / fraction slash / set minus, and two private-use code points listed by traversal
# fuzzers as separators.
_LOOKALIKES = str.maketrans({
    "\u2024": ".", "\u3002": ".", "\uff61": ".", "\u2215": "/", "\u2044": "/", "\uefc8": "/",
    "\u2216": "\\", "\uf025": "\\",
})


def normalize_path(value: str) -> str:
    if not value.isascii():
        # NFKC folds full-width (．／＼) and enclosed (①ⓛ) forms to ASCII; then the look-alikes
        # NFKC keeps (division slash, ideographic full stop…)
        value = unicodedata.normalize("NFKC", value).translate(_LOOKALIKES)
    if not value.isprintable():
        value = _CONTROLS.sub("", value)
    if "\\" in value:
        value = value.replace("\\", "/")
    if "//" in value:
        value = _SLASHES.sub("/", value)
    if "/./" in value or value.startswith("./") or value.endswith("/."):
        value = _DOT_SEGMENT.sub("", value)
    if "..." in value:
        value = _DOTS_NOISE.sub("..", value)
    return value
