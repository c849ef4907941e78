"""The DashScope wire protocol, shared by the sync and async hooks.

One place builds every request (URL, headers, body), validates what a user passes before a billed
call, decides what is transient, and turns an error answer into a :class:`QwenASRError`. The hooks
only move bytes.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from airflow_provider_qwenasr.exceptions import (
    QwenASRApiError,
    QwenASRAuthError,
    QwenASRError,
    QwenASRInputError,
    QwenASRServerError,
    QwenASRThrottledError,
    redact_url,
)

__all__ = [
    "DEFAULT_BASE_URLS",
    "DEFAULT_QUERY_QPS",
    "MAX_FILES_PER_TASK",
    "ApiRequest",
    "ApiSettings",
    "backoff_delay",
    "build_submit_body",
    "error_from_response",
    "is_transient_status",
    "model_family",
    "normalize_base_url",
    "parse_retry_after",
    "validate_file_url",
    "validate_task_id",
]

DEFAULT_BASE_URLS = {
    "cn": "https://dashscope.aliyuncs.com/api/v1",
    "intl": "https://dashscope-intl.aliyuncs.com/api/v1",
}
#: Per-process query ceiling: below the account's documented 20 queries/s, leaving room for others.
DEFAULT_QUERY_QPS = 15.0
#: Files per Fun-ASR task: older documentation allows 100; the service refuses more.
MAX_FILES_PER_TASK = 100
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})

QWEN3_MODEL_PREFIXES = ("qwen3-asr", "qwen-asr")
KNOWN_MODELS = frozenset(
    {
        "qwen3-asr-flash-filetrans",
        "fun-asr",
        "fun-asr-mtl",
        "fun-asr-2025-11-07",
        "fun-asr-2025-08-25",
        "paraformer-v2",
        "paraformer-v1",
        "paraformer-8k-v2",
        "paraformer-8k-v1",
        "paraformer-mtl-v1",
        "sensevoice-v1",
    }
)
_TASK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
#: What a template renders when the XCom it reads is empty (Python's, Jinja's and JSON's nothing).
_NO_VALUE = frozenset({"none", "null", "undefined", "nan"})


def normalize_base_url(host: str | None, *, region: str | None = None, port: int | None = None) -> str:
    """Return the API base URL ending in ``/api/v1`` from a connection's host and region.

    ``https://dashscope.aliyuncs.com``, ``https://dashscope.aliyuncs.com/api/v1/`` and
    ``dashscope.aliyuncs.com`` all give ``https://dashscope.aliyuncs.com/api/v1``. A host without a
    scheme is HTTPS, except a loopback host (the emulator), which is HTTP. An empty host gives the
    region's default (``cn`` unless ``region`` is ``intl``).

    :raises QwenASRInputError: for an unknown region or a host that is not a URL.
    """
    if not host or not host.strip():
        key = (region or "cn").strip().lower()
        if key not in DEFAULT_BASE_URLS:
            raise QwenASRInputError(
                f"Unknown region {region!r} in the connection's extra",
                hint=f"Use one of {sorted(DEFAULT_BASE_URLS)} or set the connection's host to a base URL",
            )
        return DEFAULT_BASE_URLS[key]
    text = host.strip()
    if "://" not in text:
        bare = text.split("/", 1)[0].split(":", 1)[0]
        scheme = "http" if bare in {"127.0.0.1", "localhost", "::1", "[::1]"} else "https"
        text = f"{scheme}://{text}"
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise QwenASRInputError(
            f"The connection's host {host!r} is not an http(s) URL",
            hint="Set it to e.g. https://dashscope-intl.aliyuncs.com, or leave it empty and set a region",
        )
    netloc = parts.netloc
    if port and parts.port is None:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/")
    if not path.endswith("/api/v1"):
        path = f"{path}/api/v1"
    return urlunsplit((parts.scheme, netloc, path, "", ""))


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """What a hook needs to talk to DashScope, read once from an Airflow connection."""

    base_url: str
    api_key: str = field(repr=False)
    workspace: str | None = None
    conn_id: str | None = None
    query_qps: float = DEFAULT_QUERY_QPS
    expected_processes: int = 1
    #: ``extra.read_timeout``: seconds to wait for an answer; None for the hook's default.
    read_timeout: float | None = None

    @property
    def host(self) -> str:
        """``scheme://host:port`` of the API: the key of the shared connection pool."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def key_fingerprint(self) -> str:
        """A short, one-way fingerprint of the API key (for sharing a budget without holding the key)."""
        return hashlib.sha256(self.api_key.encode()).hexdigest()[:16]

    @property
    def rate_ceiling(self) -> float:
        """Queries per second this process may send: ``query_qps / expected_processes``."""
        return self.query_qps / max(1, self.expected_processes)


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One HTTP request to DashScope, ready for requests or httpx."""

    #: What the call is, for logs, errors and the rate budget: submit, query, cancel, list, upload_policy.
    endpoint: str
    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    params: Mapping[str, str] | None = None
    json: Mapping[str, Any] | None = None
    task_id: str | None = None

    @classmethod
    def build(
        cls,
        settings: ApiSettings,
        endpoint: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        task_id: str | None = None,
    ) -> ApiRequest:
        """Build a request: bearer auth, optional workspace header, ``Content-Type`` only with a body."""
        headers = {"Authorization": f"Bearer {settings.api_key}", "Accept": "application/json"}
        if settings.workspace:
            headers["X-DashScope-WorkSpace"] = settings.workspace
        if json is not None:
            headers["Content-Type"] = "application/json"
        headers.update(extra_headers or {})
        return cls(
            endpoint=endpoint,
            method=method,
            url=f"{settings.base_url}/{path.lstrip('/')}",
            headers=headers,
            params=params,
            json=json,
            task_id=task_id,
        )

    @classmethod
    def submit(
        cls, settings: ApiSettings, body: Mapping[str, Any], *, oss_resolve: bool = False
    ) -> ApiRequest:
        """``POST /services/audio/asr/transcription`` (asynchronous: ``X-DashScope-Async: enable``)."""
        headers = {"X-DashScope-Async": "enable"}
        if oss_resolve:
            headers["X-DashScope-OssResourceResolve"] = "enable"
        return cls.build(
            settings, "submit", "POST", "services/audio/asr/transcription", json=body, extra_headers=headers
        )

    @classmethod
    def query(cls, settings: ApiSettings, task_id: str) -> ApiRequest:
        """``GET /tasks/{task_id}``."""
        task_id = validate_task_id(task_id)
        return cls.build(settings, "query", "GET", f"tasks/{task_id}", task_id=task_id)

    @classmethod
    def cancel(cls, settings: ApiSettings, task_id: str) -> ApiRequest:
        """``POST /tasks/{task_id}/cancel`` (no body; PENDING tasks only)."""
        task_id = validate_task_id(task_id)
        return cls.build(settings, "cancel", "POST", f"tasks/{task_id}/cancel", task_id=task_id)

    @classmethod
    def list_tasks(cls, settings: ApiSettings, params: Mapping[str, str]) -> ApiRequest:
        """``GET /tasks?…`` with the given filters."""
        return cls.build(settings, "list", "GET", "tasks", params=params)

    @classmethod
    def upload_policy(cls, settings: ApiSettings, model: str) -> ApiRequest:
        """``GET /uploads?action=getPolicy&model=…`` (temporary file upload, Beijing only)."""
        return cls.build(
            settings, "upload_policy", "GET", "uploads", params={"action": "getPolicy", "model": model}
        )


def validate_task_id(task_id: object) -> str:
    """Return ``task_id`` stripped, or raise if it cannot be a DashScope task id.

    :raises QwenASRInputError: for an empty, non-string or malformed id (slashes, spaces, …), and for
        ``"None"``/``"null"``, what a template renders from an upstream task that returned nothing.
    """
    if not isinstance(task_id, str) or not task_id.strip():
        raise QwenASRInputError(
            f"asr_task_id must be a non-empty string, got {task_id!r}",
            hint="Pass the submit task's output, e.g. asr_task_id=submit.output",
        )
    value = task_id.strip()
    if value.lower() in _NO_VALUE:
        raise QwenASRInputError(
            f"asr_task_id rendered to {value!r}: the upstream task returned no task id",
            hint="Check that the upstream task returned the submit operator's output (its return "
            "value is the task id), e.g. asr_task_id=submit.output",
        )
    if not _TASK_ID.match(value):
        raise QwenASRInputError(
            f"asr_task_id {value[:80]!r} is not a DashScope task id",
            hint="A task id looks like 8fab76d0-0eed-4d20-929f-0123456789ab; check the templated value",
        )
    return value


def validate_file_url(url: object) -> str:
    """Return an audio URL DashScope can download, percent-encoding spaces and non-ASCII characters.

    :raises QwenASRInputError: for anything but an ``http``, ``https`` or ``oss`` URL with a host.
    """
    if not isinstance(url, str) or not url.strip():
        raise QwenASRInputError(f"file_url must be a non-empty string, got {url!r}")
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https", "oss"} or not parts.netloc:
        raise QwenASRInputError(
            f"file_url {redact_url(url)!r} is not an http(s) or oss:// URL",
            hint="DashScope downloads the audio itself: give a public or pre-signed URL, "
            "or audio_path= to have the provider sign or upload it",
        )
    safe = "/%:@!$&'()*+,;=-._~"
    return urlunsplit(
        (
            parts.scheme,
            parts.netloc,
            quote(parts.path, safe=safe),
            quote(parts.query, safe=safe + "?"),
            "",
        )
    )


def model_family(model: str) -> str:
    """``"qwen3"`` for Qwen3-ASR filetrans models (one ``file_url``), ``"funasr"`` for the rest."""
    return "qwen3" if model.lower().startswith(QWEN3_MODEL_PREFIXES) else "funasr"


def build_submit_body(
    model: str,
    *,
    file_url: str | None = None,
    file_urls: Sequence[str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    resources: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Build and validate a submit body; nothing billed happens before this passes.

    Qwen3 models take exactly one ``file_url``; Fun-ASR/Paraformer models take ``file_urls`` (a single
    ``file_url`` is wrapped). Unknown model names pass through with a warning, since DashScope adds
    models faster than this list.

    :raises QwenASRInputError: for a missing model, no or too many files, bad URLs or parameters
        that are not a dict.
    """
    if not isinstance(model, str) or not model.strip():
        raise QwenASRInputError("model must be a non-empty string, e.g. 'qwen3-asr-flash-filetrans'")
    model = model.strip()
    if model not in KNOWN_MODELS:
        warnings.warn(
            f"Model {model!r} is not one this provider knows; sending it as is",
            UserWarning,
            stacklevel=3,
        )
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, Mapping):
        raise QwenASRInputError(
            f"parameters must be a dict, got {type(parameters).__name__}",
            hint='e.g. parameters={"language": "en", "enable_words": True}',
        )
    if file_url is not None and file_urls is not None:
        raise QwenASRInputError("Pass file_url or file_urls, not both")
    urls: list[str]
    if file_urls is not None:
        if isinstance(file_urls, str) or not isinstance(file_urls, Sequence):
            raise QwenASRInputError("file_urls must be a list of URLs")
        urls = [validate_file_url(u) for u in file_urls]
    elif file_url is not None:
        urls = [validate_file_url(file_url)]
    else:
        urls = []
    if not urls:
        raise QwenASRInputError("No audio given: pass file_url (or file_urls for Fun-ASR models)")
    input_: dict[str, Any]
    if model_family(model) == "qwen3":
        if len(urls) != 1:
            raise QwenASRInputError(
                f"Model {model} takes exactly one file per task, got {len(urls)}",
                hint="Map the operator over the files instead: .expand(file_url=[...])",
            )
        input_ = {"file_url": urls[0]}
    else:
        if len(urls) > MAX_FILES_PER_TASK:
            raise QwenASRInputError(
                f"{len(urls)} files in one task; DashScope accepts at most {MAX_FILES_PER_TASK}",
                hint="Split the list into several tasks, e.g. with dynamic task mapping",
            )
        input_ = {"file_urls": urls}
    body: dict[str, Any] = {"model": model, "input": input_, "parameters": dict(parameters)}
    if resources:
        body["resources"] = [dict(r) for r in resources]
    return body


