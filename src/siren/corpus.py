"""Labelled request corpora (the JSONL format of ``shared/corpus/README.md``): read lines, turn
each into an engine :class:`~siren.engine.Request`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from siren.engine.request import Request
from siren.errors import CorpusError


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    source: str
    label: str
    category: str
    request: Request
    meta: dict[str, Any]


def record_from_json(obj: Any, where: str = "") -> Record:
    if not isinstance(obj, dict):
        raise CorpusError(f"{where}: expected a JSON object")
    try:
        headers = tuple((str(n), str(v)) for n, v in obj["headers"])
        body = obj.get("body")
        request = Request(
            method=str(obj["method"]),
            target=str(obj["target"]),
            headers=headers,
            body=body.encode("utf-8") if isinstance(body, str) else b"",
        )
        return Record(
            id=str(obj.get("id", where)),
            source=str(obj.get("source", "")),
            label=str(obj["label"]),
            category=str(obj.get("category", "")),
            request=request,
            meta=obj.get("meta") or {},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CorpusError(f"{where}: malformed corpus line: {exc}") from exc


def read_corpus_raw(path: Path) -> Iterator[tuple[dict[str, Any], Record]]:
    """(JSON object, record) per line; a malformed line raises :class:`CorpusError` naming the
    file and line."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read: {exc.strerror}") from exc
    with handle:
        for n, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise CorpusError(f"{path}:{n}: not JSON: {exc}") from exc
            yield obj, record_from_json(obj, f"{path}:{n}")


def read_corpus(path: Path) -> Iterator[Record]:
    """Yield the records of a corpus file."""
    for _, record in read_corpus_raw(path):
        yield record
