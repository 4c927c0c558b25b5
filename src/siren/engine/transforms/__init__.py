"""Transforms: pure, total functions ``str -> str`` that decode or normalise a value.

Every transform is registered by name in :data:`REGISTRY`, so rules, docs and tests can refer to
it. A transform never raises and never reads anything but its argument. Chains of transforms
(named *views*) are what the signature detector scans: see :mod:`siren.engine.views`.
"""

from __future__ import annotations

from collections.abc import Callable

from siren.engine.transforms.base64 import base64_decode_text
from siren.engine.transforms.cmdline import cmdline
from siren.engine.transforms.escapes import css_decode, js_decode
from siren.engine.transforms.html import html_entity_decode
from siren.engine.transforms.path import normalize_path
from siren.engine.transforms.sql import remove_sql_comments
from siren.engine.transforms.text import compress_whitespace, lowercase, remove_nulls, utf8_overlong_decode
from siren.engine.transforms.url import url_decode, url_decode_multi, url_decode_uni

Transform = Callable[[str], str]

REGISTRY: dict[str, Transform] = {
    "url_decode": url_decode,
    "url_decode_multi": url_decode_multi,
    "url_decode_uni": url_decode_uni,
    "html_entity_decode": html_entity_decode,
    "js_decode": js_decode,
    "css_decode": css_decode,
    "utf8_overlong_decode": utf8_overlong_decode,
    "remove_nulls": remove_nulls,
    "base64_decode_text": base64_decode_text,
    "lowercase": lowercase,
    "compress_whitespace": compress_whitespace,
    "remove_sql_comments": remove_sql_comments,
    "normalize_path": normalize_path,
    "cmdline": cmdline,
}


def apply_chain(value: str, names: tuple[str, ...]) -> str:
    """Apply the named transforms in order."""
    for name in names:
        value = REGISTRY[name](value)
    return value


__all__ = ["REGISTRY", "Transform", "apply_chain", *REGISTRY]
