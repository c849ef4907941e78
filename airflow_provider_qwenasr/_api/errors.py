"""Every error answer and transport failure, turned into the right :class:`QwenASRError`.

Which failures are transient is decided here once, by the class an answer maps to
(:attr:`QwenASRError.is_transient`); :func:`is_transient_status` asks the same mapping.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_qwenasr.exceptions import (
    QwenASRApiError,
    QwenASRAuthError,
    QwenASRConnectionError,
    QwenASRError,
    QwenASRResultError,
    QwenASRServerError,
    QwenASRThrottledError,
    redact_url,
)

if TYPE_CHECKING:
    from airflow_provider_qwenasr._api.request import ApiRequest

__all__ = [
    "connection_error",
    "decode_answer",
    "error_from_response",
    "header",
    "is_transient_status",
    "parse_retry_after",
    "result_error",
]


_HINTS = {
    "InvalidApiKey": "Check the API key (the connection's password); keys are per region (cn vs intl)",
    "AccessDenied": "The key may not use this API or model; asynchronous calls need X-DashScope-Async",
    "AccessDenied.Unpurchased": "Activate Model Studio for this account and region",
    "Workspace.AccessDenied": "Check the connection's workspace; the key must belong to it",
    "Model.AccessDenied": "The workspace has no access to this model; grant it in Model Studio",
    "Arrearage": "The account is in arrears; top it up in the Alibaba Cloud console",
    "InvalidParameter": "Check the model name and parameters against the Qwen-ASR API reference",
    "InvalidURL": "The file URL must be reachable from the internet (http, https or oss://)",
    "UnsupportedOperation": "Only PENDING tasks can be canceled",
    "Throttling.RateQuota": "Over the account's query quota; lower query_qps or raise expected_processes",
    "Throttling": "The service is throttling this account; retry later",
    "Throttling.AllocationQuota": "Over the account's concurrent-task allocation; retry later",
    "DataInspectionFailed": "The content was rejected by the service's inspection",
}
_AUTH_STATUSES = frozenset({401, 403})


def error_from_response(
    status: int,
    body: object,
    headers: Mapping[str, str],
    *,
    endpoint: str,
    task_id: str | None = None,
) -> QwenASRError:
    """Translate an error answer into the right :class:`QwenASRError` subclass.

    ``body`` is the decoded JSON (or raw text when it was not JSON). DashScope's ``code``,
    ``message`` and ``request_id`` are kept; the request id falls back to ``X-Request-ID``.
    """
    data = body if isinstance(body, Mapping) else {}
    code = str(data.get("code") or "") or None
    message = str(data.get("message") or "") or None
    if message is None and isinstance(body, str) and body.strip():
        message = body.strip()[:200]
    request_id = str(data.get("request_id") or "") or header(headers, "x-request-id")
    what = f"DashScope {endpoint} failed with HTTP {status}"
    kwargs: dict[str, Any] = {
        "task_id": task_id,
        "code": code,
        "service_message": message,
        "request_id": request_id,
        "http_status": status,
        "hint": _hint(code, status, endpoint),
    }
    if status == 429:
        retry_after = parse_retry_after(header(headers, "retry-after"))
        return QwenASRThrottledError(what, retry_after=retry_after, **kwargs)
    if status >= 500:
        return QwenASRServerError(what, **kwargs)
    if status in _AUTH_STATUSES:
        return QwenASRAuthError(what, **kwargs)
    return QwenASRApiError(what, **kwargs)


#: Endpoints whose 429 is another quota than the query budget's (``query_qps`` does not pace them).
_OWN_QUOTA_HINTS = {
    "submit": "Over the account's submit quota for this model; fewer submits at once (an Airflow pool) "
    "keeps under it",
    "customization": "Over the account's quota for hot-word table calls; retry later",
}


def _hint(code: str | None, status: int, endpoint: str) -> str | None:
    if code == "Throttling.RateQuota" and endpoint in _OWN_QUOTA_HINTS:
        return _OWN_QUOTA_HINTS[endpoint]
    return _HINTS.get(code or "") or _default_hint(status)


def _default_hint(status: int) -> str | None:
    if status >= 500:
        return "The service had a problem; it is retried automatically for reads, try again later"
    if status == 404:
        return "Check the connection's base URL (it should end in /api/v1) and the model name"
    return None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` (lower case), matched case-insensitively."""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def decode_answer(
    status: int, content: bytes, headers: Mapping[str, str], request: ApiRequest
) -> dict[str, Any]:
    """Decode an API answer: the JSON document of a 200, or raise the matching error.

    A 200 whose body is not JSON is treated as a broken answer (transient); a 200 that carries a
    top-level ``code`` and no ``output`` is a gateway error in disguise.

    :raises QwenASRError: for every error answer.
    """
    try:
        body: object = json.loads(content) if content else None
    except ValueError:
        body = content[:200].decode("utf-8", "replace")
        if status == 200:
            raise QwenASRConnectionError(
                f"DashScope {request.endpoint} answered 200 with a body that is not JSON",
                task_id=request.task_id,
                request_id=header(headers, "x-request-id"),
                http_status=status,
                hint="A proxy or a broken connection may have altered the answer; it is retried for reads",
            ) from None
    if status != 200:
        raise error_from_response(status, body, headers, endpoint=request.endpoint, task_id=request.task_id)
    if not isinstance(body, dict):
        raise QwenASRConnectionError(
            f"DashScope {request.endpoint} answered 200 without a JSON object",
            task_id=request.task_id,
            http_status=status,
        )
    if body.get("code") and "output" not in body and "data" not in body and request.endpoint != "list":
        raise error_from_response(status, body, headers, endpoint=request.endpoint, task_id=request.task_id)
    return body


