"""The timeline picture: one row per channel (or speaker), one bar per stretch of speech.

Plain SVG built here (no JavaScript): bars are coloured by emotion when the model gives one, each
with a ``<title>`` tooltip. Every text that reaches the SVG goes through ``markupsafe.escape``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from markupsafe import Markup, escape

from airflow_provider_qwenasr.ui.sentences import Lane

__all__ = ["EMOTION_COLORS", "NO_EMOTION_COLOR", "clock", "color_for", "render_timeline"]

#: Colours of the emotions Qwen-ASR reports; any other gets a stable colour from its name.
EMOTION_COLORS: dict[str, str] = {
    "neutral": "#7c8aa0",
    "happy": "#e0a800",
    "sad": "#3b82f6",
    "angry": "#dc2626",
    "surprised": "#a855f7",
    "fearful": "#0d9488",
    "disgusted": "#65a30d",
}
#: Colour of speech without an emotion (Fun-ASR, Paraformer).
NO_EMOTION_COLOR = "#0f766e"
_OTHER_COLORS = ("#db2777", "#ea580c", "#4f46e5", "#0891b2", "#854d0e", "#be123c")

_WIDTH = 1000
_LABEL = 150
_ROW = 26
_BAR = 16
_AXIS = 22


def color_for(emotion: str | None) -> str:
    """The bar colour of an emotion (``None``: speech without emotion)."""
    if not emotion:
        return NO_EMOTION_COLOR
    known = EMOTION_COLORS.get(emotion.lower())
    if known:
        return known
    digest = hashlib.sha256(emotion.encode()).digest()
    return _OTHER_COLORS[digest[0] % len(_OTHER_COLORS)]


def clock(ms: int) -> str:
    """``m:ss.s`` (``h:mm:ss`` from one hour) for a position in ms."""
    seconds, millis = divmod(max(ms, 0), 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}.{millis // 100}"


def _tick_step(duration_ms: int) -> int:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200):
        if duration_ms / (step * 1000) <= 10:
            return step * 1000
    return 14400 * 1000


def render_timeline(lanes: Sequence[Lane], duration_ms: int, *, several_channels: bool) -> Markup:
    """An inline ``<svg>`` of ``lanes`` over ``[0, duration_ms]``; empty markup when there is no speech."""
    if not lanes or duration_ms <= 0:
        return Markup("")
    span = _WIDTH - _LABEL - 10
    height = _AXIS + _ROW * len(lanes)
    scale = span / duration_ms
    parts = [
        f'<svg class="timeline" role="img" viewBox="0 0 {_WIDTH} {height}" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        "<title>Speech over time, per lane</title>",
    ]
    step = _tick_step(duration_ms)
    for tick in range(0, duration_ms + 1, step):
        x = _LABEL + tick * scale
        parts.append(
            f'<line x1="{x:.1f}" y1="{_AXIS - 4}" x2="{x:.1f}" y2="{height}" class="tick"/>'
            f'<text x="{x:.1f}" y="{_AXIS - 8}" class="axis">{escape(clock(tick))}</text>'
        )
    for row, lane in enumerate(lanes):
        y = _AXIS + row * _ROW
        label = escape(lane.label(several_channels))
        parts.append(
            f'<g class="lane" data-lane="{escape(lane.key)}">'
            f'<text x="4" y="{y + _ROW / 2 + 4:.1f}" class="label">{label}</text>'
            f'<rect x="{_LABEL}" y="{y + (_ROW - _BAR) / 2:.1f}" width="{span}" height="{_BAR}" '
            'class="track"/>'
        )
        for seg in lane.segments:
            x = _LABEL + seg.begin * scale
            width = max((seg.end - seg.begin) * scale, 1.0)
            tip = f"{clock(seg.begin)}\N{EN DASH}{clock(seg.end)}" + (
                f" {seg.emotion}" if seg.emotion else ""
            )
            parts.append(
                f'<rect x="{x:.1f}" y="{y + (_ROW - _BAR) / 2:.1f}" width="{width:.1f}" height="{_BAR}" '
                f'fill="{color_for(seg.emotion)}" class="seg"><title>{escape(tip)}</title></rect>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    # Every text above went through escape(); numbers and colours come from this module.
    return Markup("".join(parts))  # noqa: S704
