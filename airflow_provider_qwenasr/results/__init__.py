"""Fetching a finished task's results: streaming parse, statistics, naming, atomic writes, manifest.

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
    "OutputNames",
    "ResultJSONError",
    "ResultStats",
    "check_fetchable",
    "fetch_transcription_outputs",
    "iter_entries",
    "normalize_formats",
    "scan_result",
    "stem_from_url",
]
