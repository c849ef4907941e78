"""What both hooks share: the connection's identity, timeouts, the retry policy, and reading an answer.

Every answer of the DashScope API (and every call that got none) passes through :func:`settle` or
:func:`lost_answer`, for both hooks: the rate budget and the ``qwen_asr.requests`` metric hear of it there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_qwenasr import metrics
from airflow_provider_qwenasr._api.catalog import family_of
from airflow_provider_qwenasr._api.errors import connection_error, decode_answer
from airflow_provider_qwenasr._api.request import ApiRequest
from airflow_provider_qwenasr._api.retry import DEFAULT_MAX_RETRIES, RetryPolicy
from airflow_provider_qwenasr._api.settings import ApiSettings
from airflow_provider_qwenasr._compat import BaseHook
from airflow_provider_qwenasr.exceptions import (
    QwenASRApiError,
    QwenASRConnectionError,
    QwenASRError,
    QwenASRThrottledError,
)
from airflow_provider_qwenasr.rate import RateBudget, budget_for

__all__ = [
    "DEFAULT_IDENTIFY_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "RATED_ENDPOINTS",
    "HookBase",
    "cancel_refused",
    "lost_answer",
    "settle",
]

#: Seconds to connect and to wait for each read of an answer.
DEFAULT_TIMEOUT = (10.0, 60.0)
#: The endpoints that spend the query budget (the list spends its own, as its quota is its own; a
#: submit spends its family's submit budget, if any; result links are OSS).
RATED_ENDPOINTS = frozenset({"query", "cancel"})
#: How long a submit whose answer was lost watches the tasks it may have created, to tell ours.
DEFAULT_IDENTIFY_TIMEOUT = 600.0


class HookBase(BaseHook):
    """What both hooks share: the connection's identity and the retry settings."""

    conn_name_attr = "qwen_asr_conn_id"
    default_conn_name = "qwen_asr_default"
    conn_type = "qwen_asr"
    hook_name = "Qwen-ASR (DashScope)"

    def __init__(
        self,
        qwen_asr_conn_id: str = default_conn_name,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_base_delay: float = 1.0,
        retry_max_delay: float = 30.0,
        timeout: tuple[float, float] | None = None,
        identify_timeout: float = DEFAULT_IDENTIFY_TIMEOUT,
    ) -> None:
        super().__init__()
        self.qwen_asr_conn_id = qwen_asr_conn_id
        self.max_retries = max_retries
        self.retry_base_delay = retry_base_delay
        self.retry_max_delay = retry_max_delay
        self.timeout = timeout
        self.identify_timeout = identify_timeout

    def timeout_for(self, settings: ApiSettings) -> tuple[float, float]:
        """``(connect, read)`` timeouts: the hook's ``timeout``, else the connection's ``read_timeout``."""
        if self.timeout is not None:
            return self.timeout
        return DEFAULT_TIMEOUT[0], settings.read_timeout or DEFAULT_TIMEOUT[1]

    def _budget(self, settings: ApiSettings) -> RateBudget:
        """This process's query budget for the connection's account."""
        return budget_for(settings.host, settings.key_fingerprint, settings.rate_ceiling)

    def _request_budget(self, settings: ApiSettings, request: ApiRequest) -> RateBudget | None:
        """The rate budget ``request`` spends: the query budget for queries and cancels, the list's
        own for the list, for a submit the budget of its family's documented submit quota (none when
        the family has none).
        """
        if request.endpoint in RATED_ENDPOINTS:
            return self._budget(settings)
        if request.endpoint == "list":
            return budget_for(
                f"{settings.host}#list", settings.key_fingerprint, settings.rate_ceiling, kind="list"
            )
        if request.endpoint == "submit" and request.json is not None:
            family = family_of(str(request.json.get("model", "")))
            if family is not None and family.submits_per_minute:
                ceiling = settings.submit_ceiling(family.submits_per_minute)
                host = f"{settings.host}#submit:{family.key}"
                return budget_for(host, settings.key_fingerprint, ceiling, kind=f"submit.{family.key}")
        return None

    @property
    def retry_policy(self) -> RetryPolicy:
        """How reads are retried: ``max_retries``, ``retry_base_delay``, ``retry_max_delay``."""
        return RetryPolicy(self.max_retries, self.retry_base_delay, self.retry_max_delay)


def cancel_refused(error: QwenASRApiError) -> bool:
    """Whether a cancel was refused because the task is no longer PENDING.

    Its status then says whether it was canceled (an earlier cancel whose answer was lost).
    """
    return error.code == "UnsupportedOperation"


def settle(
    budget: RateBudget | None, status: int, content: bytes, headers: Mapping[str, str], request: ApiRequest
) -> dict[str, Any]:
    """Decode an answer and tell the rate budget how it went (a 429 cuts the rate, else it climbs)."""
    try:
        body = decode_answer(status, content, headers, request)
    except QwenASRError as error:
        metrics.request_sent(request.endpoint, error)
        if budget and isinstance(error, QwenASRThrottledError):
            budget.on_throttled(error.retry_after)
        raise
    metrics.request_sent(request.endpoint)
    if budget:
        budget.on_success()
    return body


def lost_answer(
    request: ApiRequest, exc: Exception, *, answer_started: bool = False
) -> QwenASRConnectionError:
    """A call that got no complete answer: counted, and translated by :func:`connection_error`."""
    error = connection_error(request, exc, answer_started=answer_started)
    metrics.request_sent(request.endpoint, error)
    return error
