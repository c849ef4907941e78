"""A transcription task as the submit and query endpoints describe it, with its files and metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pendulum import DateTime

from airflow_provider_qwenasr.exceptions import QwenASRResultError, redact_url
from airflow_provider_qwenasr.models._coerce import _extra, _int, _list, _optional_str
from airflow_provider_qwenasr.models._service_time import parse_service_time
from airflow_provider_qwenasr.models._status import TaskStatus

__all__ = ["AsrTask", "FileResult", "TaskMetrics"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskMetrics:
    """``task_metrics``: how many files a task holds and how many finished each way."""

    total: int
    succeeded: int
    failed: int

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskMetrics:
        """Parse ``{"TOTAL": n, "SUCCEEDED": n, "FAILED": n}``."""
        return cls(
            total=_int(data.get("TOTAL")),
            succeeded=_int(data.get("SUCCEEDED")),
            failed=_int(data.get("FAILED")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    """The outcome for one input file of a task.

    Qwen3 tasks have one, with ``file_url`` unknown (``None``); Fun-ASR tasks have one per file.
    ``transcription_url`` is a signed credential: it is never shown in ``repr`` or summaries.
    """

    file_url: str | None
    status: TaskStatus
    transcription_url: str | None = field(default=None, repr=False)
    code: str | None = None
    message: str | None = None

    @property
    def succeeded(self) -> bool:
        """Whether this file has a transcript to fetch."""
        return self.status is TaskStatus.SUCCEEDED and bool(self.transcription_url)

    def summary(self) -> dict[str, Any]:
        """A JSON-safe dict without the signed URL (the input URL is shown without its query)."""
        out: dict[str, Any] = {
            "file_url": redact_url(self.file_url) if self.file_url else None,
            "status": self.status.value,
        }
        if self.code:
            out["code"] = self.code
            out["message"] = self.message
        return out


_OUTPUT_KEYS = (
    *("task_id", "task_status", "submit_time", "scheduled_time", "end_time"),
    *("code", "message", "result", "results", "task_metrics"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AsrTask:
    """A DashScope transcription task as the query (or submit) endpoint describes it."""

    task_id: str
    status: TaskStatus
    #: The status string as sent, kept for a status the provider does not know (``OTHER``).
    raw_status: str
    request_id: str | None = None
    submit_time: DateTime | None = None
    scheduled_time: DateTime | None = None
    end_time: DateTime | None = None
    code: str | None = None
    message: str | None = None
    files: tuple[FileResult, ...] = ()
    metrics: TaskMetrics | None = None
    #: Billed audio seconds: ``usage.seconds`` (Qwen3) or ``usage.duration`` (Fun-ASR).
    usage_seconds: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_response(cls, body: Mapping[str, Any]) -> AsrTask:
        """Parse a submit or query answer ``{"request_id", "output": {...}, "usage": {...}}``.

        :raises QwenASRResultError: when ``output.task_id`` is missing.
        """
        output = body.get("output") if isinstance(body, Mapping) else None
        if not isinstance(output, Mapping) or not output.get("task_id"):
            raise QwenASRResultError(
                "DashScope answered without output.task_id",
                request_id=_optional_str(body.get("request_id")) if isinstance(body, Mapping) else None,
                hint="The answer does not look like a DashScope task; check the connection's base URL",
            )
        raw_status = str(output.get("task_status") or "UNKNOWN")
        files: list[FileResult] = []
        result = output.get("result")
        if isinstance(result, Mapping) and result.get("transcription_url"):
            files.append(
                FileResult(
                    file_url=_optional_str(result.get("file_url")),
                    status=TaskStatus.SUCCEEDED,
                    transcription_url=str(result["transcription_url"]),
                )
            )
        for item in _list(output.get("results")):
            if not isinstance(item, Mapping):
                continue
            files.append(
                FileResult(
                    file_url=_optional_str(item.get("file_url")),
                    status=TaskStatus.parse(item.get("subtask_status") or "SUCCEEDED"),
                    transcription_url=_optional_str(item.get("transcription_url")),
                    code=_optional_str(item.get("code")),
                    message=_optional_str(item.get("message")),
                )
            )
        metrics = output.get("task_metrics")
        usage = body.get("usage") if isinstance(body.get("usage"), Mapping) else {}
        usage_value = usage.get("seconds", usage.get("duration")) if usage else None
        return cls(
            task_id=str(output["task_id"]),
            status=TaskStatus.parse(raw_status),
            raw_status=raw_status,
            request_id=_optional_str(body.get("request_id")),
            submit_time=parse_service_time(output.get("submit_time")),
            scheduled_time=parse_service_time(output.get("scheduled_time")),
            end_time=parse_service_time(output.get("end_time")),
            code=_optional_str(output.get("code")),
            message=_optional_str(output.get("message")),
            files=tuple(files),
            metrics=TaskMetrics.from_dict(metrics) if isinstance(metrics, Mapping) else None,
            usage_seconds=float(usage_value) if isinstance(usage_value, (int, float)) else None,
            extra=_extra(output, _OUTPUT_KEYS),
        )

    @property
    def is_terminal(self) -> bool:
        """Whether the task can no longer change."""
        return self.status.is_terminal

    @property
    def succeeded_files(self) -> tuple[FileResult, ...]:
        """Files with a transcript to fetch."""
        return tuple(f for f in self.files if f.succeeded)

    @property
    def failed_files(self) -> tuple[FileResult, ...]:
        """Files that failed (Fun-ASR reports them inside a SUCCEEDED task)."""
        return tuple(f for f in self.files if f.status is TaskStatus.FAILED)

    def summary(self) -> dict[str, Any]:
        """A small JSON-safe dict for XCom, events and logs: no signed URL, times as ISO strings."""
        return {
            "asr_task_id": self.task_id,
            "status": self.raw_status if self.status is TaskStatus.OTHER else self.status.value,
            "submit_time": self.submit_time.isoformat() if self.submit_time else None,
            "scheduled_time": self.scheduled_time.isoformat() if self.scheduled_time else None,
            "end_time": self.end_time.isoformat() if self.end_time else None,
            "usage_seconds": self.usage_seconds,
            "code": self.code,
            "message": self.message,
            "request_id": self.request_id,
            "files": [f.summary() for f in self.files],
        }
