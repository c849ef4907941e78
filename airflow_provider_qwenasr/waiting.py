"""What the operators and the sensor share about waiting: outcomes, the blocking poll, quiet cancel."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_qwenasr.exceptions import (
    QwenASRError,
    QwenASRInputError,
    QwenASRTaskCanceledError,
    QwenASRTaskExpiredError,
    QwenASRTaskFailedError,
    QwenASRTimeoutError,
)
from airflow_provider_qwenasr.models import AsrTask, TaskStatus

if TYPE_CHECKING:
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook

__all__ = [
    "MIN_POLL_INTERVAL",
    "cancel_quietly",
    "check_wait_options",
    "error_from_event",
    "floored_interval",
    "outcome_error",
    "poll_until_done",
]

#: The shortest interval, in seconds, between two status queries of one task. DashScope allows an
#: account 20 queries a second in all; below one second a single wait would spend a large share of
#: it. The operators and the sensor refuse a shorter interval; the trigger and the blocking poll
#: stretch one to this floor (a trigger row written by other code cannot bypass it).
MIN_POLL_INTERVAL = 1.0

_EXPIRED_HINT = (
    "DashScope keeps tasks 24 h; UNKNOWN also means a wrong id or a task of another account or region"
)


def outcome_error(task: AsrTask, *, allow_partial_failure: bool = True) -> QwenASRError | None:
    """Return the error a terminal task stands for, or ``None`` when it succeeded (or still runs).

    A Fun-ASR task reports SUCCEEDED even when some (or all) of its files failed: all failed is a
    failure; some failed is one unless ``allow_partial_failure``.
    """
    return _summary_error(task.summary(), allow_partial_failure=allow_partial_failure)


def _summary_error(summary: Mapping[str, Any], *, allow_partial_failure: bool) -> QwenASRError | None:
    """The error of a task summary (:meth:`AsrTask.summary`, which trigger events carry too)."""
    status = TaskStatus.parse(summary.get("status"))
    files: list[dict[str, Any]] = list(summary.get("files") or [])
    failed = [f for f in files if f.get("status") == TaskStatus.FAILED.value]
    first = failed[0] if failed else {}
    common: dict[str, Any] = {"task_id": summary.get("asr_task_id"), "request_id": summary.get("request_id")}
    if status is TaskStatus.SUCCEEDED:
        if files and len(failed) == len(files):
            return QwenASRTaskFailedError(
                "Every file of the transcription failed",
                code=first.get("code"),
                service_message=first.get("message"),
                failed_files=failed,
                hint=_failure_hint(first.get("code"))
                or "Check that each file URL is reachable from the internet and is audio",
                **common,
            )
        if failed and not allow_partial_failure:
            return QwenASRTaskFailedError(
                f"{len(failed)} of {len(files)} files failed",
                code=first.get("code"),
                service_message=first.get("message"),
                failed_files=failed,
                hint="Set allow_partial_failure=True to keep the transcripts of the other files",
                **common,
            )
        return None
    if status is TaskStatus.FAILED:
        code = summary.get("code") or first.get("code")
        return QwenASRTaskFailedError(
            "The transcription failed",
            code=code,
            service_message=summary.get("message") or first.get("message"),
            failed_files=failed,
            hint=_failure_hint(code),
            **common,
        )
    if status is TaskStatus.CANCELED:
        return QwenASRTaskCanceledError("The transcription was canceled", **common)
    if status is TaskStatus.UNKNOWN:
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


#: The trigger's terminal reasons, and the task status each stands for.
_TERMINAL_EVENT_STATUS = {
    "success": TaskStatus.SUCCEEDED.value,
    "failed": TaskStatus.FAILED.value,
    "canceled": TaskStatus.CANCELED.value,
    "expired": TaskStatus.UNKNOWN.value,
}


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
    if status in _TERMINAL_EVENT_STATUS:
        # The trigger ended on a terminal task: the same rules as a task polled in the worker. An
        # event without the task's summary (an older trigger) says enough to rebuild a minimal one.
        summary = event.get("task")
        if not isinstance(summary, Mapping):
            summary = {
                "asr_task_id": task_id,
                "status": _TERMINAL_EVENT_STATUS[status],
                "code": event.get("code"),
                "message": event.get("message"),
                "request_id": event.get("request_id"),
            }
        return _summary_error(summary, allow_partial_failure=allow_partial_failure)
    common: dict[str, Any] = {
        "task_id": task_id,
        "code": event.get("code"),
        "request_id": event.get("request_id"),
    }
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


def check_wait_options(
    *, interval_name: str, poll_interval: float, max_poll_interval: float, timeout: float
) -> None:
    """Refuse wait options that would spend the account's query quota or give up at once.

    Called by the operators and the sensor before anything is billed or queried.

    :raises QwenASRInputError: naming the argument and the fix.
    """
    for name, value in ((interval_name, poll_interval), ("max_poll_interval", max_poll_interval)):
        seconds = _seconds(value)
        if seconds is None or seconds < MIN_POLL_INTERVAL:
            raise QwenASRInputError(
                f"{name}={value!r} is below the minimum of {MIN_POLL_INTERVAL:g} s between status queries",
                hint=f"Pass {name}>={MIN_POLL_INTERVAL:g}: the account's query quota (20/s) is shared by "
                "every wait; the interval grows on its own while a task runs",
            )
    seconds = _seconds(timeout)
    if seconds is None or seconds <= 0:
        raise QwenASRInputError(
            f"timeout={timeout!r} must be a positive number of seconds",
            hint="Pass how long to wait for the transcription, e.g. timeout=3600; a task still "
            "PENDING then is canceled",
        )


def _seconds(value: object) -> float | None:
    """A number of seconds from a number or a ``timedelta``; ``None`` for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else None


def floored_interval(seconds: float) -> float:
    """``seconds``, or :data:`MIN_POLL_INTERVAL` when shorter (read at call time, so tests may lower it)."""
    return max(float(seconds), MIN_POLL_INTERVAL)


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

    Intervals shorter than :data:`MIN_POLL_INTERVAL` are stretched to it.

    :raises QwenASRTimeoutError: when ``deadline`` (UNIX time) passes first.
    """
    poll_interval = floored_interval(poll_interval)
    max_poll_interval = max(floored_interval(max_poll_interval), poll_interval)
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
