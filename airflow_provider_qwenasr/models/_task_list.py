"""The task list (``GET /tasks``): one page, and its rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_qwenasr.models._coerce import _int, _optional_str
from airflow_provider_qwenasr.models._status import TaskStatus

__all__ = ["TaskListItem", "TaskPage"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskListItem:
    """One row of the task list (``GET /tasks``): times are epoch milliseconds, as sent."""

    task_id: str
    status: TaskStatus
    model_name: str | None = None
    request_id: str | None = None
    created_ms: int | None = None
    start_ms: int | None = None
    end_ms: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskListItem:
        """Parse a ``data[]`` item of the list answer."""

        def ms(key: str) -> int | None:
            value = data.get(key)
            return None if value is None else _int(value)

        return cls(
            task_id=str(data.get("task_id") or ""),
            status=TaskStatus.parse(data.get("status")),
            model_name=_optional_str(data.get("model_name")),
            request_id=_optional_str(data.get("request_id")),
            created_ms=ms("gmt_create"),
            start_ms=ms("start_time"),
            end_ms=ms("end_time"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskPage:
    """One page of the task list."""

    total: int
    page_no: int
    page_size: int
    total_page: int
    items: tuple[TaskListItem, ...] = ()

    @classmethod
    def from_response(cls, body: Mapping[str, Any]) -> TaskPage:
        """Parse the flat list answer ``{total, total_page, page_no, page_size, data[]}``."""
        rows = body.get("data") or []
        return cls(
            total=_int(body.get("total")),
            page_no=_int(body.get("page_no"), 1),
            page_size=_int(body.get("page_size"), 10),
            total_page=_int(body.get("total_page")),
            items=tuple(TaskListItem.from_dict(r) for r in rows if isinstance(r, Mapping)),
        )
