"""What a finished DashScope task means: the one table from task status to outcome and error.

Every path that learns how a task ended goes through here: the trigger (which
:class:`TerminationReason` its event carries), the operators and the sensor (the error an event or a
polled task stands for), and the fetch (why a task has no result to fetch). So a task that is
``SUCCEEDED`` with every file failed is a failure in one place, and a given task gives the same
error text however it was waited for.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_qwenasr.exceptions import (
    QwenASRError,
    QwenASRResultError,
    QwenASRTaskCanceledError,
    QwenASRTaskExpiredError,
    QwenASRTaskFailedError,
    QwenASRTimeoutError,
)
from airflow_provider_qwenasr.models import TaskStatus

if TYPE_CHECKING:
    from airflow_provider_qwenasr.models import AsrTask

__all__ = [
    "DEFERRAL_GRACE",
    "TerminationReason",
    "error_from_event",
    "every_file_failed",
    "fetch_error",
    "outcome_error",
    "termination_reason",
    "timeout_error",
]

#: How much longer than the wait's own ``timeout`` Airflow lets a deferred task sit before it fails
#: the task itself: the trigger's ``timeout`` event, with its cancel and its message, comes first.
DEFERRAL_GRACE = timedelta(minutes=2)


class TerminationReason(str, enum.Enum):
    """Why the trigger fired: the ``status`` of its one and only event."""

    SUCCESS = "success"
    #: The task ended FAILED (``code``/``message`` say why), or every one of its files failed.
    FAILED = "failed"
    CANCELED = "canceled"
    #: DashScope answered UNKNOWN: a wrong id, another account's, or past 24 h retention.
    EXPIRED = "expired"
    #: Our own deadline passed while the task was still PENDING or RUNNING.
    TIMEOUT = "timeout"
    #: A permanent error while querying (bad key, access denied…): polling cannot succeed.
    ERROR = "error"


#: The terminal reasons, and the task status each stands for (an event without a summary).
_REASON_STATUS = {
    TerminationReason.SUCCESS: TaskStatus.SUCCEEDED,
    TerminationReason.FAILED: TaskStatus.FAILED,
    TerminationReason.CANCELED: TaskStatus.CANCELED,
    TerminationReason.EXPIRED: TaskStatus.UNKNOWN,
}
_TIMEOUT_HINT = "Raise the operator's timeout, or check the task in the DashScope console"
_EXPIRED_HINT = (
    "DashScope keeps tasks and their results 24 h after they end, and a link cannot be renewed; "
    "UNKNOWN also means a wrong id or a task of another account or region: check the id and the "
    "connection's account and region, or transcribe the audio again"
)


def every_file_failed(task: AsrTask) -> bool:
    """Whether ``task`` has files and none with a transcript: a ``SUCCEEDED`` task that is a failure.

    A Fun-ASR task reports ``SUCCEEDED`` even when all of its files failed.
    """
    return bool(task.files) and not task.succeeded_files


def termination_reason(task: AsrTask) -> TerminationReason | None:
    """The reason a wait on ``task`` ends with; ``None`` while it is PENDING or RUNNING."""
    if task.status is TaskStatus.SUCCEEDED:
        return TerminationReason.FAILED if every_file_failed(task) else TerminationReason.SUCCESS
    return {
        TaskStatus.FAILED: TerminationReason.FAILED,
        TaskStatus.CANCELED: TerminationReason.CANCELED,
        TaskStatus.UNKNOWN: TerminationReason.EXPIRED,
    }.get(task.status)


def outcome_error(task: AsrTask, *, allow_partial_failure: bool = True) -> QwenASRError | None:
    """Return the error a terminal task stands for, or ``None`` when it succeeded (or still runs).

    All files failed is a failure; some failed is one unless ``allow_partial_failure``.
    """
    return _error(termination_reason(task), task.summary(), allow_partial_failure=allow_partial_failure)


def fetch_error(task: AsrTask) -> QwenASRError | None:
    """Return why ``task`` has no result to fetch, or ``None`` when it has one.

    The same errors as :func:`outcome_error`, plus a :class:`QwenASRResultError` for a task still
    PENDING or RUNNING (some files failing is not an error here: the others' results are fetched).
    """
    return _error(termination_reason(task), task.summary(), allow_partial_failure=True, expect_result=True)


def _error(
    reason: TerminationReason | None,
    summary: Mapping[str, Any],
    *,
    allow_partial_failure: bool,
    expect_result: bool = False,
) -> QwenASRError | None:
    """The error of a terminal ``reason``, told from the task's summary (:meth:`AsrTask.summary`,
    which trigger events carry too)."""
    task_id = summary.get("asr_task_id")
    files: list[dict[str, Any]] = list(summary.get("files") or [])
    failed = [f for f in files if TaskStatus.parse(f.get("status")) is TaskStatus.FAILED]
    first = failed[0] if failed else {}
    common: dict[str, Any] = {"task_id": task_id, "request_id": summary.get("request_id")}
    if reason is TerminationReason.FAILED:
        code = summary.get("code") or first.get("code")
        every = TaskStatus.parse(summary.get("status")) is TaskStatus.SUCCEEDED
        return QwenASRTaskFailedError(
            f"Every file of task {task_id} failed" if every else f"Task {task_id} failed",
            code=code,
            service_message=summary.get("message") or first.get("message"),
            failed_files=failed,
            hint=_failure_hint(code)
            or (
                "Check that each file URL is reachable from the internet and is audio"
                if every
                else "See DashScope's code and message; fix the input and submit again"
            ),
            **common,
        )
    if reason is TerminationReason.CANCELED:
        return QwenASRTaskCanceledError(f"Task {task_id} was canceled; it has no result", **common)
    if reason is TerminationReason.EXPIRED:
        return QwenASRTaskExpiredError(
            f"DashScope does not know task {task_id} (UNKNOWN)", hint=_EXPIRED_HINT, **common
        )
    if reason is TerminationReason.SUCCESS:
        if failed and not allow_partial_failure:
            return QwenASRTaskFailedError(
                f"{len(failed)} of {len(files)} files of task {task_id} failed",
                code=first.get("code"),
                service_message=first.get("message"),
                failed_files=failed,
                hint="Set allow_partial_failure=True to keep the transcripts of the other files",
                **common,
            )
        return None
    if expect_result:
        return QwenASRResultError(
            f"Task {task_id} is {summary.get('status')}: there is no result yet",
            hint="Wait for it first (QwenASRTaskSensor, or the submit operator's wait_for_completion)",
            **common,
        )
    return None


def _failure_hint(code: str | None) -> str | None:
    if not code:
        return None
    if code.startswith(("FILE_403", "FILE_404", "FILE_DOWNLOAD", "InvalidFile.Download")):
        return "DashScope could not download the audio: the URL must be public or pre-signed and not expired"
    if "DECODE" in code or "Decode" in code:
        return "The file is not audio DashScope can decode; check its format"
    if code == "AUDIO_DURATION_TOO_LONG":
        return "The audio is longer than the model accepts; split it"
    return None


def error_from_event(
    event: Mapping[str, Any] | None, *, allow_partial_failure: bool = True
) -> QwenASRError | None:
    """Return the error a trigger event stands for, or ``None`` for success.

    :raises QwenASRError: never; a malformed event becomes an error to raise.
    """
    if not isinstance(event, Mapping) or "status" not in event:
        return QwenASRError(f"The trigger sent an event this provider does not understand: {event!r}")
    try:
        reason = TerminationReason(event["status"])
    except ValueError:
        reason = TerminationReason.ERROR
    task_id = event.get("asr_task_id")
    if reason in _REASON_STATUS:
        # The trigger ended on a terminal task: the same rules as a task polled in the worker. An
        # event without the task's summary (an older trigger) says enough to rebuild a minimal one.
        summary = event.get("task")
        if not isinstance(summary, Mapping):
            summary = {
                "asr_task_id": task_id,
                "status": _REASON_STATUS[reason].value,
                "code": event.get("code"),
                "message": event.get("message"),
                "request_id": event.get("request_id"),
            }
        return _error(reason, summary, allow_partial_failure=allow_partial_failure)
    if reason is TerminationReason.TIMEOUT:
        return QwenASRTimeoutError(
            f"Gave up waiting: {event.get('message')}",
            hint=_TIMEOUT_HINT,
            task_id=task_id,
            code=event.get("code"),
            request_id=event.get("request_id"),
        )
    error = event.get("error") or {}
    return QwenASRError(
        str(event.get("message") or "Polling the task failed"),
        task_id=task_id,
        code=error.get("code"),
        service_message=error.get("service_message"),
        request_id=error.get("request_id"),
        http_status=error.get("http_status"),
        hint=error.get("hint"),
    )


def timeout_error(task_id: str, status: str) -> QwenASRTimeoutError:
    """The error of a blocking wait whose deadline passed with the task still ``status``."""
    return QwenASRTimeoutError(
        f"Gave up waiting: still {status} at the deadline", task_id=task_id, hint=_TIMEOUT_HINT
    )
