"""Inspection limits. Going past one is a finding (``limits`` detector), never a crash."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    body_bytes: int = 1_048_576
    """Bytes of body inspected; the rest is not parsed (reported)."""
    args: int = 512
    """Arguments (query, form, JSON leaves, multipart fields) inspected."""
    json_depth: int = 64
    headers: int = 100
    header_bytes: int = 16_384
    """Longest single header value inspected."""
    value_bytes: int = 65_536
    """Longest single value inspected (longer values are cut)."""
    file_bytes: int = 65_536
    """Bytes of each uploaded file inspected."""
