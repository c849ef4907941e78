"""Fetching a finished task's results: streaming parse, statistics, naming, atomic writes, manifest.

Modules: ``fetch`` (the entry point and its errors), ``options`` (the fetch's options and their
checks), ``target`` (the output folder, probed before any query), ``download`` (one result through
its signed URL), ``parse`` (the streaming parser), ``render`` (formats rendered, then written),
``storage`` (atomic writes), ``naming`` (output names), ``manifest`` (the manifest's typed schema,
its builders and its check) and ``read`` (reading a written json/jsonl output back).

The entry point is :func:`fetch_transcription_outputs`. Nothing heavy (ijson, requests,
``ObjectStoragePath``) is imported until it runs.
"""

from __future__ import annotations

from airflow_provider_qwenasr.results.fetch import (
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_MAX_XCOM_BYTES,
    DEFAULT_OUTPUT_FORMATS,
    XCOM_OUTPUTS,
    check_fetchable,
    fetch_transcription_outputs,
    normalize_formats,
)
from airflow_provider_qwenasr.results.manifest import Manifest, ManifestInvalid, check_manifest, is_manifest
from airflow_provider_qwenasr.results.naming import OutputNames, stem_from_url
from airflow_provider_qwenasr.results.parse import (
    ChannelStats,
    ResultJSONError,
    ResultStats,
    iter_entries,
    scan_result,
)

__all__ = [
    "DEFAULT_MAX_RESULT_BYTES",
    "DEFAULT_MAX_XCOM_BYTES",
    "DEFAULT_OUTPUT_FORMATS",
    "XCOM_OUTPUTS",
    "ChannelStats",
    "Manifest",
    "ManifestInvalid",
    "OutputNames",
    "ResultJSONError",
    "ResultStats",
    "check_fetchable",
    "check_manifest",
    "fetch_transcription_outputs",
    "is_manifest",
    "iter_entries",
    "normalize_formats",
    "scan_result",
    "stem_from_url",
]
