"""Lenient coercions shared by the parsers: a malformed optional field gets a default, not an error."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def _int(value: object, default: int = 0) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return default


def _list(value: object) -> list[Any]:
    """``value`` when it is a list, else empty: a malformed optional list is ignored, not fatal."""
    return value if isinstance(value, list) else []


def _extra(data: Mapping[str, Any], known: Iterable[str]) -> dict[str, Any]:
    known_keys = set(known)
    return {k: v for k, v in data.items() if k not in known_keys}
