"""The service's clock: its zone, and the parser of the zone-less task times it writes."""

from __future__ import annotations

import pendulum
from pendulum import DateTime

from airflow_provider_qwenasr._api.settings import SERVICE_TZ

__all__ = ["SERVICE_TIMEZONE", "parse_service_time"]

# DashScope writes task times without a zone, in Beijing time (UTC+8) for both regions.
SERVICE_TIMEZONE = pendulum.FixedTimezone(int(SERVICE_TZ.utcoffset(None).total_seconds()))


def parse_service_time(value: object) -> DateTime | None:
    """Parse DashScope's zone-less ``YYYY-MM-DD HH:MM:SS.mmm`` (UTC+8) into a UTC datetime.

    Returns ``None`` for a missing or unparsable value: a timestamp is never worth failing a task over.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = pendulum.parse(value.strip(), tz=SERVICE_TIMEZONE, strict=False)
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        return None
    if not isinstance(parsed, DateTime):
        return None
    return parsed.in_timezone("UTC")
