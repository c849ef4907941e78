"""Downloading one result file through its signed URL into a local file, checked as it is scanned.

The hook streams the body (no Authorization header; transient failures and truncated bodies are
retried there); a body that is not valid JSON, such as a gateway's HTML page or one cut short
without a Content-Length to betray it, is downloaded again under the hook's retry policy.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_qwenasr.exceptions import QwenASRResultError
from airflow_provider_qwenasr.masking import mask_url_queries

if TYPE_CHECKING:
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
    from airflow_provider_qwenasr.results.parse import ResultStats

__all__ = ["download_result"]


def download_result(
    hook: QwenASRHook,
    url: str,
    raw: Path,
    *,
    max_result_bytes: int,
    text_limit: int | None,
    log: logging.Logger | logging.LoggerAdapter[Any] | Any,
) -> tuple[int, ResultStats]:
    """Download ``url`` into ``raw`` and scan it (:func:`.parse.scan_result`); return its size and stats.

    :param text_limit: keep the text while it is at most this many characters (``None``: do not).
    :raises QwenASRResultError: for a result that is still not JSON after the retries, or one the
        scan refuses; the hook's errors (expired link, oversized, unreachable) as it raises them.
    """
    from airflow_provider_qwenasr.results.parse import ResultJSONError, scan_result

    mask_url_queries([url])

    def once() -> tuple[int, ResultStats]:
        with raw.open("w+b") as sink:
            size = hook.download_result(url, sink, max_bytes=max_result_bytes)
            sink.seek(0)
            return size, scan_result(sink, text_limit=text_limit)

    policy = hook.retry_policy
    try:
        return policy.call(
            once,
            what="Downloaded result",
            log=log,
            retry_on=lambda error: isinstance(error, ResultJSONError),
        )
    except ResultJSONError as error:
        raise QwenASRResultError(
            f"{error.message} after {policy.max_retries + 1} downloads",
            hint="No output was written for this file. The result may be damaged at the "
            "source; retry the task later",
        ) from None
