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


# Views are pure functions of one value, so results are also kept across requests, per view, in
# a bounded memo (values repeat: User-Agents, cookies, path segments, parameter names). It is
# cleared when full; a value longer than _MEMO_TEXT_MAX is never kept.
_MEMO_MAX = 4096
_MEMO_TEXT_MAX = 512
_MEMO: dict[tuple[str, str, tuple[str, ...]], dict[str, str]] = {}
"""Per view (keyed by its name and definition), parent text -> view text."""

Framed = tuple[bytes, list[int], list[int]]
"""A view's values as one NUL-framed buffer (``\\0v1\\0v2\\0``), with each value's start and end
byte offset in it."""


def clear_memo() -> None:
    """Forget the values kept across requests (for measurements of the uncached cost)."""
    _MEMO.clear()


def _compute(view: str, texts: list[str]) -> list[str]:
    parent, own = VIEWS[view]
    key = (view, parent, own)
    memo = _MEMO.get(key)
    if memo is None:
        memo = _MEMO[key] = {}
    get = memo.get
    out: list[str] = []
    same = True
    for text in texts:
        result = get(text)
        if result is None:
            result = text
            for name in own:
                result = REGISTRY[name](result)
            if len(text) <= _MEMO_TEXT_MAX:
                if len(memo) >= _MEMO_MAX:
                    memo.clear()
                memo[text] = result
        if same and result != text:
            same = False
        out.append(result)
    # A view that changes no value shares its parent's list (and so its scan buffer).
    return texts if same and parent else out


class ViewCache:
    """Per-request memo of ``view(target value)``, and of each view's framed scan buffer."""

    __slots__ = ("_cache", "_framed", "values")

    def __init__(self, values: list[str]) -> None:
        self.values = values
        self._cache: dict[str, list[str]] = {}
        self._framed: dict[int, Framed] = {}

    def get(self, view: str) -> list[str]:
        cached = self._cache.get(view)
        if cached is not None:
            return cached
        if view == "raw":
            # NUL separates values in a signature scan, so in the raw view a NUL inside a value is
            # written as ``%00`` (every other view removes NUL bytes).
            values = self.values
            out = [v.replace("\x00", "%00") if "\x00" in v else v for v in values]
            if all(a is b for a, b in zip(out, values, strict=True)):
                out = values
        else:
            parent = VIEWS[view][0]
            out = _compute(view, self.get(parent) if parent else self.values)
        self._cache[view] = out
        return out

    def framed(self, view: str) -> Framed:
        """The values of ``view`` framed and joined by NUL (``\\0v1\\0v2\\0``, UTF-8 with
        surrogates passed through), with the byte offsets where each value starts and ends.
        Views with the same values share one buffer."""
        values = self.get(view)
        key = id(values)
        cached = self._framed.get(key)
        if cached is not None:
            return cached
        starts: list[int] = []
        ends: list[int] = []
        text = "\x00".join(["", *values, ""]) if values else "\x00\x00"
        if text.isascii():
            buffer = text.encode()
            pos = 1
            for v in values:
                starts.append(pos)
                pos += len(v)
                ends.append(pos)
                pos += 1
        else:
            encoded = [v.encode("utf-8", "surrogatepass") for v in values]
            buffer = b"\x00" + b"\x00".join(encoded) + b"\x00"
            pos = 1
            for e in encoded:
                starts.append(pos)
                pos += len(e)
                ends.append(pos)
                pos += 1
        framed = self._framed[key] = (buffer, starts, ends)
        return framed
