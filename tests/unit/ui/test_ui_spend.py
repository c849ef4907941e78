"""Spend at a glance: the aggregation (windows, per DAG, by status, empty, bad values) and its SVG."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from airflow_provider_qwenasr.ui.spend import (
    CHART_DAYS,
    DailySpend,
    SpendRow,
    aggregate,
    hours,
    seconds,
    spend_json,
)
from airflow_provider_qwenasr.ui.spend_chart import TOOLTIP_DAGS, render_spend_chart

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)


def row(
    dag_id: str,
    ago: timedelta,
    status: object = "SUCCEEDED",
    usage: object = 60.0,
    duration_ms: object = 90_000,
) -> SpendRow:
    return SpendRow(dag_id, NOW - ago, status, usage, duration_ms)


def test_windows_per_dag_and_by_status() -> None:
    """A row counts in the day window if under 24 h old, in the week if under 7 days; per DAG and in all."""
    rows = [
        row("a", timedelta(hours=1)),
        row("a", timedelta(hours=23), status="FAILED", usage=5, duration_ms=0),
        row("a", timedelta(days=2)),
        row("b", timedelta(days=6, hours=23), usage=3600.0, duration_ms=7_200_000),
        row("b", timedelta(days=7, minutes=1)),  # older than the week: left out
        row("b", -timedelta(minutes=5)),  # after now (a clock ahead): left out
    ]
    spend = aggregate(rows, NOW)
    assert [d.dag_id for d in spend.dags] == ["a", "b"]
    a, b = spend.dags
    assert (a.day.count, a.day.by_status) == (2, {"SUCCEEDED": 1, "FAILED": 1})
    assert (a.day.billed_seconds, a.day.audio_seconds) == (65.0, 90.0)
    assert (a.week.count, a.week.billed_seconds, a.week.audio_seconds) == (3, 125.0, 180.0)
    assert (b.day.count, b.week.count) == (0, 1)
    assert (b.week.billed_seconds, b.week.audio_seconds) == (3600.0, 7200.0)
    assert spend.day.count == 2
    assert spend.week.count == 4
    assert spend.week.billed_seconds == 3725.0
    assert spend.week.by_status == {"SUCCEEDED": 3, "FAILED": 1}
    assert spend.scanned == len(rows)
    assert not spend.truncated


def test_daily_bars_are_utc_calendar_days() -> None:
    """Seven UTC days ending today, oldest first; each bar sums its day's billed seconds, per DAG too."""
    rows = [
        row("a", timedelta(hours=1)),  # 2026-03-04 14:00
        row("b", timedelta(hours=14, minutes=59)),  # 2026-03-04 00:01
        row("a", timedelta(hours=15, minutes=1), usage=30),  # 2026-03-03 23:59
        row("a", timedelta(days=6, hours=16)),  # 2026-02-25 23:00: in the week, before the chart
    ]
    spend = aggregate(rows, NOW)
    assert [d.day for d in spend.daily] == [date(2026, 2, 26) + timedelta(days=n) for n in range(7)]
    assert len(spend.daily) == CHART_DAYS
    today, yesterday = spend.daily[-1], spend.daily[-2]
    assert (today.count, today.billed_seconds, today.by_dag) == (2, 120.0, {"a": 60.0, "b": 60.0})
    assert (yesterday.count, yesterday.billed_seconds) == (1, 30.0)
    assert sum(d.count for d in spend.daily) == 3
    assert spend.week.count == 4


def test_naive_timestamps_are_utc() -> None:
    """A timestamp without a zone (SQLite may give one back) is read as UTC."""
    naive = SpendRow("a", (NOW - timedelta(hours=2)).replace(tzinfo=None), "SUCCEEDED", 1, 1000)
    spend = aggregate([naive], NOW)
    assert spend.day.count == 1
    assert spend.daily[-1].count == 1


def test_empty() -> None:
    """No rows: no DAG, zero figures, seven empty days, and a chart with no bar drawn."""
    spend = aggregate([], NOW)
    assert spend.dags == []
    assert (spend.day.count, spend.week.count, spend.week.billed_seconds) == (0, 0, 0.0)
    assert [d.count for d in spend.daily] == [0] * CHART_DAYS
    document = spend_json(spend, {"dag_id": None, "status": None})
    assert document["dags"] == []
    assert document["totals"]["week"] == {
        "count": 0,
        "by_status": {},
        "audio_seconds": 0.0,
        "audio_hours": 0.0,
        "billed_seconds": 0.0,
        "billed_hours": 0.0,
        "without_usage": 0,
    }
    svg = render_spend_chart(spend.daily)
    assert svg.count('class="bar"') == CHART_DAYS
    assert {float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)} == {0.0}


