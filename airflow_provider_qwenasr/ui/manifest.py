"""The fetch operator's manifest as the UI sees it: recognising one, and choosing what may be served.

A manifest is the XCom ``return_value`` of the fetch and one-shot operators::

    {"asr_task_id", "status", "submit_time", "end_time", "usage_seconds", "output_conn_id",
     "outputs": [uri, ...],
     "files": [{"index", "status", "outputs": {fmt: uri}, "output_signatures": {fmt: hmac}, ...}],
     "totals": {...}}

The UI serves an output only when all of these hold, so neither a DAG author nor a user who may
edit XComs can make the api-server read an object with its own credentials that the provider did
not write for that task instance:

- the file entry names it (``files[i].outputs[fmt]``) and ``outputs`` lists it;
- its signature checks (:mod:`airflow_provider_qwenasr.output_signing`): the provider signed it, in
  this task instance, for this URI and connection;
- the URI has no query, no fragment, no control character and no ``.``/``..`` segment; a local
  (``file://``) one has no host but ``localhost``, and its canonical path lies under
  ``[qwen_asr] ui_local_roots``. The path opened is that canonical path, never the raw URI.

:func:`check_manifest` checks the shape the pages rely on, so a malformed manifest gets a 422 page
naming the problem rather than a server error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from airflow.configuration import conf

from airflow_provider_qwenasr.output_signing import OutputOwner, output_signature_valid

__all__ = [
    "OUTPUT_MEDIA_TYPES",
    "ManifestInvalid",
    "OutputRefused",
    "check_manifest",
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


class _NoSuchOutput(OutputRefused):
    """The manifest names no such output (as opposed to naming one the UI refuses)."""


class ManifestInvalid(ValueError):
    """The XCom looks like a manifest but is not one the UI can show (the message says why)."""


def _check_list(value: Any, where: str, item: type | tuple[type, ...]) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(v, item) and not isinstance(v, bool) for v in value):
        raise ManifestInvalid(f"{where} must be a list of {getattr(item, '__name__', 'values')}")


def check_manifest(manifest: Mapping[str, Any]) -> None:
    """Check the shape the pages rely on.

    :raises ManifestInvalid: naming the first field that is wrong.
    """
    _check_list(manifest.get("outputs"), "outputs", str)
    for name in ("output_conn_id", "status", "submit_time", "end_time"):
        if manifest.get(name) is not None and not isinstance(manifest.get(name), str):
            raise ManifestInvalid(f"{name} must be a string")
    if manifest.get("totals") is not None and not isinstance(manifest.get("totals"), Mapping):
        raise ManifestInvalid("totals must be an object")
    for position, entry in enumerate(manifest.get("files") or []):
        where = f"files[{position}]"
        if not isinstance(entry, Mapping):
            raise ManifestInvalid(f"{where} must be an object")
        index = entry.get("index", position)
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise ManifestInvalid(f"{where}.index must be a non-negative integer")
        for name in ("name", "status", "code", "message"):
            if entry.get(name) is not None and not isinstance(entry.get(name), str):
                raise ManifestInvalid(f"{where}.{name} must be a string")
        for name in ("duration_ms", "characters", "sentence_count"):
            value = entry.get(name)
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
                raise ManifestInvalid(f"{where}.{name} must be a number")
        for name in ("languages", "emotions"):
            _check_list(entry.get(name), f"{where}.{name}", str)
        for name in ("outputs", "output_signatures"):
            value = entry.get(name)
            if value is not None and (
                not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values())
            ):
                raise ManifestInvalid(f"{where}.{name} must map formats to strings")


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


def _local_path(parts: Any) -> str:
    if parts.netloc not in ("", "localhost"):
        # file://host/p is p on host; read here it would be a path relative to the working directory.
        raise OutputRefused("local output URI names a host")
    roots = _local_roots()
    if not roots:
        # A DAG author writes the manifest: without configured roots, any file of the
        # api-server could be named. Refuse rather than guess.
        raise OutputRefused("local outputs are served only from [qwen_asr] ui_local_roots, which is not set")
    path = unquote(parts.path)
    if not os.path.isabs(path):
        raise OutputRefused("local output path is not absolute")
    real = os.path.realpath(path)
    if not any(real == root or real.startswith(root + os.sep) for root in roots):
        raise OutputRefused("local output outside [qwen_asr] ui_local_roots")
    return Path(real).as_uri()


def _servable_uri(uri: str) -> str:
    """The URI to open for ``uri``: its canonical ``file://`` form for a local output, else itself."""
    if any(ord(c) < 32 or ord(c) == 127 for c in unquote(uri)):
        raise OutputRefused("output URI holds a control character")
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise OutputRefused("output URI cannot be parsed") from None
    if parts.query or parts.fragment:
        # An output URI never carries a query; one that does may be a signed URL.
        raise OutputRefused("output URI has a query or fragment")
    if any(segment in ("..", ".") for segment in unquote(parts.path).split("/")):
        raise OutputRefused("output URI is not normalised")
    if parts.scheme in ("", "file", "local"):
        return _local_path(parts)
    return uri


def output_uri(manifest: Mapping[str, Any], owner: OutputOwner, index: int, fmt: str) -> str:
    """The URI to open for output ``fmt`` of file ``index``, if the UI may serve it (see the module doc).

    :raises OutputRefused: no such file or format, an output not signed for ``owner``, or a URI
        the UI refuses.
    """
    if fmt not in OUTPUT_MEDIA_TYPES:
        raise OutputRefused(f"unknown format {fmt!r}")
    entry = file_entry(manifest, index)
    outputs = entry.get("outputs") if entry else None
    uri = outputs.get(fmt) if isinstance(outputs, Mapping) else None
    if entry is None or not isinstance(uri, str) or not uri:
        raise _NoSuchOutput(f"file {index} has no {fmt} output")
    listed = manifest.get("outputs")
    if not isinstance(listed, Sequence) or isinstance(listed, str) or uri not in listed:
        raise OutputRefused("output is not listed in the manifest's outputs")
    if not output_signature_valid(manifest, entry, owner, index, fmt, uri):
        raise OutputRefused(
            "the output is not signed by this deployment for this task instance: the provider did not "
            "write it here, the manifest was edited, or [qwen_asr] ui_signing_key differs between "
            "the workers and the api-server"
        )
    return _servable_uri(uri)


def readable_output(manifest: Mapping[str, Any], owner: OutputOwner, index: int) -> tuple[str, str]:
    """The best output to read sentences from, ``(fmt, uri)``: ``jsonl``, else the original ``json``.

    :raises OutputRefused: neither may be served (why one that exists was refused, if one does).
    """
    reasons: list[OutputRefused] = []
    for fmt in ("jsonl", "json"):
        try:
            return fmt, output_uri(manifest, owner, index, fmt)
        except OutputRefused as exc:
            reasons.append(exc)
    named = [r for r in reasons if not isinstance(r, _NoSuchOutput)]
    raise (named or reasons)[0]
