"""The renderers' input type: ``(channel_id, Sentence)`` pairs."""

from __future__ import annotations

from collections.abc import Iterable

from airflow_provider_qwenasr.models import Sentence

__all__ = ["Pairs"]

Pairs = Iterable[tuple[int, Sentence]]
