"""The task list, ``GET /tasks``: one key's tasks created in a window of at most 24 h, newest first."""

from __future__ import annotations

import calendar
import hashlib
import math
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from . import tasks as t
from .errors import invalid
from .uploads import account_of

__all__ = ["list_page"]

_LIST_TIME = "%Y%m%d%H%M%S"


def list_page(
    candidates: Iterable[t.Task],
    api_key: str,
    query: Mapping[str, str],
    now: float,
    retention_hours: float,
    *,
    lag: float = 0.0,
) -> dict[str, Any]:
    """The flat list answer ``{request_id, total, total_page, page_no, page_size, data[]}``.

    With ``lag`` > 0 the list trails the query: it shows the tasks as they were ``lag`` seconds
    before ``now`` (a younger task is not listed yet; an older one with the status it had then).
    Pages are cut from the list as it is at each call, so tasks created (or, with a ``status``
    filter, ending) between two calls shift the later pages, as on the service.

    :raises ServiceError: 400 ``InvalidParameter`` for a bad page, time or window.
    """
    page_no = _int_param(query, "page_no", 1, 1, 10**6)
    page_size = _int_param(query, "page_size", 10, 1, 100)
    end = _list_time(query, "end_time")
    start = _list_time(query, "start_time")
    if start is None and end is None:
        end = now
    if start is None:
        start = end - 86400 if end is not None else now - 86400
    if end is None:
        end = start + 86400
    if end < start:
        raise invalid("end_time must not be earlier than start_time.")
    if end - start > 86400:
        raise invalid("The time range between start_time and end_time must not exceed 24 hours.")
    wanted_status = query.get("status", "").upper()
    seen = now - max(0.0, lag)  # the moment the list's view of the account dates from
    matched = [
        task
        for task in candidates
        if task.api_key == api_key
        and task.submit_time <= seen
        and not task.expired(now, retention_hours)
        and start <= task.submit_time < end + 1
        and query.get("model_name", task.model) == task.model
        and query.get("task_id", task.task_id) == task.task_id
        and wanted_status in ("", task.status(seen))
    ]
    matched.sort(key=lambda task: task.submit_time, reverse=True)
    page = matched[(page_no - 1) * page_size : page_no * page_size]
    key_id, uid = _account_numbers(api_key)
    return {
        "request_id": str(uuid.uuid4()),
        "total": len(matched),
        "total_page": math.ceil(len(matched) / page_size),
        "page_no": page_no,
        "page_size": page_size,
        "data": [t.list_item(task, seen, key_id, uid) for task in page],
    }


def _int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise invalid(f"{name} must be an integer from {low} to {high}.")
    return int(text)


def _list_time(query: Mapping[str, str], name: str) -> float | None:
    text = query.get(name)
    if not text:
        return None
    try:
        parsed = time.strptime(text, _LIST_TIME)
    except ValueError:
        raise invalid(f"{name} must be formatted as YYYYMMDDhhmmss.") from None
    return calendar.timegm(parsed) - t.BEIJING


def _account_numbers(api_key: str) -> tuple[str, str]:
    """A stable numeric ``api_key_id`` and ``caller_uid`` for a key, as the list shows them."""
    digest = hashlib.sha256(account_of(api_key).encode()).hexdigest()
    return str(int(digest[:8], 16) % 900000 + 100000), str(int(digest[8:24], 16) % 10**16).zfill(16)
