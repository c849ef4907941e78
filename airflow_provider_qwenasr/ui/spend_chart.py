"""The spend picture: billed hours per UTC day, one bar a day, as plain SVG (no JavaScript).

Built like :mod:`.timeline`: every text that reaches the SVG (the filter in the title, DAG ids in
the tooltips) goes through ``markupsafe.escape``; numbers come from this module. The ``<title>``
names what is drawn, for screen readers; each bar's ``<title>`` is its tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from airflow_provider_qwenasr.ui.spend import DailySpend, hours, seconds

__all__ = ["BAR_COLOR", "TOOLTIP_DAGS", "render_spend_chart"]

#: The bars' colour (the pages' accent).
BAR_COLOR = "#0f766e"
#: How many DAGs a bar's tooltip names, the biggest spenders first.
TOOLTIP_DAGS = 5

_WIDTH = 1000
_HEIGHT = 166
_LEFT = 70
_TOP = 22
_PLOT = 120  # height of the bars' area
_GAP = 0.25  # share of a day's slot left empty between bars


def _tooltip(bar: DailySpend) -> str:
    text = f"{bar.day.isoformat()}: {hours(bar.billed_seconds)} billed ({seconds(bar.billed_seconds)}), "
    text += f"{bar.count} transcription{'s' if bar.count != 1 else ''}"
    top = sorted(bar.by_dag.items(), key=lambda item: (-item[1], item[0]))[:TOOLTIP_DAGS]
    if top:
        text += "; " + ", ".join(f"{dag} {hours(billed)}" for dag, billed in top)
        if len(bar.by_dag) > TOOLTIP_DAGS:
            text += f" and {len(bar.by_dag) - TOOLTIP_DAGS} more"
    return text


def render_spend_chart(days: Sequence[DailySpend], *, scope: str = "") -> Markup:
    """An inline ``<svg>`` of billed hours for each of ``days`` (oldest first); empty without days.

    :param scope: what the figures cover (the page's filter), added to the accessible title.
    """
    if not days:
        return Markup("")
    title = f"Billed hours per day, last {len(days)} days (UTC)" + (f", {scope}" if scope else "")
    top = max(bar.billed_seconds for bar in days)
    scale = _PLOT / top if top > 0 else 0.0
    slot = (_WIDTH - _LEFT - 10) / len(days)
    base = _TOP + _PLOT
    parts = [
        f'<svg class="spend" role="img" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{_LEFT}" y1="{base}" x2="{_WIDTH - 10}" y2="{base}" class="tick"/>',
        f'<text x="4" y="{base + 4}" class="axis">0 h</text>',
    ]
    if top > 0:
        parts.append(
            f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_WIDTH - 10}" y2="{_TOP}" class="tick"/>'
            f'<text x="4" y="{_TOP + 4}" class="axis">{escape(hours(top))}</text>'
        )
    for position, bar in enumerate(days):
        x = _LEFT + position * slot + slot * _GAP / 2
        width = slot * (1 - _GAP)
        height = bar.billed_seconds * scale
        if bar.billed_seconds > 0:
            height = max(height, 1.0)  # a day with spend is never invisible
        label = bar.day.strftime("%a %m-%d")
        parts.append(
            f'<g class="day" data-date="{bar.day.isoformat()}">'
            f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'fill="{BAR_COLOR}" class="bar"><title>{escape(_tooltip(bar))}</title></rect>'
            f'<text x="{x + width / 2:.1f}" y="{base - height - 4:.1f}" class="value" '
            f'text-anchor="middle">{escape(hours(bar.billed_seconds)) if bar.count else ""}</text>'
            f'<text x="{x + width / 2:.1f}" y="{base + 16}" class="axis" text-anchor="middle">'
            f"{escape(label)}</text></g>"
        )
    parts.append("</svg>")
    # Every text above went through escape(); numbers, dates and colours come from this module.
    return Markup("".join(parts))  # noqa: S704
