"""Typed, immutable views of DashScope's task and result documents.

Parsers here tolerate what the service may add later: unknown fields are kept in ``extra``, and an
unknown task status becomes :attr:`TaskStatus.OTHER` (not terminal, so a waiter keeps polling)
instead of an exception. Times inside a transcript stay integer milliseconds, as DashScope sends them;
task timestamps become timezone-aware ``pendulum`` datetimes in UTC.

Signed result URLs live only in :attr:`FileResult.transcription_url`, which is left out of ``repr``
and of every ``summary()``, so printing or pushing a model never leaks one.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pendulum
from pendulum import DateTime

from airflow_provider_qwenasr.exceptions import QwenASRResultError, redact_url

__all__ = [
    "AsrTask",
    "FileResult",
    "Sentence",
    "TaskListItem",
    "TaskMetrics",
    "TaskPage",
    "TaskStatus",
    "Transcript",
    "Transcription",
    "Word",
    "parse_service_time",
]

# DashScope writes task times without a zone, in Beijing time (UTC+8) for both regions.
SERVICE_TIMEZONE = pendulum.FixedTimezone(8 * 3600)


class TaskStatus(str, enum.Enum):
    """A DashScope task's ``task_status`` (or a Fun-ASR file's ``subtask_status``)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    #: The service no longer knows the task: a wrong or foreign id, or past its 24 h retention.
    UNKNOWN = "UNKNOWN"
    #: A status this provider does not know yet; treated as still in progress.
    OTHER = "OTHER"

    @classmethod
    def parse(cls, value: object) -> TaskStatus:
        """Return the member for ``value``, or :attr:`OTHER` for a status the service added later."""
        try:
            return cls(str(value).upper())
        except ValueError:
            return cls.OTHER

    @property
    def is_terminal(self) -> bool:
        """Whether the task can no longer change (SUCCEEDED, FAILED, CANCELED or UNKNOWN)."""
        return self in _TERMINAL

    @property
    def is_active(self) -> bool:
        """Whether the task is queued or running (or in a state we do not know, and may still finish)."""
        return not self.is_terminal


_TERMINAL = frozenset({TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED, TaskStatus.UNKNOWN})


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


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def _int(value: object, default: int = 0) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return default