def is_transient_status(status: int) -> bool:
    """Whether an HTTP status is worth retrying for a read: 429 and the 5xx gateway family."""
    return status in TRANSIENT_STATUSES


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), or ``None``."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            from datetime import datetime, timezone

            when = parsedate_to_datetime(value)
            seconds = (when - datetime.now(timezone.utc)).total_seconds()
        except (TypeError, ValueError):
            return None
    if math.isnan(seconds):
        return None
    return max(0.0, min(seconds, 300.0))


def backoff_delay(
    attempt: int, *, base: float = 1.0, cap: float = 30.0, retry_after: float | None = None
) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): full-jitter exponential backoff.

    A server's ``Retry-After`` wins when it is longer than the jittered delay.
    """
    ceiling = min(cap, base * (2**attempt))
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


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
    request_id = str(data.get("request_id") or "") or _header(headers, "x-request-id")
    what = f"DashScope {endpoint} failed with HTTP {status}"
    kwargs: dict[str, Any] = {
        "task_id": task_id,
        "code": code,
        "service_message": message,
        "request_id": request_id,
        "http_status": status,
        "hint": _HINTS.get(code or "") or _default_hint(status),
    }
    if status == 429:
        retry_after = parse_retry_after(_header(headers, "retry-after"))
        return QwenASRThrottledError(what, retry_after=retry_after, **kwargs)
    if status >= 500:
        return QwenASRServerError(what, **kwargs)
    if status in _AUTH_STATUSES:
        return QwenASRAuthError(what, **kwargs)
    return QwenASRApiError(what, **kwargs)


def _default_hint(status: int) -> str | None:
    if status >= 500:
        return "The service had a problem; it is retried automatically for reads, try again later"
    if status == 404:
        return "Check the connection's base URL (it should end in /api/v1) and the model name"
    return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
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
    import json as _json

    from airflow_provider_qwenasr.exceptions import QwenASRConnectionError

    try:
        body: object = _json.loads(content) if content else None
    except ValueError:
        body = content[:200].decode("utf-8", "replace")
        if status == 200:
            raise QwenASRConnectionError(
                f"DashScope {request.endpoint} answered 200 with a body that is not JSON",
                task_id=request.task_id,
                request_id=_header(headers, "x-request-id"),
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
