"""Views: named transform chains. A rule names the view it scans; the engine computes each view
of each target at most once per request (a view extends its parent view).
"""

from __future__ import annotations

from siren.engine.transforms import REGISTRY

# name -> (parent view or "", transforms applied to the parent's text)
VIEWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "raw": ("", ()),  # as extracted (NUL inside a value shown as %00)
    "decoded": ("", ("url_decode_multi", "utf8_overlong_decode", "html_entity_decode", "remove_nulls", "lowercase")),
    "js": ("decoded", ("js_decode", "css_decode", "html_entity_decode")),
    "sql": ("decoded", ("remove_sql_comments", "compress_whitespace")),
    "cmd": ("decoded", ("cmdline",)),
    "path": ("decoded", ("normalize_path",)),
}


def chain(view: str) -> tuple[str, ...]:
    """The full list of transforms behind a view, for explanations."""
    parent, own = VIEWS[view]
    return (chain(parent) if parent else ()) + own


class ViewCache:
    """Per-request memo of ``view(target value)``."""

    __slots__ = ("values", "_cache")

    def __init__(self, values: list[str]) -> None:
        self.values = values
        # NUL separates values in a signature scan, so in the raw view a NUL inside a value is
        # written as ``%00`` (every other view removes NUL bytes).
        self._cache: dict[str, list[str]] = {"raw": [v.replace("\x00", "%00") if "\x00" in v else v for v in values]}

    def get(self, view: str) -> list[str]:
        cached = self._cache.get(view)
        if cached is not None:
            return cached
        parent, own = VIEWS[view]
        texts = self.get(parent) if parent else self.values
        funcs = [REGISTRY[name] for name in own]
        out = []
        for text in texts:
            for func in funcs:
                text = func(text)
            out.append(text)
        self._cache[view] = out
        return out
