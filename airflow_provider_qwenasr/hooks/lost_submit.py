"""Finding the task a submit created when its answer was lost: the one home of submit reconciliation.

A submit is billed and has no idempotency key. When its outcome is unknown (a 5xx, a reset or
truncated answer, a timeout after the request went out) the service may have created the task. The
task list names no input file, so a lost task is found in two steps:

1. **candidates**: the model's tasks created in the attempt's time window (the list, §3 of the wire
   contract);
2. **identification**: a candidate is ours when the input files it names (``results[].file_url`` of
   a Fun-ASR query, the ``file_url`` of a Qwen3 result document) are exactly the URLs the attempt
   sent (recorded as hashes: a pre-signed URL's query never reaches durable state). A candidate that ended
   FAILED, CANCELED or UNKNOWN without naming its files cannot be a transcript paid for twice, and is
   set aside. A candidate still PENDING or RUNNING names no file yet: it is watched until it ends, for
   at most ``identify_timeout``.

:func:`find_lost_task` returns what it proved: ours (reattach), none created (submitting again is
safe), or undecided (the candidates are named; nobody resubmits).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_qwenasr.models import AsrTask, TaskStatus

if TYPE_CHECKING:
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook

__all__ = ["LostSubmit", "SubmitAttempt", "find_lost_task"]

#: Slack on both sides of an attempt's window: the service's clock and ours may differ.
CLOCK_SLACK = 60.0
#: More candidates than this in one window are not watched one by one: the outcome is undecided.
MAX_CANDIDATES = 50


@dataclass(frozen=True)
class SubmitAttempt:
    """One billed POST, recorded before it is sent (no key, no URL: safe in durable state).

    :param model: the model submitted.
    :param files: the SHA-256 of each input URL, exactly as sent.
    :param started: UNIX time just before the POST.
    :param settle_by: UNIX time after which the service can no longer create a task from it.
    """

    model: str
    files: tuple[str, ...]
    started: float
    settle_by: float

    @classmethod
    def begin(cls, model: str, urls: Iterable[str], *, settle_seconds: float) -> SubmitAttempt:
        """An attempt starting now, whose answer may still take ``settle_seconds`` to come."""
        started = time.time()
        return cls(model, tuple(_file_key(u) for u in urls), started, started + settle_seconds)

    def to_state(self) -> dict[str, Any]:
        """A JSON-safe dict for ``task_state_store``."""
        return {
            "model": self.model,
            "files": list(self.files),
            "started": self.started,
            "settle_by": self.settle_by,
        }

    @classmethod
    def from_state(cls, value: object) -> SubmitAttempt | None:
        """The attempt a stored dict describes, or ``None`` when it is not one."""
        if not isinstance(value, Mapping):
            return None
        try:
            return cls(
                str(value["model"]),
                tuple(str(f) for f in value["files"]),
                float(value["started"]),
                float(value["settle_by"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class LostSubmit:
    """What :func:`find_lost_task` proved about an attempt: ours, or undecided; neither means that
    no task was created."""

    #: Our task, when one candidate was identified as it.
    task: AsrTask | None = None
    #: Candidate ids that could be ours but could not be told apart or identified in time.
    undecided: tuple[str, ...] = field(default=())


def find_lost_task(
    hook: QwenASRHook,
    attempt: SubmitAttempt,
    *,
    identify_timeout: float = 600.0,
    poll_interval: float = 2.0,
) -> LostSubmit:
    """Look for the task ``attempt`` created; see the module docstring for the rules.

    Waits first until ``attempt.settle_by`` (the service may still create the task), then lists,
    then watches the candidates still running for at most ``identify_timeout`` seconds.

    :raises QwenASRError: when the task list or a candidate cannot be read (the caller must then
        treat the outcome as undecided: nothing proves that no task was created).
    """
    wait = attempt.settle_by - time.time()
    if wait > 0:
        time.sleep(wait)
    candidates = _listed(hook, attempt)
    if not candidates:
        return LostSubmit()
    if len(candidates) > MAX_CANDIDATES:
        return LostSubmit(undecided=tuple(candidates))
    deadline = time.time() + identify_timeout
    pending = list(candidates)
    ours: list[AsrTask] = []
    while True:
        still: list[str] = []
        for task_id in pending:
            task = hook.get_task(task_id)
            if not task.is_terminal:
                still.append(task_id)
                continue
            files = _input_files(hook, task)
            if files is not None and files == set(attempt.files):
                ours.append(task)
        pending = still
        if len(ours) > 1:
            return LostSubmit(undecided=tuple(t.task_id for t in ours))
        if not pending:
            return LostSubmit(task=ours[0]) if ours else LostSubmit()
        if time.time() >= deadline:
            return LostSubmit(undecided=tuple([*(t.task_id for t in ours), *pending]))
        hook.log.info(
            "Waiting for %d %s task(s) created when the submit's answer was lost to end, to tell "
            "which is ours: %s",
            len(pending),
            attempt.model,
            ", ".join(pending[:10]),
        )
        time.sleep(max(0.0, min(poll_interval, deadline - time.time())))


def _listed(hook: QwenASRHook, attempt: SubmitAttempt) -> list[str]:
    """Ids of the model's tasks created in the attempt's window, oldest first."""
    since_ms = int((attempt.started - CLOCK_SLACK) * 1000)
    until_ms = int((attempt.settle_by + CLOCK_SLACK) * 1000)
    start = datetime.fromtimestamp(attempt.started - CLOCK_SLACK, timezone.utc)
    end = min(
        datetime.fromtimestamp(attempt.settle_by + CLOCK_SLACK, timezone.utc),
        start + timedelta(hours=24),
    )
    ids = [
        item.task_id
        for item in hook.iter_tasks(start_time=start, end_time=end, model_name=attempt.model)
        if item.task_id and (item.created_ms is None or since_ms <= item.created_ms <= until_ms)
    ]
    return list(reversed(ids))


def _input_files(hook: QwenASRHook, task: AsrTask) -> set[str] | None:
    """The input files a finished task names, without query strings; ``None`` when it names none.

    Fun-ASR queries list each file; a Qwen3 query does not, but its result document begins with it.
    """
    named = {_file_key(f.file_url) for f in task.files if f.file_url}
    if named:
        return named
    if task.status is not TaskStatus.SUCCEEDED:
        return None
    for file in task.succeeded_files:
        assert file.transcription_url
        url = _result_file_url(hook, file.transcription_url)
        if url:
            named.add(_file_key(url))
    return named or None


def _result_file_url(hook: QwenASRHook, url: str) -> str | None:
    """The top-level ``file_url`` of a result document, read as a stream until it appears."""
    import ijson

    with hook.open_result(url) as chunks:
        for prefix, event, value in ijson.parse(_Reader(chunks)):
            if prefix == "file_url" and event == "string":
                return str(value)
            if prefix == "" and event == "end_map":
                return None
    return None


class _Reader:
    """A ``read()`` over an iterator of byte chunks, for ijson."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._buffer += chunk
        if size < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


def _file_key(url: str) -> str:
    """A file URL as recorded and compared: its SHA-256, so a signed URL's query is never stored.

    The record holds the URLs exactly as that attempt sent them (a later try may sign the audio
    anew, but the lost task names the URL it was given).
    """
    return hashlib.sha256(url.encode("utf-8")).hexdigest()
