"""Reads from Airflow's metadata database (and task logs) for the pages; no writes, no DashScope calls.

Manifests are the ``return_value`` XComs that look like one (:func:`..manifest.is_manifest`); the
listing narrows them in SQL with JSON paths (``value['asr_task_id']``), which SQLite, PostgreSQL
and MySQL all evaluate, then checks each value's shape in Python. Presence is tested with
``as_string()``: the plain JSON path is ``JSON_QUOTE(...)`` on SQLite, never NULL.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow.models.renderedtifields import RenderedTaskInstanceFields
from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from airflow_provider_qwenasr.ui.manifest import is_manifest

__all__ = [
    "Failure",
    "ManifestRow",
    "dag_ids_with_manifests",
    "failure_details",
    "find_task_instance",
    "get_manifest",
    "list_manifests",
    "mapped_indexes",
    "parse_error_fields",
]

#: How many of a failed try's log messages are scanned, from its end.
LOG_TAIL = 2000
#: How many error lines a failure shows.
ERROR_LINES = 12

_KEYS = ("task_id", "http_status", "code", "message", "request_id")
# ``asr_task_id`` is how errors label the DashScope id; logs of older versions say ``task_id``.
_FIELD = re.compile(
    r"\b(?:asr_)?(?P<key>task_id|http_status|code|message|request_id)=(?P<value>.*?)"
    r"(?=, (?:(?:asr_)?task_id|http_status|code|message|request_id)=|\)(?:\.|$|\s)|$)"
)


@dataclass(frozen=True)
class ManifestRow:
    """One transcription in the listing: where it ran and its manifest."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    timestamp: datetime | None
    manifest: Mapping[str, Any]


@dataclass
class Failure:
    """What is known about a task that has no manifest because it failed."""

    asr_task_id: str | None = None
    error: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    log_lines: list[str] = field(default_factory=list)
    log_available: bool = False


def find_task_instance(
    session: Session, dag_id: str, run_id: str, task_id: str, map_index: int
) -> TaskInstance | None:
    """The current try of a task instance, with its DAG run loaded (the log reader needs it)."""
    return session.scalar(
        select(TaskInstance)
        .where(
            TaskInstance.dag_id == dag_id,
            TaskInstance.run_id == run_id,
            TaskInstance.task_id == task_id,
            TaskInstance.map_index == map_index,
        )
        .options(joinedload(TaskInstance.dag_run))
    )


def mapped_indexes(session: Session, dag_id: str, run_id: str, task_id: str) -> list[int]:
    """Map indexes of a mapped task's instances in a run (empty for an unmapped task)."""
    return list(
        session.scalars(
            select(TaskInstance.map_index)
            .where(
                TaskInstance.dag_id == dag_id,
                TaskInstance.run_id == run_id,
                TaskInstance.task_id == task_id,
                TaskInstance.map_index >= 0,
            )
            .order_by(TaskInstance.map_index)
        )
    )


def _value(row: XComModel) -> Any:
    return XComModel.deserialize_value(row)


def get_manifest(
    session: Session, dag_id: str, run_id: str, task_id: str, map_index: int
) -> Mapping[str, Any] | None:
    """The manifest the task instance returned, or None when its return value is not one."""
    row = session.scalar(
        select(XComModel).where(
            XComModel.dag_id == dag_id,
            XComModel.run_id == run_id,
            XComModel.task_id == task_id,
            XComModel.map_index == map_index,
            XComModel.key == "return_value",
        )
    )
    if row is None:
        return None
    value = _value(row)
    return value if is_manifest(value) else None


