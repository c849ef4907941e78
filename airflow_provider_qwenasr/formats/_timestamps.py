"""SRT and WebVTT timestamps from integer milliseconds."""

from __future__ import annotations

from airflow_provider_qwenasr.exceptions import QwenASRInputError

__all__ = ["srt_timestamp", "vtt_timestamp"]


def _timestamp(ms: int, separator: str) -> str:
    if ms < 0:
        raise QwenASRInputError(f"A subtitle time cannot be negative: {ms} ms")
    # Integer divmod, not timedelta or datetime: hours simply grow past 24 (and past 99).
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def srt_timestamp(ms: int) -> str:
    """Format milliseconds as an SRT timestamp ``HH:MM:SS,mmm``; hours grow past 24 as needed.

    >>> srt_timestamp(3_723_004)
    '01:02:03,004'
    >>> srt_timestamp(90_000_000)
    '25:00:00,000'

    :raises QwenASRInputError: when ``ms`` is negative.
    """
    return _timestamp(ms, ",")


def vtt_timestamp(ms: int) -> str:
    """Format milliseconds as a WebVTT timestamp ``HH:MM:SS.mmm``; hours grow past 24 as needed.

    >>> vtt_timestamp(360_006_720)
    '100:00:06.720'

    :raises QwenASRInputError: when ``ms`` is negative.
    """
    return _timestamp(ms, ".")
