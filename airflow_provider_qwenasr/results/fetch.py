"""Fetch a finished task's results: download, check, render, write, and describe them in a manifest.

:func:`fetch_transcription_outputs` is the one entry point; ``FetchTranscriptionOperator`` and the
one-shot transcribe operator both call it. For each file of the task that succeeded it:

1. downloads the result through the signed URL into a local temporary file (no Authorization header;
   transient failures and truncated bodies are retried by the hook, invalid JSON by a new download);
2. scans it once, streaming, for the manifest's statistics (``results.parse``);
3. renders each requested text format from a streaming pass into its own local temporary file;
4. only when every rendering of the file succeeded, writes each one to object storage atomically
   (``results.storage``) as ``{output_path}/{asr_task_id}/{stem}.{ext}`` (``results.naming``).

Memory stays bounded by a few sentences, whatever the size of the result (subtitles sort their cues
through temporary files; see ``docs/fetch.md``). Errors name the task and the file, never a signed URL
or the API key.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_qwenasr.exceptions import (
    QwenASRConnectionError,
    QwenASRError,
    QwenASRInputError,
    QwenASRResultError,
    QwenASRTaskCanceledError,
    QwenASRTaskExpiredError,
    QwenASRTaskFailedError,
    redact_url,
)
from airflow_provider_qwenasr.masking import copy_without_url_queries, mask_url_queries
from airflow_provider_qwenasr.models import AsrTask, FileResult, TaskStatus

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
    from airflow_provider_qwenasr.results.naming import OutputNames
    from airflow_provider_qwenasr.results.parse import ResultStats

__all__ = [
    "DEFAULT_MAX_RESULT_BYTES",
    "DEFAULT_MAX_XCOM_BYTES",
    "DEFAULT_OUTPUT_FORMATS",
    "XCOM_OUTPUTS",
    "check_fetchable",
    "fetch_transcription_outputs",
    "normalize_formats",
]

#: What the fetch returns to XCom: the manifest alone, or with each file's text or whole result.
XCOM_OUTPUTS = ("manifest", "text", "full")
DEFAULT_OUTPUT_FORMATS = ("json", "txt")
DEFAULT_MAX_XCOM_BYTES = 256 * 1024
DEFAULT_MAX_RESULT_BYTES = 1 << 30

_log = logging.getLogger(__name__)
#: Formats whose renderer never reads word timings: their sentences are built without them.
_WORDLESS_FORMATS = frozenset({"txt"})


def normalize_formats(output_formats: str | Iterable[str] | None) -> tuple[str, ...]:
    """Return the output formats lower-cased, without duplicates, in the order given.

    A string is split on commas (a templated ``"json,srt"`` works).

    :raises QwenASRInputError: for a format that is not one of ``json txt srt vtt jsonl``.
    """
    from airflow_provider_qwenasr.formats import check_format

    if output_formats is None:
        return ()
    items = output_formats.split(",") if isinstance(output_formats, str) else list(output_formats)
    names: list[str] = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        name = check_format(item)
        if name not in names:
            names.append(name)
    return tuple(names)


def _check_options(xcom_output: str, max_xcom_bytes: int, max_result_bytes: int) -> None:
    if xcom_output not in XCOM_OUTPUTS:
        raise QwenASRInputError(f"xcom_output must be one of {', '.join(XCOM_OUTPUTS)}, got {xcom_output!r}")
    for name, value in (("max_xcom_bytes", max_xcom_bytes), ("max_result_bytes", max_result_bytes)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise QwenASRInputError(f"{name} must be a positive integer, got {value!r}")


def check_fetchable(task: AsrTask) -> None:
    """Raise the error that says why ``task`` has no result to fetch; return if it has one.

    :raises QwenASRTaskExpiredError: ``UNKNOWN``: a wrong id, another account's, or past 24 h.
    :raises QwenASRTaskFailedError: ``FAILED``, or ``SUCCEEDED`` with every file failed.
    :raises QwenASRTaskCanceledError: ``CANCELED``.
    :raises QwenASRResultError: still ``PENDING`` or ``RUNNING``.
    """
    ids: dict[str, Any] = {"task_id": task.task_id, "request_id": task.request_id}
    if task.status is TaskStatus.UNKNOWN:
        raise QwenASRTaskExpiredError(
            f"DashScope no longer knows task {task.task_id}, so its results cannot be fetched",
            **ids,
            hint="Results are kept 24 h after a task ends and cannot be renewed; check the id and that "
            "the connection uses the same account and region, or transcribe the audio again",
        )
    failed = [f.summary() for f in task.failed_files]
    if task.status is TaskStatus.FAILED:
        raise QwenASRTaskFailedError(
            f"Task {task.task_id} failed; there is no result to fetch",
            **ids,
            code=task.code,
            service_message=task.message,
            failed_files=failed,
            hint="See DashScope's code and message; fix the input and submit again",
        )
    if task.status is TaskStatus.CANCELED:
        raise QwenASRTaskCanceledError(f"Task {task.task_id} was canceled; it has no result", **ids)
    if task.status is not TaskStatus.SUCCEEDED:
        raise QwenASRResultError(
            f"Task {task.task_id} is {task.raw_status}: there is no result yet",
            **ids,
            hint="Wait for it first (QwenASRTaskSensor, or the submit operator's wait_for_completion)",
        )
    if not task.succeeded_files:
        first = task.failed_files[0] if task.failed_files else None
        raise QwenASRTaskFailedError(
            f"Every file of task {task.task_id} failed; there is no result to fetch",
            **ids,
            code=first.code if first else None,
            service_message=first.message if first else None,
            failed_files=failed,
            hint="See each file's code and message; fix the inputs and submit again",
        )


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
    :returns: the manifest (see ``docs/fetch.md``).
    :raises QwenASRInputError: for a bad format, ``xcom_output`` or limit, before any download.
    :raises QwenASRResultError: for an expired link (403), a truncated, invalid or oversized result,
        or an oversized XCom value.
    """
    formats = normalize_formats(output_formats)
    _check_options(xcom_output, max_xcom_bytes, max_result_bytes)
    options = _check_format_options(format_options, formats)
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
            failed_files=failed,
            hint=_kept(manifest["outputs"], "the files that succeeded")
            + "; set allow_partial_failure=True to accept partial results",
        )
    if xcom_output != "manifest":
        _check_xcom_size(manifest, task.task_id, xcom_output, max_xcom_bytes, fetch.xcom_over)
    return manifest