def list_manifests(
    session: Session,
    dag_ids: Iterable[str],
    *,
    dag_id: str | None = None,
    status: str | None = None,
    offset: int = 0,
    limit: int = 25,
) -> tuple[list[ManifestRow], int]:
    """Manifests in the given DAGs, newest first: one page and the total count.

    :param dag_ids: the DAGs the user may read (the auth manager's answer).
    :param dag_id: only this DAG. :param status: only manifests with this ``status``.
    """
    allowed = sorted(set(dag_ids) if dag_id is None else set(dag_ids) & {dag_id})
    if not allowed:
        return [], 0
    conditions = [
        XComModel.key == "return_value",
        XComModel.dag_id.in_(allowed),
        XComModel.value["asr_task_id"].as_string().is_not(None),
        XComModel.value["files"].as_string().is_not(None),
        XComModel.value["outputs"].as_string().is_not(None),
    ]
    if status:
        conditions.append(XComModel.value["status"].as_string() == status)
    total = session.scalar(select(func.count()).select_from(XComModel).where(*conditions)) or 0
    rows = session.scalars(
        select(XComModel)
        .where(*conditions)
        .order_by(XComModel.timestamp.desc(), XComModel.dag_id, XComModel.task_id, XComModel.map_index)
        .offset(offset)
        .limit(limit)
    )
    result = []
    for row in rows:
        value = _value(row)
        if is_manifest(value):
            result.append(
                ManifestRow(row.dag_id, row.run_id, row.task_id, row.map_index, row.timestamp, value)
            )
    return result, int(total)


def dag_ids_with_manifests(session: Session, dag_ids: Iterable[str]) -> list[str]:
    """The readable DAGs that have at least one manifest (for the DAG filter)."""
    allowed = sorted(set(dag_ids))
    if not allowed:
        return []
    return list(
        session.scalars(
            select(XComModel.dag_id)
            .where(
                XComModel.key == "return_value",
                XComModel.dag_id.in_(allowed),
                XComModel.value["asr_task_id"].as_string().is_not(None),
                XComModel.value["outputs"].as_string().is_not(None),
            )
            .distinct()
            .order_by(XComModel.dag_id)
        )
    )


def parse_error_fields(text: str) -> dict[str, str]:
    """``code``, ``message``, ``request_id``… out of a ``QwenASRError`` text (``…(code=X, message=Y)``)."""
    return {
        m.group("key"): m.group("value").strip() for m in _FIELD.finditer(text) if m.group("value").strip()
    }


def _rendered_asr_task_id(session: Session, ti: TaskInstance) -> str | None:
    fields = session.scalar(
        select(RenderedTaskInstanceFields.rendered_fields).where(
            RenderedTaskInstanceFields.dag_id == ti.dag_id,
            RenderedTaskInstanceFields.run_id == ti.run_id,
            RenderedTaskInstanceFields.task_id == ti.task_id,
            RenderedTaskInstanceFields.map_index == ti.map_index,
        )
    )
    value = fields.get("asr_task_id") if isinstance(fields, Mapping) else None
    return value if isinstance(value, str) and value and "{{" not in value else None


def _messages(ti: TaskInstance) -> Iterable[Any]:
    from airflow.utils.log.log_reader import TaskLogReader

    reader = TaskLogReader()
    if not reader.supports_read:
        return []
    stream, _ = reader.read_log_chunks(ti, ti.try_number, {})  # type: ignore[typeddict-item]
    return deque(stream, maxlen=LOG_TAIL)


def _error_texts(message: Any) -> list[str]:
    texts = []
    for detail in getattr(message, "error_detail", None) or []:
        if isinstance(detail, Mapping) and detail.get("exc_value"):
            texts.append(f"{detail.get('exc_type', 'Error')}: {detail['exc_value']}")
    return texts


def failure_details(session: Session, ti: TaskInstance, *, read_logs: bool) -> Failure:
    """The DashScope task id (rendered ``asr_task_id``) and the error of the task's latest try.

    The error comes from the try's log when ``read_logs`` (the user may read logs) and the log is
    reachable: the last exception, preferring a ``QwenASR*`` one, and the last error lines.
    """
    failure = Failure(asr_task_id=_rendered_asr_task_id(session, ti))
    if not read_logs or not ti.try_number:
        return failure
    try:
        messages = list(_messages(ti))
    except Exception:  # a log we cannot reach must not break the page
        return failure
    failure.log_available = bool(messages)
    errors: list[str] = []
    lines: deque[str] = deque(maxlen=ERROR_LINES)
    for message in messages:
        texts = _error_texts(message)
        errors.extend(texts)
        level = str(getattr(message, "level", "") or "").lower()
        if level in ("error", "critical") or texts:
            lines.append(str(getattr(message, "event", "")))
    preferred = [t for t in errors if t.startswith("QwenASR")] or errors
    if preferred:
        failure.error = preferred[-1]
        failure.fields = parse_error_fields(failure.error)
    failure.log_lines = list(lines)
    return failure
