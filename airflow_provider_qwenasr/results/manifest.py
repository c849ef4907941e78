"""The manifest: what the fetch returns to XCom, declared once for the fetch that writes it and the UI.

The typed dicts below are the schema. The fetch builds its records with :func:`file_record`,
:func:`failed_record` and :func:`build_manifest`; the Transcript tab recognises a manifest with
:func:`is_manifest` and checks it with :func:`check_manifest`, whose rules are read from the same
typed dicts, so a field added here is written and checked alike. ``docs/fetch.md`` describes every
field for users.

A manifest is plain JSON (it lives in XCom): every value is a ``str``, a number, a list or a dict,
and it never holds a signed URL (file URLs are shown without their query).
"""

from __future__ import annotations

import functools
import sys
import types
import typing
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict, Union

from airflow_provider_qwenasr.exceptions import redact_url

if TYPE_CHECKING:
    from airflow_provider_qwenasr.models import AsrTask, FileResult
    from airflow_provider_qwenasr.results.parse import ResultStats

__all__ = [
    "ChannelSummary",
    "FileRecord",
    "Manifest",
    "ManifestInvalid",
    "Totals",
    "build_manifest",
    "check_manifest",
    "failed_record",
    "file_record",
    "is_manifest",
]


class ChannelSummary(TypedDict):
    """One ``transcripts[]`` item of a result: its channel, text length and sentence count."""

    channel_id: int
    characters: int
    sentence_count: int


class _FileKeys(TypedDict):
    """The keys every file record has, whether the file succeeded or failed."""

    #: The file's position in the task's ``results`` (also its index in the output names).
    index: int
    #: The input URL without its query (which may be a signature).
    file_url: str | None
    #: ``SUCCEEDED`` or ``FAILED`` (a file listed without a result link counts as failed).
    status: str


class FileRecord(_FileKeys, total=False):
    """One input file of the task: its figures and outputs, or (failed) DashScope's code and message."""

    # A failed file.
    code: str | None
    message: str | None
    # A file that succeeded: the figures of :class:`~.parse.ResultStats`, and what was written.
    name: str
    family: str
    result_bytes: int
    duration_ms: int | None
    languages: list[str]
    emotions: list[str]
    speakers: list[int | str]  # a speaker label as given (models.SpeakerLabel)
    characters: int
    sentence_count: int
    channels: list[ChannelSummary]
    #: The URI written for each format.
    outputs: dict[str, str]
    #: The UI's signature of each output, by format (:mod:`airflow_provider_qwenasr.output_signing`).
    output_signatures: dict[str, str]
    #: ``xcom_output="text"``: the transcription's text.
    text: str
    #: ``xcom_output="full"``: the whole result document, parsed.
    result: Any


class Totals(TypedDict):
    """The figures of the files that succeeded, summed (``files``/``failed`` count every file)."""

    files: int
    succeeded: int
    failed: int
    characters: int
    sentence_count: int
    duration_ms: int


class Manifest(TypedDict):
    """The fetch's return value: the task, where the outputs went, every file, the totals."""

    asr_task_id: str
    status: str
    submit_time: str | None
    end_time: str | None
    usage_seconds: float | None
    output_path: str | None
    output_conn_id: str | None
    #: Every URI written, in order.
    outputs: list[str]
    files: list[FileRecord]
    totals: Totals


_SUCCEEDED = "SUCCEEDED"
_FAILED = "FAILED"


def file_record(index: int, file_url: str | None, name: str, size: int, stats: ResultStats) -> FileRecord:
    """The record of a file whose result was downloaded and checked (``outputs`` still empty)."""
    record: FileRecord = {
        "index": index,
        "file_url": redact_url(file_url or stats.file_url or "") or None,
        "status": _SUCCEEDED,
        "name": name,
        "family": stats.family,
        "result_bytes": size,
        "duration_ms": stats.duration_ms,
        "languages": list(stats.languages),
        "emotions": list(stats.emotions),
        "speakers": list(stats.speakers),
        "characters": stats.characters,
        "sentence_count": stats.sentence_count,
        "channels": [
            {"channel_id": c.channel_id, "characters": c.characters, "sentence_count": c.sentence_count}
            for c in stats.channels
        ],
        "outputs": {},
    }
    return record


def failed_record(index: int, file: FileResult) -> FileRecord:
    """The record of a file DashScope did not transcribe (or listed without a result link)."""
    record: FileRecord = {
        "index": index,
        "file_url": redact_url(file.file_url) if file.file_url else None,
        "status": file.status.value,
        "code": file.code,
        "message": file.message,
    }
    if file.status.value == _SUCCEEDED:
        # SUCCEEDED without a result link: nothing can be fetched, so it counts as failed.
        record["status"] = _FAILED
        record["code"] = record.get("code") or "NO_RESULT_URL"
        record["message"] = record.get("message") or "The task lists this file without a result link"
    return record


