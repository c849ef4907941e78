"""The DashScope wire protocol, shared by the sync and async hooks: the public names.

Each rule lives in one private module of :mod:`airflow_provider_qwenasr._api` (settings, requests,
validation, errors, retries); this module keeps the import path that operators, tests and users
rely on.
"""

from __future__ import annotations

from airflow_provider_qwenasr._api.errors import (
    decode_answer,
    error_from_response,
    is_transient_status,
    parse_retry_after,
)
from airflow_provider_qwenasr._api.request import ApiRequest
from airflow_provider_qwenasr._api.retry import RetryPolicy, backoff_delay
from airflow_provider_qwenasr._api.settings import (
    DEFAULT_BASE_URLS,
    DEFAULT_QUERY_QPS,
    ApiSettings,
    normalize_base_url,
)
from airflow_provider_qwenasr._api.validate import (
    MAX_FILES_PER_TASK,
    build_submit_body,
    model_family,
    validate_file_url,
    validate_task_id,
)

__all__ = [
    "DEFAULT_BASE_URLS",
    "DEFAULT_QUERY_QPS",
    "MAX_FILES_PER_TASK",
    "ApiRequest",
    "ApiSettings",
    "RetryPolicy",
    "backoff_delay",
    "build_submit_body",
    "decode_answer",
    "error_from_response",
    "is_transient_status",
    "model_family",
    "normalize_base_url",
    "parse_retry_after",
    "validate_file_url",
    "validate_task_id",
]
