"""The fetch operator's manifest as the UI sees it: recognising one, and choosing what may be served.

A manifest is the XCom ``return_value`` of the fetch and one-shot operators::

    {"asr_task_id", "status", "submit_time", "end_time", "usage_seconds", "output_conn_id",
     "outputs": [uri, ...], "files": [{"index", "status", "outputs": {fmt: uri}, ...}], "totals": {...}}

The download route serves only an output named by the manifest itself (``files[i].outputs[fmt]``,
also listed in ``outputs`` when that list is present), never a path from the request. Because a DAG
author writes the XCom, local ``file://`` outputs can be restricted to ``[qwen_asr] ui_local_roots``
so a crafted manifest cannot make the api-server serve its own files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from airflow.configuration import conf

__all__ = [
    "OUTPUT_MEDIA_TYPES",
    "OutputRefused",
    "file_entry",
    "is_manifest",
    "output_uri",
    "readable_output",
]

#: Media types of the formats the fetch operator writes.
OUTPUT_MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "jsonl": "application/x-ndjson; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}


class OutputRefused(LookupError):
    """The manifest names no such output, or names one the UI must not serve."""


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


def file_entry(manifest: Mapping[str, Any], index: int) -> Mapping[str, Any] | None:
    """The ``files`` entry at position ``index`` (or with that ``index`` key), if any."""
    files = manifest.get("files") or []
    for position, entry in enumerate(files):
        if isinstance(entry, Mapping) and entry.get("index", position) == index:
            return entry
    return None


def _local_roots() -> list[str]:
    raw = conf.get("qwen_asr", "ui_local_roots", fallback="") or ""
    return [os.path.realpath(part.strip()) for part in raw.split(",") if part.strip()]


def _check_uri(uri: str) -> None:
    parts = urlsplit(uri)
    if parts.query or parts.fragment:
        # An output URI never carries a query; one that does may be a signed URL.
        raise OutputRefused("output URI has a query or fragment")
    if any(segment in ("..", ".") for segment in unquote(parts.path).split("/")):
        raise OutputRefused("output URI is not normalised")
    if parts.scheme in ("", "file", "local"):
        roots = _local_roots()
        if not roots:
            # A DAG author writes the manifest: without configured roots, any file of the
            # api-server could be named. Refuse rather than guess.
            raise OutputRefused(
                "local outputs are served only from [qwen_asr] ui_local_roots, which is not set"
            )
        real = os.path.realpath(unquote(parts.path))
        if not any(real == root or real.startswith(root + os.sep) for root in roots):
            raise OutputRefused("local output outside [qwen_asr] ui_local_roots")


def output_uri(manifest: Mapping[str, Any], index: int, fmt: str) -> str:
    """The URI of output ``fmt`` of file ``index``, if the manifest names it and it may be served.

    :raises OutputRefused: no such file or format, or a URI the UI refuses (see the module doc).
    """
    if fmt not in OUTPUT_MEDIA_TYPES:
        raise OutputRefused(f"unknown format {fmt!r}")
    entry = file_entry(manifest, index)
    outputs = entry.get("outputs") if entry else None
    uri = outputs.get(fmt) if isinstance(outputs, Mapping) else None
    if not isinstance(uri, str) or not uri:
        raise OutputRefused(f"file {index} has no {fmt} output")
    listed = manifest.get("outputs")
    if isinstance(listed, Sequence) and not isinstance(listed, str) and listed and uri not in listed:
        raise OutputRefused("output is not listed in the manifest's outputs")
    _check_uri(uri)
    return uri


def readable_output(manifest: Mapping[str, Any], index: int) -> tuple[str, str] | None:
    """The best output to read sentences from, ``(fmt, uri)``: ``jsonl``, else the original ``json``."""
    for fmt in ("jsonl", "json"):
        try:
            return fmt, output_uri(manifest, index, fmt)
        except OutputRefused:
            continue
    return None