def check_output_target(output_path: str, output_conn_id: str | None) -> ObjectStoragePath:
    """The output folder, with its connection and file system checked: call it before any query.

    Airflow's S3 file system falls back to ambient credentials when the connection is missing, which
    would fail only at the first write (or write with the wrong identity): refuse it up front.

    :raises QwenASRInputError: for a connection Airflow does not know, or an unusable URI.
    """
    from airflow_provider_qwenasr.results.storage import is_local, output_root

    if output_conn_id:
        from airflow_provider_qwenasr._compat import BaseHook

        try:
            BaseHook.get_connection(output_conn_id)
        except Exception as exc:  # AirflowNotFoundException, whose import path moved between versions
            raise QwenASRInputError(
                f"output_conn_id {output_conn_id!r} is not a connection Airflow knows ({type(exc).__name__})",
                hint=f"Create it, or set AIRFLOW_CONN_{output_conn_id.upper()}",
            ) from None
    try:
        root = output_root(str(output_path), output_conn_id)
        if not is_local(root):
            # Resolves the protocol's file system: an unknown scheme or a missing package fails here.
            root.fs  # noqa: B018
    except (ValueError, ImportError) as exc:
        raise QwenASRInputError(
            f"output_path {redact_url(str(output_path))!r} cannot be used: {exc}",
            hint="Use a URI Airflow's ObjectStoragePath supports (s3://, gs://, file://…) and install "
            "its file system package",
        ) from None
    if is_local(root):
        _check_local_target(str(output_path), root)
    else:
        _probe_remote_target(str(output_path), root)
    return root


def _probe_name() -> str:
    import uuid

    return f".qwenasr-probe-{uuid.uuid4().hex}"


