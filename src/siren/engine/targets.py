"""Target extraction: split a request into the named pieces the detectors inspect.

Each :class:`Target` has a ``collection`` (what rules select on: ``ARGS``, ``ARGS_NAMES``,
``PATH``, ``PATH_SEGMENTS``, ``COOKIES``, ``COOKIE_NAMES``, ``HEADERS``, ``FILES``,
``FILE_NAMES``, ``BODY``, ``XML``), a ``name`` that says exactly where the value came from
(``ARGS:q``, ``JSON:user.name``, ``HEADER:User-Agent``…) and the value, decoded once the way the
application would see it. Problems (limits, malformed bodies, XML DTDs) come back as findings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XMLParseError

import orjson
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as xml_fromstring

from siren.engine.limits import Limits
from siren.engine.request import Request
from siren.engine.transforms.base64 import decode_base64_value
from siren.engine.transforms.url import url_decode, url_decode_uni
from siren.engine.verdict import Finding


class Target(NamedTuple):
    """One inspectable piece of a request (immutable; a named tuple because a request makes
    many and tuples are the cheapest immutable records to build)."""

    collection: str
    name: str
    value: str


_new_target: Callable[[type[Target], tuple[str, str, str]], Target] = tuple.__new__


# Headers whose values are structured and carry no application input worth scanning for
# injections; everything else (User-Agent, Referer, X-*, custom headers) is inspected.
_SKIP_HEADERS = frozenset(
    {
        "host", "content-length", "content-type", "accept", "accept-encoding", "accept-language",
        "connection", "cookie", "keep-alive", "cache-control", "pragma", "upgrade-insecure-requests",
        "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site", "sec-fetch-user", "te",
        "if-modified-since", "if-none-match", "dnt", "authorization",
    }
)


# What the header loop does with a header, by name: skip it, parse it (cookie, content type,
# referer) or inspect it as the target named by the string itself (``HEADER:<name>``). Names seen
# are kept (bounded: the map is emptied when full).
_SKIP, _COOKIE, _CONTENT_TYPE, _REFERER = "skip", "cookie", "content-type", "referer"
_HEADER_KINDS: dict[str, str] = {}
_HEADER_KINDS_MAX = 1024


def _header_kind(name: str) -> str:
    lname = name.lower()
    if lname == "cookie":
        kind = _COOKIE
    elif lname == "content-type":
        kind = _CONTENT_TYPE
    elif lname == "referer":
        kind = _REFERER
    elif lname in _SKIP_HEADERS:
        kind = _SKIP
    else:
        kind = f"HEADER:{name}"
    if len(_HEADER_KINDS) >= _HEADER_KINDS_MAX:
        _HEADER_KINDS.clear()
    _HEADER_KINDS[name] = kind
    return kind


@dataclass(slots=True)
class Extraction:
    targets: list[Target]
    findings: list[Finding]


def _finding(rule_id: str, message: str, target: str, score: int, category: str = "protocol") -> Finding:
    return Finding("parser", rule_id, category, target, "", (), score, message)


class _Builder:
    __slots__ = ("args", "findings", "limits", "targets", "value_limit")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.targets: list[Target] = []
        self.findings: list[Finding] = []
        self.args = 0
        self.value_limit = limits.value_bytes

    def add(self, collection: str, name: str, value: str) -> None:
        limit = self.value_limit
        if len(value) > limit:
            # Keep the head and the tail: padding a value to push the payload past the limit
            # must not hide it.
            half = limit // 2
            value = value[:half] + "\n" + value[-half:]
        self.targets.append(_new_target(Target, (collection, name, value)))

    def arg(self, prefix: str, name: str, value: str) -> None:
        self.args += 1
        if self.args > self.limits.args:
            if self.args == self.limits.args + 1:
                self.findings.append(
                    _finding("limits.args", f"more than {self.limits.args} arguments; the rest not inspected", prefix, 3)
                )
            return
        if name:
            self.add("ARGS_NAMES", f"{prefix}_NAMES", name)
        if value:
            self.add("ARGS", f"{prefix}:{name}", value)

    def urlencoded(self, prefix: str, text: str) -> None:
        for part in text.split("&"):
            if not part:
                continue
            name, _, value = part.partition("=")
            self.arg(prefix, url_decode(name), url_decode(value))


def extract_targets(request: Request, limits: Limits) -> Extraction:
    """Every inspectable piece of ``request``; never raises."""
    b = _Builder(limits)
    raw_path, _, query = request.target.partition("?")
    b.add("PATH", "PATH", url_decode_uni(raw_path))
    for segment in raw_path.split("/"):
        if not segment:
            continue
        if "%" in segment or not segment.replace("-", "").replace("_", "").replace(".", "").isalnum():
            b.add("PATH_SEGMENTS", "PATH_SEGMENT", url_decode_uni(segment))
        elif len(segment) >= 12:
            text = _base64_text(segment)  # a base64-wrapped payload in the path
            if text is not None:
                b.add("PATH_SEGMENTS", "PATH_SEGMENT|base64", text)
    if query:
        b.urlencoded("ARGS", query)

    if len(request.headers) > limits.headers:
        b.findings.append(_finding("limits.headers", f"more than {limits.headers} headers", "HEADERS", 3))
    content_type = ""
    header_bytes = limits.header_bytes
    kinds = _HEADER_KINDS
    for name, value in request.headers[: limits.headers] if len(request.headers) > limits.headers else request.headers:
        kind = kinds.get(name)
        if kind is None:
            kind = _header_kind(name)
        if len(value) > header_bytes:
            b.findings.append(_finding("limits.header_bytes", f"header {name} longer than {header_bytes} bytes", f"HEADER:{name}", 3))
            value = value[:header_bytes]
        if kind is _SKIP:
            continue
        if kind is _COOKIE:
            _cookies(b, value)
        elif kind is _CONTENT_TYPE:
            content_type = value
            b.add("HEADERS", f"HEADER:{name}", value)
        elif kind is _REFERER:
            b.add("HEADERS", f"HEADER:{name}", value)
            _, _, ref_query = value.partition("?")
            if ref_query:
                b.urlencoded("REFERER_ARGS", ref_query)
        else:
            b.add("HEADERS", kind, value)

    body = request.body
    if body:
        if len(body) > limits.body_bytes:
            b.findings.append(
                _finding("limits.body_bytes", f"body larger than {limits.body_bytes} bytes; only that much inspected", "BODY", 0)
            )
            body = body[: limits.body_bytes]
        _body(b, body, content_type, limits)
    _add_base64_twins(b)
    return Extraction(b.targets, b.findings)


_B64_COLLECTIONS = frozenset({"ARGS", "COOKIES", "PATH_SEGMENTS", "HEADERS", "XML"})


# decode_base64_value is pure and values repeat across requests (cookies, tokens, User-Agents):
# its results are kept, bounded like the view memo ("" stands for None).
_B64_MEMO: dict[str, str] = {}
_B64_MEMO_MAX = 4096
_B64_MEMO_TEXT_MAX = 512


def _base64_text(value: str) -> str | None:
    text = _B64_MEMO.get(value)
    if text is None:
        decoded = decode_base64_value(value)
        text = "" if decoded is None else decoded
        if len(value) <= _B64_MEMO_TEXT_MAX:
            if len(_B64_MEMO) >= _B64_MEMO_MAX:
                _B64_MEMO.clear()
            _B64_MEMO[value] = text
    return text or None


def clear_memo() -> None:
    """Forget the base64 results kept across requests (for measurements of the uncached cost)."""
    _B64_MEMO.clear()


def _add_base64_twins(b: _Builder) -> None:
    """A value that is one base64 token decoding to text gets a twin target holding the text."""
    for t in b.targets[:]:
        if t.collection in _B64_COLLECTIONS and len(t.value) >= 8:
            text = _base64_text(t.value)
            if text is not None:
                b.add(t.collection, f"{t.name}|base64", text)


def _cookies(b: _Builder, header: str) -> None:
    for part in header.split(";"):
        part = part.strip()
        if not part:
            continue
        name, _, value = part.partition("=")
        name = name.strip()
        b.add("COOKIE_NAMES", "COOKIE_NAMES", name)
        if value:
            b.add("COOKIES", f"COOKIE:{name}", url_decode_uni(value.strip()))


def _text(body: bytes) -> str:
    return body.decode("utf-8", "replace")


def _body(b: _Builder, body: bytes, raw_content_type: str, limits: Limits) -> None:
    content_type = raw_content_type.lower()
    if "application/x-www-form-urlencoded" in content_type:
        b.urlencoded("ARGS", _text(body))
        return
    if content_type.startswith("multipart/"):
        if not _multipart(b, body, raw_content_type, limits):
            b.add("BODY", "BODY", _text(body))
        return
    if "json" in content_type:
        if not _json(b, body, limits):
            b.findings.append(_finding("parser.json", "body declared JSON does not parse", "BODY", 2))
            b.add("BODY", "BODY", _text(body))
        return
    if "xml" in content_type or "soap" in content_type:
        _xml(b, body)
        return
    text = _text(body)
    stripped = text.lstrip()
    if stripped[:1] in ("{", "[") and _json(b, body, limits):
        return
    if stripped[:1] == "<":
        _xml(b, body)
        return
    b.add("BODY", "BODY", text)
    if "=" in text and "\n" not in text:
        b.urlencoded("ARGS", text)


def _json(b: _Builder, body: bytes, limits: Limits) -> bool:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    stack: list[tuple[str, object, int]] = [("", doc, 0)]
    while stack:
        path, node, depth = stack.pop()
        if depth > limits.json_depth:
            b.findings.append(_finding("limits.json_depth", f"JSON nested deeper than {limits.json_depth}", "JSON", 3))
            break
        if isinstance(node, dict):
            for key, value in reversed(list(node.items())):
                key = str(key)
                b.add("ARGS_NAMES", "JSON_NAMES", key)
                stack.append((f"{path}.{key}" if path else key, value, depth + 1))
        elif isinstance(node, list):
            for i in range(len(node) - 1, -1, -1):
                stack.append((f"{path}[{i}]", node[i], depth + 1))
        elif isinstance(node, str):
            _json_leaf(b, path, node)
        elif node is not None and not isinstance(node, bool):
            _json_leaf(b, path, str(node))
    return True


def _json_leaf(b: _Builder, path: str, value: str) -> None:
    b.args += 1
    if b.args > b.limits.args:
        return
    if value:
        b.add("ARGS", f"JSON:{path}", value)


def _xml(b: _Builder, body: bytes) -> None:
    text = _text(body)
    b.add("BODY", "BODY", text)
    head = text[:4096].lower()
    if "<!doctype" in head or "<!entity" in text.lower():
        b.findings.append(_finding("parser.xml_dtd", "XML document declares a DTD", "XML", 2, "xxe"))
    try:
        root = xml_fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        b.findings.append(_finding("parser.xml_entity", f"XML entity declaration refused: {type(exc).__name__}", "XML", 5, "xxe"))
        return
    except (XMLParseError, ValueError, SyntaxError):
        return
    _walk_xml(b, root, "")


def _walk_xml(b: _Builder, root: Element, prefix: str) -> None:
    stack: list[tuple[Element, str]] = [(root, prefix)]
    while stack:
        el, parent = stack.pop()
        tag = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else "?"
        path = f"{parent}/{tag}"
        for key, value in el.attrib.items():
            b.add("XML", f"XML:{path}@{key}", value)
        if el.text and el.text.strip():
            b.add("XML", f"XML:{path}", el.text.strip())
        if el.tail and el.tail.strip():
            b.add("XML", f"XML:{parent}", el.tail.strip())
        for child in reversed(list(el)):
            stack.append((child, path))


def _multipart(b: _Builder, body: bytes, content_type: str, limits: Limits) -> bool:
    boundary = ""
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "boundary":
            boundary = value.strip().strip('"')
    if not boundary:
        b.findings.append(_finding("parser.multipart", "multipart body without a boundary", "BODY", 3))
        return False
    delimiter = b"--" + boundary.encode("latin-1", "replace")
    parts = body.split(delimiter)
    if len(parts) < 3:
        b.findings.append(_finding("parser.multipart", "multipart body with no complete part", "BODY", 3))
        return False
    for part in parts[1:]:
        if part.startswith(b"--"):
            break
        head, sep, content = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = part.lstrip(b"\n").partition(b"\n\n")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        elif content.endswith(b"\n"):
            content = content[:-1]
        name, filename = "", None
        for line in head.decode("utf-8", "replace").splitlines():
            lname, _, value = line.partition(":")
            if lname.strip().lower() == "content-disposition":
                for param in value.split(";"):
                    key, _, v = param.strip().partition("=")
                    v = v.strip().strip('"')
                    if key == "name":
                        name = v
                    elif key == "filename":
                        filename = v
            elif lname.strip().lower() not in ("content-type", "content-transfer-encoding", ""):
                b.add("HEADERS", f"MULTIPART_HEADER:{lname.strip()}", value.strip())
        if filename is not None:
            b.add("FILE_NAMES", f"FILE:{name}", filename)
            b.add("FILES", f"FILE:{name}", _text(content[: limits.file_bytes]))
            if name:
                b.add("ARGS_NAMES", "ARGS_NAMES", name)
        else:
            b.arg("ARGS", name, _text(content))
    return True