def _ms(data: Mapping[str, Any], key: str) -> int:
    """A sentence time in ms: a finite number, or the document is refused (times drive subtitles)."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise QwenASRResultError(f"A sentence's {key} is {value!r}, not a number of milliseconds")
    try:
        return int(float(value))
    except (ValueError, OverflowError):
        raise QwenASRResultError(f"A sentence's {key} is {value!r}, not a number of milliseconds") from None


def _list(value: object) -> list[Any]:
    """``value`` when it is a list, else empty: a malformed optional list is ignored, not fatal."""
    return value if isinstance(value, list) else []


def _extra(data: Mapping[str, Any], known: Iterable[str]) -> dict[str, Any]:
    known_keys = set(known)
    return {k: v for k, v in data.items() if k not in known_keys}


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Word:
    """One word of a sentence, times in milliseconds from the start of the audio."""

    begin_time: int
    end_time: int
    text: str
    punctuation: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Word:
        """Parse a ``words[]`` item."""
        return cls(
            begin_time=_int(data.get("begin_time")),
            end_time=_int(data.get("end_time")),
            text=str(data.get("text") or ""),
            punctuation=str(data.get("punctuation") or ""),
        )


_SENTENCE_KEYS = (
    *("sentence_id", "begin_time", "end_time", "text"),
    *("language", "emotion", "speaker_id", "words"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sentence:
    """One sentence of a transcript.

    ``sentence_id`` starts at 0 for Qwen3 and at 1 for Fun-ASR; ``language`` and ``emotion`` come from
    Qwen3 only, ``speaker_id`` from Fun-ASR with diarization.
    """

    sentence_id: int
    begin_time: int
    end_time: int
    text: str
    language: str | None = None
    emotion: str | None = None
    speaker_id: int | None = None
    words: tuple[Word, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sentence:
        """Parse a ``sentences[]`` item.

        :raises QwenASRResultError: when the item is not an object or lacks its times.
        """
        if not isinstance(data, Mapping) or "begin_time" not in data or "end_time" not in data:
            raise QwenASRResultError("A sentence in the result has no begin_time/end_time")
        speaker = data.get("speaker_id")
        return cls(
            sentence_id=_int(data.get("sentence_id")),
            begin_time=_ms(data, "begin_time"),
            end_time=_ms(data, "end_time"),
            text=str(data.get("text") or ""),
            language=_optional_str(data.get("language")),
            emotion=_optional_str(data.get("emotion")),
            speaker_id=None if speaker is None else _int(speaker),
            words=tuple(Word.from_dict(w) for w in _list(data.get("words")) if isinstance(w, Mapping)),
            extra=_extra(data, _SENTENCE_KEYS),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcript:
    """The text of one audio channel."""

    channel_id: int
    text: str
    sentences: tuple[Sentence, ...] = ()
    #: Fun-ASR only: milliseconds of speech in this channel.
    content_duration_ms: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transcript:
        """Parse a ``transcripts[]`` item.

        :raises QwenASRResultError: when the item is not an object.
        """
        if not isinstance(data, Mapping):
            raise QwenASRResultError("A transcript in the result is not an object")
        sentences = data.get("sentences") or []
        if not isinstance(sentences, list):
            raise QwenASRResultError("A transcript's sentences are not a list")
        duration = data.get("content_duration_in_milliseconds")
        return cls(
            channel_id=_int(data.get("channel_id")),
            text=str(data.get("text") or ""),
            sentences=tuple(Sentence.from_dict(s) for s in sentences),
            content_duration_ms=None if duration is None else _int(duration),
            extra=_extra(data, ("channel_id", "text", "sentences", "content_duration_in_milliseconds")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcription:
    """A whole result document: Qwen3 (``audio_info``) or Fun-ASR/Paraformer (``properties``)."""

    file_url: str | None
    #: ``"qwen3"`` or ``"funasr"``, told from the document's shape.
    family: str
    audio_format: str | None = None
    sample_rate: int | None = None
    #: Audio length in ms: Fun-ASR's ``original_duration_in_milliseconds``; for Qwen3 (which does not
    #: send it) the end of the last sentence, a lower bound.
    duration_ms: int | None = None
    transcripts: tuple[Transcript, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: object) -> Transcription:
        """Parse a result document.

        :raises QwenASRResultError: when ``data`` is not a result document.
        """
        if not isinstance(data, Mapping):
            raise QwenASRResultError("The result file is not a JSON object")
        transcripts_raw = data.get("transcripts")
        if transcripts_raw is None:
            transcripts_raw = []
        if not isinstance(transcripts_raw, list):
            raise QwenASRResultError("The result file's 'transcripts' is not a list")
        transcripts = tuple(Transcript.from_dict(t) for t in transcripts_raw)
        properties = data.get("properties")
        audio_info = data.get("audio_info")
        if isinstance(properties, Mapping):
            family = "funasr"
            audio_format = _optional_str(properties.get("audio_format"))
            rate = properties.get("original_sampling_rate")
            duration = properties.get("original_duration_in_milliseconds")
        else:
            family = "qwen3"
            info = audio_info if isinstance(audio_info, Mapping) else {}
            audio_format = _optional_str(info.get("format"))
            rate = info.get("sample_rate")
            ends = [s.end_time for t in transcripts for s in t.sentences]
            duration = max(ends) if ends else None
        return cls(
            file_url=_optional_str(data.get("file_url")),
            family=family,
            audio_format=audio_format,
            sample_rate=None if rate is None else _int(rate),
            duration_ms=None if duration is None else _int(duration),
            transcripts=transcripts,
            extra=_extra(data, ("file_url", "transcripts", "properties", "audio_info")),
        )

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        """Every sentence of every channel, in channel order."""
        return tuple(s for t in self.transcripts for s in t.sentences)

    def channel_sentences(self) -> Iterator[tuple[int, Sentence]]:
        """Yield ``(channel_id, sentence)`` pairs in channel order: the input of the renderers."""
        for transcript in self.transcripts:
            for sentence in transcript.sentences:
                yield transcript.channel_id, sentence

    @property
    def text(self) -> str:
        """The text of all channels, one channel per line."""
        return "\n".join(t.text for t in self.transcripts)

    @property
    def languages(self) -> list[str]:
        """Languages detected (Qwen3 only), sorted."""
        return sorted({s.language for s in self.sentences if s.language})

    @property
    def emotions(self) -> list[str]:
        """Emotions detected (Qwen3 only), sorted."""
        return sorted({s.emotion for s in self.sentences if s.emotion})

    @property
    def speakers(self) -> list[int]:
        """Speaker ids (Fun-ASR with diarization), sorted."""
        return sorted({s.speaker_id for s in self.sentences if s.speaker_id is not None})

    @property
    def characters(self) -> int:
        """How many characters of text the transcription holds."""
        return sum(len(t.text) for t in self.transcripts)


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