def _totals(records: Sequence[FileRecord]) -> Totals:
    succeeded = [r for r in records if r["status"] == _SUCCEEDED]
    return {
        "files": len(records),
        "succeeded": len(succeeded),
        "failed": len(records) - len(succeeded),
        "characters": sum(r.get("characters", 0) for r in succeeded),
        "sentence_count": sum(r.get("sentence_count", 0) for r in succeeded),
        "duration_ms": sum(r.get("duration_ms") or 0 for r in succeeded),
    }


def build_manifest(
    task: AsrTask,
    records: list[FileRecord],
    *,
    outputs: list[str],
    output_path: str | None,
    output_conn_id: str | None,
) -> Manifest:
    """The manifest of ``task``, whose files are ``records`` and whose written URIs are ``outputs``."""
    summary = task.summary()
    return {
        "asr_task_id": task.task_id,
        "status": summary["status"],
        "submit_time": summary["submit_time"],
        "end_time": summary["end_time"],
        "usage_seconds": task.usage_seconds,
        "output_path": output_path,
        "output_conn_id": output_conn_id,
        "outputs": list(outputs),
        "files": records,
        "totals": _totals(records),
    }


# Checking a manifest read back from XCom (which DAG authors and XCom editors can rewrite).


class ManifestInvalid(ValueError):
    """The XCom looks like a manifest but is not one the UI can show (the message says why)."""


def is_manifest(value: Any) -> bool:
    """Whether an XCom value looks like a transcription manifest.

    It has ``asr_task_id`` and the ``files`` and ``outputs`` lists; the sensor's summary has the
    first two but no ``outputs``, and is not a transcript.
    """
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("asr_task_id"), str)
        and isinstance(value.get("files"), list)
        and isinstance(value.get("outputs"), list)
    )


def check_manifest(manifest: Mapping[str, Any]) -> None:
    """Check that each field of :class:`Manifest` present (and not null) has its declared type.

    Unknown keys are allowed (a newer provider may add some); a whole number may be written as a
    float (JSON does not tell them apart); a file's ``index`` must be a non-negative integer.

    :raises ManifestInvalid: naming the first field that is wrong.
    """
    files = manifest.get("files")
    for position, entry in enumerate(files if isinstance(files, list) else []):
        index = entry.get("index", position) if isinstance(entry, Mapping) else position
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise ManifestInvalid(f"files[{position}].index must be a non-negative integer")
    _check_fields(manifest, Manifest, "")


@functools.cache
def _hints(schema: type) -> dict[str, Any]:
    return typing.get_type_hints(schema, vars(sys.modules[schema.__module__]))


def _check_fields(value: Mapping[str, Any], schema: type, where: str) -> None:
    for name, hint in _hints(schema).items():
        field = value.get(name)
        if field is not None:
            _check(field, hint, f"{where}{name}")


def _check(value: Any, hint: Any, where: str) -> None:
    """Check ``value`` (not None) against the type ``hint``; raise :class:`ManifestInvalid` if it differs."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return
    if origin in (Union, types.UnionType):
        # ``X | None``: the value is not None here, so it must be an X.
        (hint,) = [a for a in args if a is not type(None)]
        _check(value, hint, where)
    elif origin is list:
        (item,) = args
        if not isinstance(value, list):
            raise ManifestInvalid(f"{where} must be a list of {_name(item)}")
        for position, member in enumerate(value):
            if _is_typed_dict(item):
                _check(member, item, f"{where}[{position}]")
            elif member is None or not _fits(member, item):
                raise ManifestInvalid(f"{where} must be a list of {_name(item)}")
    elif origin is dict:
        _, item = args
        if not isinstance(value, Mapping) or not all(_fits(v, item) for v in value.values()):
            raise ManifestInvalid(f"{where} must map formats to {'strings' if item is str else 'values'}")
    elif _is_typed_dict(hint):
        if not isinstance(value, Mapping):
            raise ManifestInvalid(f"{where} must be an object")
        _check_fields(value, hint, f"{where}.")
    elif not _fits(value, hint):
        raise ManifestInvalid(f"{where} must be {_ARTICLES.get(hint, 'an object')}")


def _is_typed_dict(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, dict) and hasattr(hint, "__total__")


def _fits(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of the plain type ``hint`` (a bool is no number; an int is a float)."""
    if hint in (int, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, hint)


def _name(hint: Any) -> str:
    return "objects" if _is_typed_dict(hint) else str(getattr(hint, "__name__", "values"))


_ARTICLES = {str: "a string", int: "a number", float: "a number", bool: "true or false"}
