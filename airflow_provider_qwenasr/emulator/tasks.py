"""Transcription tasks: their lifecycle (computed from the clock when read) and their JSON shapes.

Shapes are written out key by key after ``wire-examples/``, never built from ``__dict__``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_qwenasr._api.catalog import ModelFamily
from airflow_provider_qwenasr._api.settings import SERVICE_TZ

from .hints import AudioFacts

PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, UNKNOWN = (
    "PENDING",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "CANCELED",
    "UNKNOWN",
)
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELED})
#: Seconds the service's clock (Beijing time) is ahead of UTC.
BEIJING = int(SERVICE_TZ.utcoffset(None).total_seconds())

#: Messages of the file error codes whose documented message is not the code itself.
FILE_ERROR_MESSAGES = {
    "InvalidFile.DownloadFailed": "The audio file cannot be downloaded.",
    "InvalidFile.DecodeFailed": "The audio file cannot be decoded.",
    "InvalidFile.TooLong": "The audio file is too long.",
    "InvalidFile.NoValidFragment": "No valid speech fragment was found in the audio file.",
}


def beijing_time(epoch: float) -> str:
    """``YYYY-MM-DD HH:MM:SS.mmm`` in UTC+8 without a zone, as DashScope writes task times."""
    millis = int(epoch * 1000) + BEIJING * 1000
    seconds, ms = divmod(millis, 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}"


def epoch_ms(epoch: float) -> int:
    """Epoch milliseconds, as the task list writes times."""
    return int(epoch * 1000)


@dataclass
class FileJob:
    """One input file of a task and how it ends."""

    file_url: str
    facts: AudioFacts
    error_code: str | None = None
    #: A message of its own for :attr:`error_code` (else the documented one, or the code).
    message: str | None = None

    @property
    def error_message(self) -> str:
        """The message sent with :attr:`error_code`."""
        code = self.error_code or ""
        return self.message or FILE_ERROR_MESSAGES.get(code, code)

    def billed_seconds(self, channels: int) -> int:
        """Seconds billed for this file: whole seconds of audio times tracks."""
        return math.ceil(self.facts.audio_seconds) * channels


@dataclass
class Task:
    """A submitted transcription; its status is a function of the clock, never stored."""

    task_id: str
    api_key: str
    model: str
    family: ModelFamily
    request_id: str
    parameters: dict[str, Any]
    files: list[FileJob]
    channels: int
    submit_time: float
    scheduled_time: float
    pending_seconds: float
    running_seconds: float
    final_status: str
    speaker_style: str = "int"
    canceled_at: float | None = field(default=None)

    @property
    def end_time(self) -> float:
        """When the task ended (or will end)."""
        if self.canceled_at is not None:
            return self.canceled_at
        return self.submit_time + self.pending_seconds + self.running_seconds

    def status(self, now: float) -> str:
        """The status at ``now``."""
        if self.canceled_at is not None and now >= self.canceled_at:
            return CANCELED
        if now < self.submit_time + self.pending_seconds:
            return PENDING
        if now < self.end_time:
            return RUNNING
        return self.final_status

    def expired(self, now: float, retention_hours: float) -> bool:
        """Whether the task ended more than ``retention_hours`` ago (it is then ``UNKNOWN``)."""
        return self.status(now) in TERMINAL and now > self.end_time + retention_hours * 3600

    def result_expires(self) -> int:
        """``Expires`` of its result URLs: end time + 24 h, fixed (re-querying does not renew)."""
        return int(self.end_time) + 24 * 3600


def _metrics(task: Task, status: str) -> dict[str, int]:
    done = status in (SUCCEEDED, FAILED)
    failed = sum(1 for f in task.files if f.error_code) if done else 0
    return {"TOTAL": len(task.files), "SUCCEEDED": len(task.files) - failed if done else 0, "FAILED": failed}


def query_body(
    task: Task, now: float, request_id: str, result_url: Callable[[Task, int], str]
) -> dict[str, Any]:
    """The answer of ``GET /tasks/{id}`` for a known task."""
    status = task.status(now)
    output: dict[str, Any] = {
        "task_id": task.task_id,
        "task_status": status,
        "submit_time": beijing_time(task.submit_time),
        "scheduled_time": beijing_time(task.scheduled_time),
    }
    body: dict[str, Any] = {"request_id": request_id, "output": output}
    if status not in TERMINAL:
        output["task_metrics"] = _metrics(task, status)
        return body
    output["end_time"] = beijing_time(task.end_time)
    if status == CANCELED:
        output["task_metrics"] = _metrics(task, status)
        return body
    if task.family.answer == "result":  # Qwen3: one file, ``output.result``
        job = task.files[0]
        if job.error_code:
            output["code"] = job.error_code
            output["message"] = job.error_message
        else:
            output["result"] = {"transcription_url": result_url(task, 0)}
            body["usage"] = {"seconds": job.billed_seconds(task.channels)}
        return body
    # One ``results[]`` item per file: Fun-ASR, Paraformer, SenseVoice and qwen-audio (whose usage,
    # like Fun-ASR's, is assumed to be ``duration``: no document shows a qwen-audio query answer).
    results = []
    for index, job in enumerate(task.files):
        if job.error_code:
            results.append(
                {
                    "file_url": job.file_url,
                    "code": job.error_code,
                    "message": job.error_message,
                    "subtask_status": FAILED,
                }
            )
        else:
            results.append(
                {
                    "file_url": job.file_url,
                    "transcription_url": result_url(task, index),
                    "subtask_status": SUCCEEDED,
                }
            )
    output["results"] = results
    output["task_metrics"] = _metrics(task, status)
    if status == FAILED:
        first = next(job for job in task.files if job.error_code)
        output["code"] = first.error_code
        output["message"] = first.error_message
    body["usage"] = {"duration": sum(j.billed_seconds(task.channels) for j in task.files if not j.error_code)}
    return body


def unknown_body(task_id: str, request_id: str) -> dict[str, Any]:
    """The answer for an unknown, foreign or expired task id: HTTP 200, ``UNKNOWN``."""
    return {"request_id": request_id, "output": {"task_id": task_id, "task_status": UNKNOWN}}


def list_item(task: Task, now: float, api_key_id: str, caller_uid: str) -> dict[str, Any]:
    """One ``data[]`` entry of ``GET /tasks``; ``end_time`` only once the task has ended."""
    status = task.status(now)
    item: dict[str, Any] = {
        "api_key_id": api_key_id,
        "caller_parent_id": caller_uid,
        "caller_uid": caller_uid,
        "gmt_create": epoch_ms(task.submit_time),
        "model_name": task.model,
        "region": "cn-beijing",
        "request_id": task.request_id,
        "start_time": epoch_ms(task.scheduled_time),
        "status": status,
        "task_id": task.task_id,
        "user_api_unique_key": f"apikey:v1:audio:asr:transcription:{task.model}",
    }
    if status in TERMINAL:
        item["end_time"] = epoch_ms(task.end_time)
    return item
