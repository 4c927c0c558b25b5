"""Structured logs: one JSON object per line (structlog, serialised with orjson) on stderr.

Lines the sidecar writes (``event`` field): ``blocked``, ``would_block`` (shadow mode),
``suspicious`` (scored below the threshold), ``engine_error``, ``rejected`` (malformed or over a
limit), ``upstream_error``, ``overloaded``, ``access`` (one per request, only with
``logging.access_log``), and lifecycle lines (``listening``, ``reloaded``, ``draining``...).
Every request line carries ``request_id``; blocks carry ``incident_id``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, BinaryIO

import orjson
import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure_logging(level: str = "info", stream: BinaryIO | None = None) -> None:
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        logger_factory=structlog.BytesLoggerFactory(stream or sys.stderr.buffer),
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        cache_logger_on_first_use=True,
    )


def get_logger(**bound: Any) -> Any:
    return structlog.get_logger(**bound)
