"""The fetch operator's manifest as the UI sees it: recognising one, and choosing what may be served.

A manifest is the XCom ``return_value`` of the fetch and one-shot operators; its schema, and the
check of a value read back (:func:`check_manifest`, :func:`is_manifest`, re-exported here), live in
:mod:`airflow_provider_qwenasr.results.manifest`, which the fetch builds its manifests with.

The UI serves an output only when all of these hold, so neither a DAG author nor a user who may
edit XComs can make the api-server read an object with its own credentials that the provider did
not write for that task instance:

- the file entry names it (``files[i].outputs[fmt]``) and ``outputs`` lists it;
- its signature checks (:mod:`airflow_provider_qwenasr.output_signing`): the provider signed it, in
  this task instance, for this URI and connection;
- the URI has no query, no fragment, no control character and no ``.``/``..`` segment; a local
  (``file://``) one has no host but ``localhost``, and its canonical path lies under
  ``[qwen_asr] ui_local_roots``. The path opened is that canonical path, never the raw URI.

:func:`check_manifest` checks every field against that schema, so a malformed manifest gets a 422
page naming the problem rather than a server error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from airflow.configuration import conf

from airflow_provider_qwenasr.formats import MEDIA_TYPES
from airflow_provider_qwenasr.output_signing import OutputOwner, output_signature_valid
from airflow_provider_qwenasr.results.manifest import ManifestInvalid, check_manifest, is_manifest
from airflow_provider_qwenasr.results.read import READABLE_FORMATS

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

#: Media types of the formats the fetch operator writes (their one home is :mod:`..formats`).
OUTPUT_MEDIA_TYPES = MEDIA_TYPES


class OutputRefused(LookupError):
    """The manifest names no such output, or names one the UI must not serve."""


class _NoSuchOutput(OutputRefused):
    """The manifest names no such output (as opposed to naming one the UI refuses)."""


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
    for fmt in READABLE_FORMATS:
        try:
            return fmt, output_uri(manifest, owner, index, fmt)
        except OutputRefused as exc:
            reasons.append(exc)
    named = [r for r in reasons if not isinstance(r, _NoSuchOutput)]
    raise (named or reasons)[0]
