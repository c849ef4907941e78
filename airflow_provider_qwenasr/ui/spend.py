"""Spend at a glance: audio and billed seconds, and transcriptions by status, per DAG and per day.

Pure functions over :class:`SpendRow` (the few fields :func:`.store.spend_rows` reads of each
manifest, never the manifest itself), so the Transcriptions page, its JSON and the tests all
aggregate the same way. Figures:

- **billed seconds**: the manifest's ``usage_seconds``, DashScope's ``usage.seconds`` (or
  ``usage.duration`` for Fun-ASR/Paraformer); a manifest without it counts in ``without_usage``;
- **audio seconds**: the manifest's ``totals.duration_ms`` (the files that succeeded);
- **by status**: the manifest's ``status`` (what the page's status filter matches).

A transcription belongs to the windows its XCom's timestamp (when the fetch returned it) falls in:
the last 24 hours and the last 7 days, both ending now; the chart's days are UTC calendar days.
The values come from an XCom, which a user allowed to edit XComs can rewrite: a figure that is not
a finite, non-negative number is left out, never an error.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

__all__ = [
    "CHART_DAYS",
    "DAY",
    "SPEND_ROW_LIMIT",
    "WEEK",
    "DagSpend",
    "DailySpend",
    "Figures",
    "Spend",
    "SpendRow",
    "aggregate",
    "hours",
    "seconds",
    "spend_json",
]

#: The two windows, ending now.
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
#: UTC calendar days in the chart, today included.
CHART_DAYS = 7
#: At most this many transcriptions (the newest of the last 7 days) are read for the figures;
#: past it, the figures say they are partial (``truncated``).
SPEND_ROW_LIMIT = 20_000

_HOUR = 3600.0


@dataclass(frozen=True)
class SpendRow:
    """What the figures need of one manifest: where and when it was returned, and three values."""

    dag_id: str
    timestamp: datetime
    status: Any
    usage_seconds: Any
    duration_ms: Any


def _amount(value: Any) -> float | None:
    """A finite non-negative number as a float; anything else (text, bool, null, NaN) is None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


@dataclass
class Figures:
    """The sums over a set of transcriptions."""

    count: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    audio_seconds: float = 0.0
    billed_seconds: float = 0.0
    #: Transcriptions without a billed figure (no ``usage_seconds``, or not a number).
    without_usage: int = 0

    def add(self, row: SpendRow) -> None:
        """Count ``row`` in these figures."""
        self.count += 1
        status = row.status if isinstance(row.status, str) and row.status else "UNKNOWN"
        self.by_status[status[:40]] = self.by_status.get(status[:40], 0) + 1
        self.audio_seconds += (_amount(row.duration_ms) or 0.0) / 1000
        billed = _amount(row.usage_seconds)
        if billed is None:
            self.without_usage += 1
        else:
            self.billed_seconds += billed

    def as_json(self) -> dict[str, Any]:
        """The figures as the JSON route serves them (seconds rounded to the millisecond)."""
        return {
            "count": self.count,
            "by_status": dict(sorted(self.by_status.items())),
            "audio_seconds": round(self.audio_seconds, 3),
            "audio_hours": round(self.audio_seconds / _HOUR, 4),
            "billed_seconds": round(self.billed_seconds, 3),
            "billed_hours": round(self.billed_seconds / _HOUR, 4),
            "without_usage": self.without_usage,
        }


@dataclass
class DagSpend:
    """One DAG's figures over the last day and the last week."""

    dag_id: str
    day: Figures = field(default_factory=Figures)
    week: Figures = field(default_factory=Figures)


@dataclass
class DailySpend:
    """One UTC calendar day of the chart."""

    day: date
    billed_seconds: float = 0.0
    count: int = 0
    #: Billed seconds by DAG (the bar's tooltip).
    by_dag: dict[str, float] = field(default_factory=dict)


@dataclass
class Spend:
    """Everything the page and the JSON show: per DAG, all DAGs together, and per day."""

    now: datetime
    dags: list[DagSpend]
    day: Figures
    week: Figures
    daily: list[DailySpend]
    #: Transcriptions read, and whether more were left unread (:data:`SPEND_ROW_LIMIT`).
    scanned: int = 0
    truncated: bool = False
    limit: int = SPEND_ROW_LIMIT


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def aggregate(rows: Iterable[SpendRow], now: datetime, *, limit: int = SPEND_ROW_LIMIT) -> Spend:
    """Sum ``rows`` (any order) per DAG over the last day and week, and per UTC day for the chart.

    Rows older than a week, or timestamped after ``now``, are left out. At most ``limit`` rows
    are read; a row past it sets ``truncated`` (give ``limit + 1`` rows to learn that).
    """
    now = _utc(now)
    today = now.date()
    days = {today - timedelta(days=n): DailySpend(today - timedelta(days=n)) for n in range(CHART_DAYS)}
    per_dag: dict[str, DagSpend] = {}
    spend = Spend(now=now, dags=[], day=Figures(), week=Figures(), daily=[], limit=limit)
    for row in rows:
        if spend.scanned >= limit:
            spend.truncated = True
            break
        spend.scanned += 1
        when = _utc(row.timestamp)
        if not now - WEEK < when <= now:
            continue
        dag = per_dag.setdefault(row.dag_id, DagSpend(row.dag_id))
        dag.week.add(row)
        spend.week.add(row)
        if when > now - DAY:
            dag.day.add(row)
            spend.day.add(row)
        bar = days.get(when.date())
        if bar is not None:
            bar.count += 1
            billed = _amount(row.usage_seconds) or 0.0
            bar.billed_seconds += billed
            bar.by_dag[row.dag_id] = bar.by_dag.get(row.dag_id, 0.0) + billed
    spend.dags = [per_dag[d] for d in sorted(per_dag)]
    spend.daily = [days[d] for d in sorted(days)]
    return spend


def seconds(value: float) -> str:
    """A number of seconds for the page: ``12.5 s``, ``3,600 s``."""
    return f"{value:,.1f} s" if value < 100 else f"{value:,.0f} s"


def hours(value: float) -> str:
    """A number of seconds as hours for the page: ``0.003 h``, ``1.25 h``."""
    h = value / _HOUR
    return f"{h:,.3f} h" if h < 1 else f"{h:,.2f} h"


def spend_json(spend: Spend, filters: Mapping[str, str | None]) -> dict[str, Any]:
    """The JSON document of :class:`Spend` (figures only: no task ids, URLs or manifest values)."""
    return {
        "generated_at": spend.now.isoformat(),
        "filters": dict(filters),
        "windows": {
            "day": {"since": (spend.now - DAY).isoformat(), "until": spend.now.isoformat()},
            "week": {"since": (spend.now - WEEK).isoformat(), "until": spend.now.isoformat()},
        },
        "limit": spend.limit,
        "scanned": spend.scanned,
        "truncated": spend.truncated,
        "totals": {"day": spend.day.as_json(), "week": spend.week.as_json()},
        "dags": [{"dag_id": d.dag_id, "day": d.day.as_json(), "week": d.week.as_json()} for d in spend.dags],
        "daily": [
            {
                "date": d.day.isoformat(),
                "count": d.count,
                "billed_seconds": round(d.billed_seconds, 3),
                "billed_hours": round(d.billed_seconds / _HOUR, 4),
            }
            for d in spend.daily
        ],
    }