def _check_local_target(output_path: str, root: ObjectStoragePath) -> None:
    """Refuse a relative path; prove a probe file can be created and removed under the local root."""
    import os

    shown = redact_url(output_path)
    raw = output_path
    if raw.startswith("file://"):
        raw = raw[len("file://") :]
    elif raw.startswith("local://"):
        raw = raw[len("local://") :]
    if not os.path.isabs(raw):
        raise QwenASRInputError(
            f"output_path {shown!r} is a relative path: it would write into the worker's working directory",
            hint="Pass an absolute file:// URI, e.g. 'file:///data/transcripts'",
        )
    folder = Path(root.path)
    probe = folder / _probe_name()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with probe.open("xb"):
            pass
        probe.unlink()
    except OSError as exc:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)
        raise QwenASRInputError(
            f"output_path {shown!r} cannot be written: {_why_local(exc)}",
            hint="Pass an absolute file:// URI of a directory the worker can create files in",
        ) from None


def _why_local(exc: OSError) -> str:
    import errno

    if isinstance(exc, NotADirectoryError) or exc.errno == errno.ENOTDIR:
        return f"a part of it is a regular file, not a directory ({exc.filename or ''})".replace(" ()", "")
    if isinstance(exc, FileExistsError):
        return "it exists and is not a directory"
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied ({exc.strerror})"
    if isinstance(exc, FileNotFoundError):
        return f"a parent directory cannot be created ({exc.strerror})"
    return f"{type(exc).__name__}: {exc.strerror or exc}"


def _probe_remote_target(output_path: str, root: ObjectStoragePath) -> None:
    """Prove an object can be created and removed under the remote root (bucket exists, permissions)."""
    shown = redact_url(output_path)
    probe = root / _probe_name()
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except Exception as exc:  # botocore / fsspec errors, whose types vary by store
        raise QwenASRInputError(
            f"output_path {shown!r} cannot be written: {_why_remote(exc)}",
            hint="Create the bucket, fix the path, or give output_conn_id's identity permission to put "
            "and delete objects there",
        ) from None


