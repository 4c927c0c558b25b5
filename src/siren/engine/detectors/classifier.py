"""Learned classifier detector (placeholder until the model lands): returns no model."""

from __future__ import annotations

from typing import Any


def load_default_classifier() -> Any:
    return None