def is_transient_status(status: int) -> bool:
    """Whether an error answer with this HTTP status is worth retrying for a read (429 and 5xx).

    The same rule as the errors themselves: the class :func:`error_from_response` maps it to.
    """
    return error_from_response(status, None, {}, endpoint="request").is_transient


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), or ``None``."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
            seconds = (when - datetime.now(timezone.utc)).total_seconds()
        except (TypeError, ValueError):
            return None
    if math.isnan(seconds):
        return None
    return max(0.0, min(seconds, 300.0))


def connection_error(
    request: ApiRequest, exc: Exception, *, answer_started: bool = False
) -> QwenASRConnectionError:
    """Translate a requests/httpx transport failure (never with a URL's query in the text).

    ``answer_started``: the status line arrived and the body was cut, so the service has acted.
    """
    kind = type(exc).__name__
    error = QwenASRConnectionError(
        f"DashScope {request.endpoint} got no complete answer ({kind})",
        task_id=request.task_id,
        hint=f"Check that {redact_url(request.url)} is reachable; reads are retried automatically",
    )
    error.request_sent = not _failed_to_connect(exc)
    error.answer_started = answer_started
    return error


def _failed_to_connect(exc: Exception) -> bool:
    """Whether the connection itself failed, so the request cannot have been sent."""
    import httpx
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(exc, (requests.ConnectTimeout, httpx.ConnectError, httpx.ConnectTimeout)):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def result_error(status: int, content: bytes, headers: Mapping[str, str], shown_url: str) -> QwenASRError:
    """Translate a refused result download (OSS answers with an XML error document)."""
    match = re.search(rb"<Code>([^<]+)</Code>", content)
    code = match.group(1).decode("utf-8", "replace") if match else None
    if status == 403:
        return QwenASRResultError(
            f"The result link was refused (HTTP 403) for {shown_url}",
            code=code,
            http_status=status,
            hint="Result links expire 24 h after the task ended and cannot be renewed; "
            "transcribe the audio again to get a new result",
        )
    if status == 429:
        return QwenASRThrottledError(
            "The result download was throttled (HTTP 429)",
            retry_after=parse_retry_after(header(headers, "retry-after")),
            code=code,
            http_status=status,
        )
    if status >= 500:
        return QwenASRConnectionError(
            f"The result download failed with HTTP {status}", code=code, http_status=status
        )
    return QwenASRResultError(
        f"The result download failed with HTTP {status} for {shown_url}", code=code, http_status=status
    )