@pytest.mark.parametrize(
    ("usage", "duration_ms"),
    [
        pytest.param("3600", "1000", id="text"),
        pytest.param(True, True, id="bool"),
        pytest.param(-5, -1000, id="negative"),
        pytest.param(float("nan"), float("inf"), id="not-finite"),
        pytest.param(None, None, id="null"),
        pytest.param({"seconds": 5}, [1], id="containers"),
    ],
)
def test_values_that_are_not_amounts_are_left_out(usage: object, duration_ms: object) -> None:
    """An XCom editor's values never raise: the transcription counts, without seconds, as unbilled."""
    spend = aggregate([row("a", timedelta(hours=1), status=None, usage=usage, duration_ms=duration_ms)], NOW)
    assert spend.week.count == 1
    assert (spend.week.billed_seconds, spend.week.audio_seconds) == (0.0, 0.0)
    assert spend.week.without_usage == 1
    assert spend.week.by_status == {"UNKNOWN": 1}


def test_limit_marks_the_figures_partial() -> None:
    """At most ``limit`` rows are read; one more means the figures are partial."""
    rows = [row("a", timedelta(minutes=n)) for n in range(1, 6)]
    assert aggregate(rows[:3], NOW, limit=3).truncated is False
    spend = aggregate(iter(rows), NOW, limit=3)
    assert (spend.truncated, spend.scanned, spend.week.count) == (True, 3, 3)
    assert spend_json(spend, {})["truncated"] is True


def test_json_has_figures_only() -> None:
    """The JSON names DAGs and figures, hours alongside seconds; it is plain JSON (no NaN)."""
    spend = aggregate([row("a", timedelta(hours=1), usage=5400.0, duration_ms=3_600_000)], NOW)
    document = spend_json(spend, {"dag_id": "a", "status": None})
    assert document["filters"] == {"dag_id": "a", "status": None}
    [dag] = document["dags"]
    assert dag["dag_id"] == "a"
    assert dag["day"]["billed_seconds"] == 5400.0
    assert dag["day"]["billed_hours"] == 1.5
    assert dag["week"]["audio_hours"] == 1.0
    assert document["daily"][-1] == {
        "date": "2026-03-04",
        "count": 1,
        "billed_seconds": 5400.0,
        "billed_hours": 1.5,
    }
    assert document["windows"]["day"]["since"] == "2026-03-03T15:00:00+00:00"
    json.dumps(document, allow_nan=False)


def test_formatting() -> None:
    """Seconds and hours as the page shows them."""
    assert seconds(12.5) == "12.5 s"
    assert seconds(3600) == "3,600 s"
    assert hours(12) == "0.003 h"
    assert hours(4500) == "1.25 h"


def test_chart_bars_scale_and_accessible_title() -> None:
    """The highest day fills the plot; a day with spend is never invisible; the SVG names itself."""
    days = [
        DailySpend(date(2026, 3, n), billed_seconds=s, count=1) for n, s in ((1, 7200.0), (2, 0.01), (3, 0.0))
    ]
    days[2].count = 0
    svg = str(render_spend_chart(days, scope="DAG a"))
    assert svg.startswith('<svg class="spend" role="img"')
    assert "<title>Billed hours per day, last 3 days (UTC), DAG a</title>" in svg
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert heights == [120.0, 1.0, 0.0]
    assert "2.00 h</text>" in svg  # the top of the axis and the first bar's value
    assert "Sun 03-01" in svg
    assert render_spend_chart([]) == ""


def test_chart_escapes_its_texts() -> None:
    """A DAG id or a filter holding markup reaches the SVG as text, never as elements."""
    hostile = '<script>alert("x")</script>&"'
    bar = DailySpend(date(2026, 3, 4), billed_seconds=60.0, count=1, by_dag={hostile: 60.0})
    svg = str(render_spend_chart([bar], scope=f"DAG {hostile}"))
    assert "<script" not in svg
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&#34;" in svg
    assert svg.count("<title>") == 2


def test_tooltip_names_the_biggest_spenders() -> None:
    """A bar's tooltip lists its top DAGs by billed seconds, then how many more."""
    by_dag = {f"dag{n}": float(n) for n in range(TOOLTIP_DAGS + 2)}
    bar = DailySpend(date(2026, 3, 4), billed_seconds=sum(by_dag.values()), count=7, by_dag=by_dag)
    tip = re.findall(r"<rect [^>]*><title>(.*?)</title>", str(render_spend_chart([bar])))[0]
    assert tip.startswith("2026-03-04: 0.006 h billed (21.0 s), 7 transcriptions; dag6 0.002 h, dag5")
    assert tip.endswith("and 2 more")
