"""What the operators and the sensor share about waiting: outcomes, the blocking poll, quiet cancel."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_qwenasr.exceptions import (
    QwenASRError,
    QwenASRTaskCanceledError,
    QwenASRTaskExpiredError,
    QwenASRTaskFailedError,
    QwenASRTimeoutError,
)
from airflow_provider_qwenasr.models import AsrTask, TaskStatus

if TYPE_CHECKING:
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook

__all__ = ["cancel_quietly", "error_from_event", "outcome_error", "poll_until_done"]

_EXPIRED_HINT = (
    "DashScope keeps tasks 24 h; UNKNOWN also means a wrong id or a task of another account or region"
)


def outcome_error(task: AsrTask, *, allow_partial_failure: bool = True) -> QwenASRError | None:
    """Return the error a terminal task stands for, or ``None`` when it succeeded.

    A Fun-ASR task reports SUCCEEDED even when some (or all) of its files failed: all failed is a
    failure; some failed is one unless ``allow_partial_failure``.
    """
    failed = [f.summary() for f in task.failed_files]
    common: dict[str, Any] = {"task_id": task.task_id, "request_id": task.request_id}
    if task.status is TaskStatus.SUCCEEDED:
        if task.files and not task.succeeded_files:
            first = task.failed_files[0] if task.failed_files else None
            return QwenASRTaskFailedError(
                "Every file of the transcription failed",
                code=first.code if first else None,
                service_message=first.message if first else None,
                failed_files=failed,
                hint="Check that each file URL is reachable from the internet and is audio",
                **common,
            )
        if failed and not allow_partial_failure:
            return QwenASRTaskFailedError(
                f"{len(failed)} of {len(task.files)} files failed",
                code=task.failed_files[0].code,
                service_message=task.failed_files[0].message,
                failed_files=failed,
                hint="Set allow_partial_failure=True to keep the transcripts of the other files",
                **common,
            )
        return None
    if task.status is TaskStatus.FAILED:
        return QwenASRTaskFailedError(
            "The transcription failed",
            code=task.code,
            service_message=task.message,
            failed_files=failed,
            hint=_failure_hint(task.code),
            **common,
        )
    if task.status is TaskStatus.CANCELED:
        return QwenASRTaskCanceledError("The transcription was canceled", **common)
    if task.status is TaskStatus.UNKNOWN:
        return QwenASRTaskExpiredError(
            "DashScope does not know this task (UNKNOWN)", hint=_EXPIRED_HINT, **common
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
    status = event["status"]
    task_id = event.get("asr_task_id")
    summary = event.get("task") or {}
    common: dict[str, Any] = {
        "task_id": task_id,
        "code": event.get("code"),
        "request_id": event.get("request_id"),
    }
    if status == "success":
        failed = [f for f in summary.get("files", []) if f.get("status") == "FAILED"]
        if failed and not allow_partial_failure:
            return QwenASRTaskFailedError(
                f"{len(failed)} of {len(summary.get('files', []))} files failed",
                failed_files=failed,
                code=failed[0].get("code"),
                service_message=failed[0].get("message"),
                task_id=task_id,
                request_id=event.get("request_id"),
                hint="Set allow_partial_failure=True to keep the transcripts of the other files",
            )
        return None
    if status == "failed":
        failed = [f for f in summary.get("files", []) if f.get("status") == "FAILED"]
        code = event.get("code") or (failed[0].get("code") if failed else None)
        message = event.get("message") or (failed[0].get("message") if failed else None)
        return QwenASRTaskFailedError(
            "The transcription failed",
            failed_files=failed,
            hint=_failure_hint(code),
            **{**common, "code": code},
            service_message=message,
        )
    if status == "canceled":
        return QwenASRTaskCanceledError("The transcription was canceled", **common)
    if status == "expired":
        return QwenASRTaskExpiredError(
            "DashScope does not know this task (UNKNOWN)", hint=_EXPIRED_HINT, **common
        )
    if status == "timeout":
        return QwenASRTimeoutError(
            f"Gave up waiting: {event.get('message')}",
            hint="Raise the operator's timeout, or check the task in the DashScope console",
            **common,
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


def poll_until_done(
    hook: QwenASRHook,
    task_id: str,
    *,
    poll_interval: float,
    max_poll_interval: float,
    deadline: float | None,
    log: logging.Logger | Any,
) -> AsrTask:
    """Poll (blocking this worker) until the task ends; the same cadence as the trigger.

    :raises QwenASRTimeoutError: when ``deadline`` (UNIX time) passes first.
    """
    interval = poll_interval
    last: TaskStatus | None = None
    while True:
        task = hook.get_task(task_id)
        if task.status is not last:
            log.info("Task %s: %s -> %s", task_id, last.value if last else "start", task.raw_status)
            last, interval = task.status, poll_interval
        if task.is_terminal:
            return task
        wait = interval * random.uniform(0.9, 1.1)
        if deadline is not None:
            left = deadline - time.time()
            if left <= 0:
                raise QwenASRTimeoutError(
                    f"Gave up waiting: still {task.raw_status} at the deadline",
                    task_id=task_id,
                    hint="Raise the operator's timeout, or check the task in the DashScope console",
                )
            wait = min(wait, left)
        time.sleep(wait)
        interval = min(max_poll_interval, interval * 1.5)


def cancel_quietly(hook: QwenASRHook, task_id: str, log: logging.Logger | Any) -> None:
    """Cancel a task if it is still PENDING; never raise (we are already failing or being killed)."""
    try:
        if hook.cancel_task(task_id):
            log.info("Canceled DashScope task %s (it was still PENDING)", task_id)
        else:
            log.info("DashScope task %s was no longer PENDING, so it was not canceled", task_id)
    except Exception as error:  # a failing cancel must not hide the reason we are stopping
        log.warning("Could not cancel DashScope task %s: %s", task_id, error)
