"""A stand-in for Airflow's ``Stats`` that keeps what the provider's metrics send.

Installed through ``_compat.stats``, the one place the provider looks ``Stats`` up; it checks that
each call has its metric's declared type and exactly its declared tags.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from airflow_provider_qwenasr import _compat, metrics
from airflow_provider_qwenasr.rate import reset_budgets


class Recorder:
    """Keeps ``(kind, name, value, tags)`` of each call, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any, dict[str, str]]] = []

    def incr(self, stat: str, count: float = 1, rate: float = 1, *, tags: dict[str, str]) -> None:
        self.sent.append(("counter", stat, count, tags))

    def gauge(
        self, stat: str, value: float, rate: float = 1, delta: bool = False, *, tags: dict[str, str]
    ) -> None:
        self.sent.append(("gauge", stat, value, tags))

    def timing(self, stat: str, dt: timedelta, *, tags: dict[str, str]) -> None:
        self.sent.append(("timer", stat, dt, tags))

    def named(self, metric: metrics.Metric) -> list[tuple[Any, dict[str, str]]]:
        """``(value, tags)`` of each call of ``metric``."""
        return [(value, tags) for _, name, value, tags in self.sent if name == metric.name]

    def check_declared(self) -> None:
        """Every call sent its metric's declared type and exactly its declared tags."""
        declared = {m.name: m for m in metrics.METRICS}
        for kind, name, _value, tags in self.sent:
            assert kind == declared[name].kind, name
            assert sorted(tags) == sorted(declared[name].tags), name


def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """The body of a ``stats`` fixture: a fresh recorder and fresh rate budgets, checked at the end."""
    recorder = Recorder()
    monkeypatch.setattr(_compat, "stats", lambda: recorder)
    reset_budgets()
    yield recorder
    reset_budgets()
    recorder.check_declared()
