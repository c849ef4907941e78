"""Fetch a finished task's results: download, check, render, write, and describe them in a manifest.

:func:`fetch_transcription_outputs` is the one entry point; ``QwenASRFetchTranscriptionOperator`` and the
one-shot transcribe operator both call it. For each file of the task that succeeded it:

1. downloads the result through the signed URL into a local temporary file (no Authorization header;
   transient failures and truncated bodies are retried by the hook, invalid JSON by a new download:
   ``results.download``);
2. scans it once, streaming, for the manifest's statistics (``results.parse``);
3. renders each requested text format from a streaming pass into its own local temporary file;
4. only when every rendering of the file succeeded, writes each one to object storage atomically
   (``results.render``, ``results.storage``) as ``{output_path}/{asr_task_id}/{stem}.{ext}``
   (``results.naming``);

and describes every file in the manifest (``results.manifest``). The options are checked first
(``results.options``), and so is the output folder (``results.target``).

Memory stays bounded by a few sentences, whatever the size of the result (subtitles sort their cues
through temporary files; see ``docs/fetch.md``). Errors name the task and the file, never a signed URL
or the API key.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_qwenasr.exceptions import (
    QwenASRConnectionError,
    QwenASRError,
    QwenASRResultError,
    QwenASRTaskFailedError,
    redact_url,
)
from airflow_provider_qwenasr.masking import copy_without_url_queries
from airflow_provider_qwenasr.models import AsrTask, FileResult, TaskStatus
from airflow_provider_qwenasr.results.manifest import (
    FileRecord,
    Manifest,
    build_manifest,
    failed_record,
    file_record,
)
from airflow_provider_qwenasr.results.options import (
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_MAX_XCOM_BYTES,
    DEFAULT_OUTPUT_FORMATS,
    XCOM_OUTPUTS,
    check_format_options,
    check_options,
    normalize_formats,
)
from airflow_provider_qwenasr.results.target import check_output_target

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
    from airflow_provider_qwenasr.results.naming import OutputNames

__all__ = [
    "DEFAULT_MAX_RESULT_BYTES",
    "DEFAULT_MAX_XCOM_BYTES",
    "DEFAULT_OUTPUT_FORMATS",
    "XCOM_OUTPUTS",
    "check_fetchable",
    "check_output_target",
    "fetch_transcription_outputs",
    "normalize_formats",
]

_log = logging.getLogger(__name__)


def check_fetchable(task: AsrTask) -> None:
    """Raise the error that says why ``task`` has no result to fetch; return if it has one.

    The errors are :func:`airflow_provider_qwenasr.outcomes.fetch_error`'s, the one table from a
    task's status to its error, so the fetch says what the wait says about the same task.

    :raises QwenASRTaskExpiredError: ``UNKNOWN``: a wrong id, another account's, or past 24 h.
    :raises QwenASRTaskFailedError: ``FAILED``, or ``SUCCEEDED`` with every file failed.
    :raises QwenASRTaskCanceledError: ``CANCELED``.
    :raises QwenASRResultError: still ``PENDING`` or ``RUNNING``.
    """
    from airflow_provider_qwenasr.outcomes import fetch_error

    error = fetch_error(task)
    if error is not None:
        raise error


def fetch_transcription_outputs(
    hook: QwenASRHook,
    task: AsrTask,
    *,
    output_path: str | None = None,
    output_conn_id: str | None = None,
    output_formats: str | Iterable[str] | None = DEFAULT_OUTPUT_FORMATS,
    xcom_output: str = "manifest",
    max_xcom_bytes: int = DEFAULT_MAX_XCOM_BYTES,
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
    allow_partial_failure: bool = True,
    format_options: Mapping[str, Mapping[str, Any]] | None = None,
    log: logging.Logger | logging.LoggerAdapter[Any] | Any | None = None,
) -> dict[str, Any]:
    """Download a finished task's results, write the requested renderings, and return the manifest.

    ``task`` must come from a fresh query (:meth:`QwenASRHook.get_task`): it holds the signed result
    URLs, which never travel through XCom or trigger events.

    :param hook: the hook that downloads (its ``max_retries`` and backoff apply to downloads).
    :param task: the queried task; anything but ``SUCCEEDED`` raises (see :func:`check_fetchable`).
    :param output_path: where to write, as an ``ObjectStoragePath`` URI (``s3://bucket/prefix``,
        ``file:///dir`` or ``/dir``); outputs go to ``{output_path}/{asr_task_id}/{stem}.{ext}``.
        ``None`` writes nothing (the manifest still has every statistic).
    :param output_conn_id: the Airflow connection of the object store (e.g. an ``aws`` connection).
    :param output_formats: any of ``json`` (the original bytes, an audio URL's query cut),
        ``txt``, ``srt``, ``vtt``, ``jsonl``.
    :param xcom_output: ``manifest``; ``text`` adds each file's ``text``; ``full`` adds each file's
        whole parsed document as ``result``.
    :param max_xcom_bytes: a ``text`` or ``full`` manifest larger than this (JSON-encoded) is refused.
    :param max_result_bytes: a result file larger than this is refused.
    :param allow_partial_failure: with False, a task where some files failed raises
        :class:`QwenASRTaskFailedError` after the outputs of the good files are written.
    :param format_options: per-format renderer options, e.g. ``{"srt": {"max_line_chars": 32}}``.
    :param log: where progress goes (an operator passes ``self.log``).
    :returns: the manifest, shaped as :class:`~.manifest.Manifest` (see ``docs/fetch.md``).
    :raises QwenASRInputError: for a bad format, ``xcom_output`` or limit, before any download.
    :raises QwenASRResultError: for an expired link (403), a truncated, invalid or oversized result,
        or an oversized XCom value.
    """
    formats = normalize_formats(output_formats)
    check_options(xcom_output, max_xcom_bytes, max_result_bytes)
    options = check_format_options(format_options, formats)
    root = check_output_target(output_path, output_conn_id) / task.task_id if output_path else None
    check_fetchable(task)
    fetch = _Fetch(
        hook,
        task,
        formats=formats if output_path else (),
        options=options,
        xcom_output=xcom_output,
        max_xcom_bytes=max_xcom_bytes,
        max_result_bytes=max_result_bytes,
        log=log or _log,
    )
    manifest = fetch.run(root, output_conn_id)
    failed = [f for f in manifest["files"] if f["status"] != TaskStatus.SUCCEEDED.value]
    if failed and not allow_partial_failure:
        raise QwenASRTaskFailedError(
            f"{len(failed)} of {len(manifest['files'])} files of task {task.task_id} failed",
            task_id=task.task_id,
            request_id=task.request_id,
            code=failed[0].get("code"),
            service_message=failed[0].get("message"),
            failed_files=[dict(f) for f in failed],
            hint=_outputs_kept_hint(manifest["outputs"], "the files that succeeded")
            + "; set allow_partial_failure=True to accept partial results",
        )
    if xcom_output != "manifest":
        _check_xcom_size(manifest, task.task_id, xcom_output, max_xcom_bytes, fetch.xcom_over)
    # Callers (the operators, then XCom) treat it as the plain JSON dict it is.
    return cast("dict[str, Any]", manifest)


def _outputs_kept_hint(outputs: list[str], of_what: str) -> str:
    if not outputs:
        return "No output was written"
    shown = ", ".join(outputs[:20]) + (f" and {len(outputs) - 20} more" if len(outputs) > 20 else "")
    return f"The outputs of {of_what} were written and are kept: {shown}"


def _check_xcom_size(manifest: Manifest, task_id: str, xcom_output: str, limit: int, over: bool) -> None:
    size = len(json.dumps(manifest, ensure_ascii=False).encode("utf-8"))
    if over or size > limit:
        what = "text" if xcom_output == "text" else "whole result"
        raise QwenASRResultError(
            f"The {what} of task {task_id} is over max_xcom_bytes ({limit:,} bytes), so it is not "
            "pushed to XCom",
            task_id=task_id,
            hint=_outputs_kept_hint(manifest["outputs"], "every file")
            + ". Read the written outputs downstream (xcom_output='manifest'), or raise max_xcom_bytes",
        )


def _with_task_and_outputs(
    error: QwenASRError, task: AsrTask, where: str, written: list[str]
) -> QwenASRError:
    """The same error, naming the task and the file, and the outputs already written."""
    hint = error.hint or ""
    if written:
        kept = _outputs_kept_hint(written, "the files before it")
        hint = f"{hint}. {kept}" if hint else kept
    kwargs: dict[str, Any] = {
        "task_id": task.task_id,
        "code": error.code,
        "service_message": error.service_message,
        "request_id": error.request_id,
        "http_status": error.http_status,
        "hint": hint or None,
    }
    if isinstance(error, QwenASRConnectionError):
        # The hook has retried already: what is left is a result that cannot be downloaded whole.
        return QwenASRResultError(f"The result of {where} could not be downloaded: {error.message}", **kwargs)
    try:
        return type(error)(f"The result of {where}: {error.message}", **kwargs)
    except TypeError:  # a subclass with other required arguments
        return QwenASRResultError(f"The result of {where}: {error.message}", **kwargs)


class _Fetch:
    """The state of one fetch: settings, the outputs written so far, the XCom budget."""

    def __init__(
        self,
        hook: QwenASRHook,
        task: AsrTask,
        *,
        formats: tuple[str, ...],
        options: dict[str, dict[str, Any]],
        xcom_output: str,
        max_xcom_bytes: int,
        max_result_bytes: int,
        log: Any,
    ) -> None:
        self.hook = hook
        self.task = task
        self.formats = formats
        self.options = options
        self.xcom_output = xcom_output
        self.max_result_bytes = max_result_bytes
        self.log = log
        self.written: list[str] = []
        self.xcom_budget = max_xcom_bytes
        self.xcom_over = False

    def run(self, root: ObjectStoragePath | None, output_conn_id: str | None) -> Manifest:
        from airflow_provider_qwenasr.results.naming import OutputNames
        from airflow_provider_qwenasr.results.storage import object_uri

        task = self.task
        names = OutputNames([f.file_url for f in task.files])
        records: list[FileRecord] = []
        with tempfile.TemporaryDirectory(prefix="qwenasr-fetch-") as scratch:
            for index, file in enumerate(task.files):
                if not file.succeeded:
                    records.append(failed_record(index, file))
                    continue
                where = f"file {index} ({redact_url(file.file_url)})" if file.file_url else f"file {index}"
                try:
                    records.append(self.fetch_file(index, file, names, root, Path(scratch)))
                except QwenASRError as error:
                    raise _with_task_and_outputs(error, task, where, self.written) from error
        return build_manifest(
            task,
            records,
            outputs=self.written,
            output_path=object_uri(root) if root is not None else None,
            output_conn_id=output_conn_id,
        )

    def fetch_file(
        self, index: int, file: FileResult, names: OutputNames, root: ObjectStoragePath | None, scratch: Path
    ) -> FileRecord:
        """Download, check, render and write one file; return its manifest record."""
        from airflow_provider_qwenasr.results.download import download_result
        from airflow_provider_qwenasr.results.render import write_outputs

        assert file.transcription_url  # FileResult.succeeded guarantees it
        raw = scratch / f"{index}.json"
        wants_text = self.xcom_output == "text" and not self.xcom_over
        size, stats = download_result(
            self.hook,
            file.transcription_url,
            raw,
            max_result_bytes=self.max_result_bytes,
            text_limit=self.xcom_budget if wants_text else None,
            log=self.log,
        )
        # What the provider stores of the document (the json output, the full XCom) names the audio
        # URL without its query, which may be a signature; without a query it is the original bytes.
        document = scratch / f"{index}.redacted.json"
        if copy_without_url_queries(raw, document, [file.file_url, stats.file_url]):
            size = document.stat().st_size
        else:
            document = raw
        name = names.name(index, stats.file_url)
        record = file_record(index, file.file_url, name, size, stats)
        if root is not None and self.formats:
            record["outputs"] = write_outputs(
                raw,
                document,
                stats,
                root,
                name,
                scratch / str(index),
                formats=self.formats,
                options=self.options,
                written=self.written,
            )
        self.add_xcom_payload(record, document, size, stats.text, stats.text_over_limit)
        outputs = record.get("outputs") or {}
        self.log.info(
            "Task %s file %d (%s): %d sentences, %d characters, %s%s",
            self.task.task_id,
            index,
            name,
            stats.sentence_count,
            stats.characters,
            f"{size:,} bytes",
            f"; wrote {', '.join(outputs.values())}" if outputs else "",
        )
        return record

    def add_xcom_payload(
        self, record: FileRecord, document: Path, size: int, text: str | None, text_over: bool
    ) -> None:
        """Add ``text`` or ``result`` (``document``, parsed) to the record while the XCom budget allows."""
        if self.xcom_output == "manifest" or self.xcom_over:
            return
        if self.xcom_output == "text":
            if text is None or text_over:
                self.xcom_over = True
                return
            record["text"] = text
            self.xcom_budget -= len(text.encode("utf-8"))
        else:
            if size > self.xcom_budget:
                self.xcom_over = True
                return
            with document.open("rb") as handle:
                record["result"] = json.load(handle)
            self.xcom_budget -= size
        if self.xcom_budget < 0:
            self.xcom_over = True
