"""Reads from Airflow's metadata database (and task logs) for the pages; no writes, no DashScope calls.

A failed try's error is the record the provider's operators push to XCom
(:mod:`airflow_provider_qwenasr.failure_record`); only a try without one (a task that is not a
provider operator, or a provider older than the record) has its error looked for in its log.

Manifests are the ``return_value`` XComs that look like one (:func:`..manifest.is_manifest`); the
listing narrows them in SQL with JSON paths (``value['asr_task_id']``), which SQLite, PostgreSQL
and MySQL all evaluate, then checks each value's shape in Python. Presence is tested with
``as_string()``: the plain JSON path is ``JSON_QUOTE(...)`` on SQLite, never NULL.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow.models.renderedtifields import RenderedTaskInstanceFields
from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from airflow_provider_qwenasr.exceptions import QwenASRError
from airflow_provider_qwenasr.failure_record import FAILURE_XCOM_KEY
from airflow_provider_qwenasr.results.manifest import is_manifest
from airflow_provider_qwenasr.ui.spend import SPEND_ROW_LIMIT, SpendRow

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
    "recorded_error",
    "spend_rows",
]

#: How many of a failed try's log messages are scanned, from its end.
LOG_TAIL = 2000
#: How many error lines a failure shows.
ERROR_LINES = 12
#: Rows fetched at a time for the spend figures.
_SPEND_BATCH = 1000

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
    #: Whether the error came from the try's XCom record (else from its log, or nowhere).
    recorded: bool = False


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


def _manifest_conditions(dag_ids: Iterable[str], dag_id: str | None, status: str | None) -> list[Any] | None:
    """The listing's SQL filter (readable DAGs, the page's filters, manifest-shaped); None: nothing."""
    allowed = sorted(set(dag_ids) if dag_id is None else set(dag_ids) & {dag_id})
    if not allowed:
        return None
    conditions = [
        XComModel.key == "return_value",
        XComModel.dag_id.in_(allowed),
        XComModel.value["asr_task_id"].as_string().is_not(None),
        XComModel.value["files"].as_string().is_not(None),
        XComModel.value["outputs"].as_string().is_not(None),
    ]
    if status:
        conditions.append(XComModel.value["status"].as_string() == status)
    return conditions


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
    conditions = _manifest_conditions(dag_ids, dag_id, status)
    if conditions is None:
        return [], 0
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


def spend_rows(
    session: Session,
    dag_ids: Iterable[str],
    *,
    since: datetime,
    dag_id: str | None = None,
    status: str | None = None,
    limit: int = SPEND_ROW_LIMIT,
) -> Iterator[SpendRow]:
    """The figures of the listing's manifests returned after ``since``, newest first, streamed.

    Only four JSON values of each manifest are selected (never its files, which may hold a whole
    transcript), at most ``limit + 1`` rows (so :func:`.spend.aggregate` can tell it stopped
    early), fetched in batches: memory stays bounded however many transcriptions there are.
    """
    conditions = _manifest_conditions(dag_ids, dag_id, status)
    if conditions is None:
        return
    query = (
        select(
            XComModel.dag_id,
            XComModel.timestamp,
            XComModel.value["status"],
            XComModel.value["usage_seconds"],
            XComModel.value[("totals", "duration_ms")],
        )
        .where(*conditions, XComModel.timestamp > since)
        .order_by(XComModel.timestamp.desc())
        .limit(limit + 1)
        .execution_options(yield_per=_SPEND_BATCH)
    )
    for dag, timestamp, state, usage, duration in session.execute(query):
        yield SpendRow(dag, timestamp, state, usage, duration)


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


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def recorded_error(session: Session, ti: TaskInstance) -> Failure | None:
    """The error the task's latest try recorded in XCom (``qwen_asr_error``), or None if it has none.

    The record is an XCom, which a user allowed to edit XComs can rewrite: every value is taken as
    text, and the page escapes it. A record of another try (it names its ``try_number``) is ignored.
    """
    row = session.scalar(
        select(XComModel).where(
            XComModel.dag_id == ti.dag_id,
            XComModel.run_id == ti.run_id,
            XComModel.task_id == ti.task_id,
            XComModel.map_index == ti.map_index,
            XComModel.key == FAILURE_XCOM_KEY,
        )
    )
    value = _value(row) if row is not None else None
    if not isinstance(value, Mapping) or value.get("try_number") not in (None, ti.try_number):
        return None
    status = value.get("http_status")
    # Rendered by the error class itself, so the text is the one the log shows.
    error = QwenASRError(
        str(value.get("message") or "The task failed"),
        task_id=_text(value.get("task_id")),
        code=_text(value.get("code")),
        service_message=_text(value.get("service_message")),
        request_id=_text(value.get("request_id")),
        http_status=status if isinstance(status, int) and not isinstance(status, bool) else None,
        hint=_text(value.get("hint")),
    )
    fields = {
        "task_id": error.task_id,
        "http_status": None if error.http_status is None else str(error.http_status),
        "code": error.code,
        "message": error.service_message,
        "request_id": error.request_id,
    }
    return Failure(
        asr_task_id=error.task_id,
        error=f"{_text(value.get('error')) or 'QwenASRError'}: {error}",
        fields={key: text for key, text in fields.items() if text},
        recorded=True,
    )


def failure_details(session: Session, ti: TaskInstance, *, read_logs: bool) -> Failure:
    """The DashScope task id (rendered ``asr_task_id``) and the error of the task's latest try.

    The error is shown only when ``read_logs`` (the user may read the task's logs, where the same
    error is). It is the try's XCom record (:func:`recorded_error`) when there is one; else it comes
    from the try's log, when the log is reachable: the last exception, preferring a ``QwenASR*``
    one, and the last error lines.
    """
    failure = Failure(asr_task_id=_rendered_asr_task_id(session, ti))
    if not read_logs or not ti.try_number:
        return failure
    recorded = recorded_error(session, ti)
    if recorded is not None:
        recorded.asr_task_id = failure.asr_task_id or recorded.asr_task_id
        return recorded
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