def _why_remote(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    lowered = text.lower()
    if "nosuchbucket" in lowered or "bucket does not exist" in lowered or "specified bucket" in lowered:
        return "the bucket does not exist"
    if isinstance(exc, FileNotFoundError):
        return "the bucket does not exist or the path is not found"
    if isinstance(exc, PermissionError) or "accessdenied" in lowered or "forbidden" in lowered:
        return "permission denied"
    return redact_url(text[:300])


def _check_format_options(
    format_options: Mapping[str, Mapping[str, Any]] | None, formats: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    if not format_options:
        return {}
    if not isinstance(format_options, Mapping):
        raise QwenASRInputError("format_options must map a format to its options, e.g. {'srt': {...}}")
    import inspect

    from airflow_provider_qwenasr import formats as renderers

    options: dict[str, dict[str, Any]] = {}
    for name, values in format_options.items():
        try:
            fmt = normalize_formats([name])[0]
        except QwenASRInputError as exc:
            raise QwenASRInputError(f"format_options[{name!r}]: {exc.message}") from None
        if fmt == "json":
            raise QwenASRInputError(
                "format_options['json'] is not allowed: the json output is the original result document, "
                "copied untouched; remove the 'json' key"
            )
        if not isinstance(values, Mapping):
            raise QwenASRInputError(f"format_options[{name!r}] must be a dict of renderer options")
        writer = renderers._WRITERS.get(fmt)
        if writer is not None:
            params = inspect.signature(writer).parameters.values()
            if not any(p.kind is p.VAR_KEYWORD for p in params):
                takes = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
                if unknown := sorted(set(values) - set(takes)):
                    raise QwenASRInputError(
                        f"format_options[{name!r}] has unknown option(s) {unknown}; "
                        f"{fmt!r} takes: {', '.join(takes) or 'none'}"
                    )
        options[fmt] = dict(values)
    return {fmt: values for fmt, values in options.items() if fmt in formats}


def _kept(outputs: list[str], of_what: str) -> str:
    if not outputs:
        return "No output was written"
    shown = ", ".join(outputs[:20]) + (f" and {len(outputs) - 20} more" if len(outputs) > 20 else "")
    return f"The outputs of {of_what} were written and are kept: {shown}"


def _check_xcom_size(
    manifest: dict[str, Any], task_id: str, xcom_output: str, limit: int, over: bool
) -> None:
    size = len(json.dumps(manifest, ensure_ascii=False).encode("utf-8"))
    if over or size > limit:
        what = "text" if xcom_output == "text" else "whole result"
        raise QwenASRResultError(
            f"The {what} of task {task_id} is over max_xcom_bytes ({limit:,} bytes), so it is not "
            "pushed to XCom",
            task_id=task_id,
            hint=_kept(manifest["outputs"], "every file")
            + ". Read the written outputs downstream (xcom_output='manifest'), or raise max_xcom_bytes",
        )


def _in_context(error: QwenASRError, task: AsrTask, where: str, written: list[str]) -> QwenASRError:
    """The same error, naming the task and the file, and the outputs already written."""
    hint = error.hint or ""
    if written:
        kept = _kept(written, "the files before it")
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

    def run(self, root: ObjectStoragePath | None, output_conn_id: str | None) -> dict[str, Any]:
        from airflow_provider_qwenasr.results.naming import OutputNames
        from airflow_provider_qwenasr.results.storage import object_uri

        task = self.task
        names = OutputNames([f.file_url for f in task.files])
        records: list[dict[str, Any]] = []
        with tempfile.TemporaryDirectory(prefix="qwenasr-fetch-") as scratch:
            for index, file in enumerate(task.files):
                if not file.succeeded:
                    records.append(_failed_record(index, file))
                    continue
                where = f"file {index} ({redact_url(file.file_url)})" if file.file_url else f"file {index}"
                try:
                    records.append(self.fetch_file(index, file, names, root, Path(scratch)))
                except QwenASRError as error:
                    raise _in_context(error, task, where, self.written) from error
        succeeded = [r for r in records if r["status"] == TaskStatus.SUCCEEDED.value]
        summary = task.summary()
        return {
            "asr_task_id": task.task_id,
            "status": summary["status"],
            "submit_time": summary["submit_time"],
            "end_time": summary["end_time"],
            "usage_seconds": task.usage_seconds,
            "output_path": object_uri(root) if root is not None else None,
            "output_conn_id": output_conn_id,
            "outputs": list(self.written),
            "files": records,
            "totals": {
                "files": len(records),
                "succeeded": len(succeeded),
                "failed": len(records) - len(succeeded),
                "characters": sum(r["characters"] for r in succeeded),
                "sentence_count": sum(r["sentence_count"] for r in succeeded),
                "duration_ms": sum(r["duration_ms"] or 0 for r in succeeded),
            },
        }

    def fetch_file(
        self, index: int, file: FileResult, names: OutputNames, root: ObjectStoragePath | None, scratch: Path
    ) -> dict[str, Any]:
        """Download, check, render and write one file; return its manifest record."""
        assert file.transcription_url  # FileResult.succeeded guarantees it
        raw = scratch / f"{index}.json"
        wants_text = self.xcom_output == "text" and not self.xcom_over
        text_limit = self.xcom_budget if wants_text else None
        size, stats = self.download(file.transcription_url, raw, text_limit=text_limit)
        # What the provider stores of the document (the json output, the full XCom) names the audio
        # URL without its query, which may be a signature; without a query it is the original bytes.
        document = scratch / f"{index}.redacted.json"
        if copy_without_url_queries(raw, document, [file.file_url, stats.file_url]):
            size = document.stat().st_size
        else:
            document = raw
        name = names.name(index, stats.file_url)
        record: dict[str, Any] = {
            "index": index,
            "file_url": redact_url(file.file_url or stats.file_url or "") or None,
            "status": TaskStatus.SUCCEEDED.value,
            "name": name,
            "family": stats.family,
            "result_bytes": size,
            **stats.summary(),
            "outputs": {},
        }
        if root is not None and self.formats:
            record["outputs"] = self.write_outputs(raw, document, stats, root, name, scratch / str(index))
        self.add_xcom_payload(record, document, size, stats)
        self.log.info(
            "Task %s file %d (%s): %d sentences, %d characters, %s%s",
            self.task.task_id,
            index,
            name,
            stats.sentence_count,
            stats.characters,
            f"{size:,} bytes",
            f"; wrote {', '.join(record['outputs'].values())}" if record["outputs"] else "",
        )
        return record

    def download(self, url: str, raw: Path, *, text_limit: int | None) -> tuple[int, ResultStats]:
        """Download ``url`` into ``raw`` and scan it; download again while it is not valid JSON."""
        from airflow_provider_qwenasr.results.parse import ResultJSONError, scan_result

        mask_url_queries([url])

        def once() -> tuple[int, ResultStats]:
            with raw.open("w+b") as sink:
                size = self.hook.download_result(url, sink, max_bytes=self.max_result_bytes)
                sink.seek(0)
                return size, scan_result(sink, text_limit=text_limit)

        policy = self.hook.retry_policy
        try:
            # A gateway's HTML page, or a body cut short without a Content-Length to betray it.
            return policy.call(
                once,
                what="Downloaded result",
                log=self.log,
                retry_on=lambda error: isinstance(error, ResultJSONError),
            )
        except ResultJSONError as error:
            raise QwenASRResultError(
                f"{error.message} after {policy.max_retries + 1} downloads",
                hint="No output was written for this file. The result may be damaged at the "
                "source; retry the task later",
            ) from None

    def write_outputs(
        self,
        raw: Path,
        document: Path,
        stats: ResultStats,
        root: ObjectStoragePath,
        name: str,
        scratch: Path,
    ) -> dict[str, str]:
        """Render every format to a local file, then write them all; a failure writes nothing.

        ``raw`` is the downloaded result, ``document`` the same without the audio URL's query.
        """
        from airflow_provider_qwenasr import formats as renderers
        from airflow_provider_qwenasr.results.parse import iter_entries
        from airflow_provider_qwenasr.results.storage import object_uri, publish_file

        scratch.mkdir()
        rendered: dict[str, Path] = {}
        for fmt in self.formats:
            if fmt == "json":
                rendered[fmt] = document  # the original bytes, but for the audio URL's query
                continue
            options = dict(self.options.get(fmt, {}))
            # The channels with sentences, known from the scan, are exactly those the entries will
            # hold: the subtitle writers need not spool the first channel to find out. For txt only
            # "one channel" is certain (a channel whose sentences are all empty gives no paragraph).
            single = len({c.channel_id for c in stats.channels if c.sentence_count}) <= 1
            if fmt in ("srt", "vtt") and "multi_channel" not in options:
                options["multi_channel"] = not single
            if fmt == "txt" and single and "multi_channel" not in options:
                options["multi_channel"] = False
            local = scratch / f"{name}.{fmt}"
            # newline="" keeps "\n" line ends on every platform (SRT readers accept both).
            with local.open("w", encoding="utf-8", newline="") as out:
                entries = iter_entries(raw, stats, words=fmt not in _WORDLESS_FORMATS)
                renderers.write(fmt, entries, out, **options)
            rendered[fmt] = local
        outputs: dict[str, str] = {}
        for fmt, local in rendered.items():
            dest = root / f"{name}.{fmt}"
            publish_file(local, dest)
            outputs[fmt] = object_uri(dest)
            self.written.append(outputs[fmt])
        return outputs

    def add_xcom_payload(self, record: dict[str, Any], document: Path, size: int, stats: ResultStats) -> None:
        """Add ``text`` or ``result`` (``document``, parsed) to the record while the XCom budget allows."""
        if self.xcom_output == "manifest" or self.xcom_over:
            return
        if self.xcom_output == "text":
            if stats.text is None or stats.text_over_limit:
                self.xcom_over = True
                return
            record["text"] = stats.text
            self.xcom_budget -= len(stats.text.encode("utf-8"))
        else:
            if size > self.xcom_budget:
                self.xcom_over = True
                return
            with document.open("rb") as handle:
                record["result"] = json.load(handle)
            self.xcom_budget -= size
        if self.xcom_budget < 0:
            self.xcom_over = True


def _failed_record(index: int, file: FileResult) -> dict[str, Any]:
    record: dict[str, Any] = {
        "index": index,
        "file_url": redact_url(file.file_url) if file.file_url else None,
        "status": file.status.value,
        "code": file.code,
        "message": file.message,
    }
    if file.status is TaskStatus.SUCCEEDED:
        # SUCCEEDED without a result link: nothing can be fetched, so it counts as failed.
        record["status"] = TaskStatus.FAILED.value
        record["code"] = record["code"] or "NO_RESULT_URL"
        record["message"] = record["message"] or "The task lists this file without a result link"
    return record
