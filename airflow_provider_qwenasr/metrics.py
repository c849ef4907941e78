"""The provider's metrics: each one's name, type and tags, and the one way they reach Airflow's ``Stats``.

Everything goes through Airflow's own ``Stats`` (:func:`airflow_provider_qwenasr._compat.stats`), so
whatever Airflow is set to send to (StatsD, DogStatsD, OpenTelemetry) gets them, under Airflow's
prefix and then ``qwen_asr.``. ``docs/metrics.md`` documents each one; :data:`METRICS` is the table
it is checked against.

Two rules hold for every metric:

* it never raises into the product: a broken or misconfigured backend costs the metric, never the
  transcription (the first failure is logged once per process, as a warning);
* it never leaks: tags are a handful of known values (an endpoint, an outcome, a model, an API host
  without scheme or path), each cut to the characters every backend accepts; no key, no URL, no
  DashScope task id (one series per task would be a cardinality bomb, and ids are in the logs).

Each function below is one line at its call site. This module imports nothing heavy: Airflow's
``Stats`` is looked up on the first metric sent, not when a DAG file imports the provider.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_qwenasr.exceptions import (
    QwenASRConnectionError,
    QwenASRServerError,
    QwenASRThrottledError,
)

if TYPE_CHECKING:
    from airflow_provider_qwenasr.models import AsrTask
    from airflow_provider_qwenasr.outcomes import TerminationReason

__all__ = [
    "BILLED_AUDIO_SECONDS",
    "BUDGET_RATE",
    "METRICS",
    "REQUESTS",
    "RESULT_BYTES",
    "TRANSCRIPTIONS",
    "WAIT_DETECTION_DELAY",
    "Metric",
    "budget_rate",
    "request_outcome",
    "request_sent",
    "result_bytes",
    "task_ended",
    "wait_ended",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Metric:
    """One metric: its name (under Airflow's prefix), its type and the tags it always carries."""

    name: str
    #: ``counter``, ``gauge`` or ``timer`` (milliseconds).
    kind: str
    tags: tuple[str, ...]


#: Each HTTP call to the DashScope API (submit, query, list, cancel, hot-word tables, upload
#: policy), counted once per try when its answer (or its failure to arrive) is known.
REQUESTS = Metric("qwen_asr.requests", "counter", ("endpoint", "outcome"))
#: The AIMD budget's current rate (queries or submits per second) in this process, set when it changes.
BUDGET_RATE = Metric("qwen_asr.budget.rate", "gauge", ("api_host", "budget"))
#: From the service's ``end_time`` of a task to the moment a wait saw it ended.
WAIT_DETECTION_DELAY = Metric("qwen_asr.wait.detection_delay", "timer", ("outcome", "waiter"))
#: Each wait that ended, by its outcome (a :class:`~airflow_provider_qwenasr.outcomes.TerminationReason`).
TRANSCRIPTIONS = Metric("qwen_asr.transcriptions", "counter", ("outcome", "waiter"))
#: The audio seconds DashScope billed (``usage``) for each task a wait saw end.
BILLED_AUDIO_SECONDS = Metric("qwen_asr.billed_audio_seconds", "counter", ("model",))
#: Bytes of result files received through their signed URLs (each download, retries included).
RESULT_BYTES = Metric("qwen_asr.result.bytes", "counter", ())

#: Every metric the provider sends, in the order ``docs/metrics.md`` lists them.
METRICS = (REQUESTS, BUDGET_RATE, WAIT_DETECTION_DELAY, TRANSCRIPTIONS, BILLED_AUDIO_SECONDS, RESULT_BYTES)

#: Characters every backend takes in a tag value (Airflow's StatsD name check, with InfluxDB-style
#: tags appended to the name, allows only these): anything else becomes ``_``.
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_MAX_TAG_CHARS = 80
_failed_once = False


def request_outcome(error: BaseException | None) -> str:
    """The ``outcome`` tag of an API call: ``ok``, ``throttled`` (429), ``server_error`` (5xx),
    ``transport_error`` (no complete answer, or a garbled one) or ``client_error`` (any other refusal).

    Told from the class :mod:`~airflow_provider_qwenasr._api.errors` mapped the answer to, so it
    agrees with what is retried.
    """
    if error is None:
        return "ok"
    if isinstance(error, QwenASRThrottledError):
        return "throttled"
    if isinstance(error, QwenASRServerError):
        return "server_error"
    if isinstance(error, QwenASRConnectionError):
        return "transport_error"
    return "client_error"


def request_sent(endpoint: str, error: BaseException | None = None) -> None:
    """Count one DashScope API call to ``endpoint``, answered (``error`` None) or failed with ``error``."""
    _send(REQUESTS, 1, {"endpoint": endpoint, "outcome": request_outcome(error)})


def budget_rate(host: str, budget: str, rate: float) -> None:
    """Set the rate gauge of the budget ``budget`` (``query``, ``submit.<family>``) for API ``host``.

    ``host`` is the API's ``scheme://host:port``; only its host and port are sent.
    """
    _send(BUDGET_RATE, rate, {"api_host": _host_and_port(host), "budget": budget})


def wait_ended(
    reason: TerminationReason,
    task: AsrTask | None = None,
    *,
    waiter: str,
    model: str | None = None,
) -> None:
    """Record the end of a wait: the transcription's outcome, how late it was seen, what was billed.

    :param reason: how the wait ended.
    :param task: the task as last queried (``None`` when no answer came): its ``end_time`` gives the
        detection delay, its ``usage_seconds`` the billed audio.
    :param waiter: where the wait ran: ``triggerer`` or ``worker``.
    :param model: the model the task was submitted with, when the waiter knows it (``unknown`` otherwise).
    """
    tags = {"outcome": reason.value, "waiter": waiter}
    _send(TRANSCRIPTIONS, 1, tags)
    if task is None:
        return
    if task.end_time is not None:
        delay = max(0.0, time.time() - task.end_time.timestamp())
        _send(WAIT_DETECTION_DELAY, timedelta(seconds=delay), tags)
    seconds = task.usage_seconds
    if seconds:  # whole seconds go as an integer (``6|c``, not ``6.0|c``)
        count = int(seconds) if seconds.is_integer() else seconds
        _send(BILLED_AUDIO_SECONDS, count, {"model": model or "unknown"})


def task_ended(task: AsrTask, *, waiter: str, model: str | None = None) -> None:
    """:func:`wait_ended` for a wait that saw ``task`` end, with the reason :mod:`.outcomes` gives it."""
    from airflow_provider_qwenasr.outcomes import TerminationReason, termination_reason

    reason = termination_reason(task) or TerminationReason.EXPIRED
    wait_ended(reason, task, waiter=waiter, model=model)


def result_bytes(count: int) -> None:
    """Count ``count`` bytes of a result file received."""
    if count:
        _send(RESULT_BYTES, count, {})


def _host_and_port(url: str) -> str:
    """``host:port`` of ``url``, never its user, password, path or query."""
    try:
        parts = urlsplit(url)
        return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname or "unknown"
    except ValueError:  # a port that is not a number
        return "unknown"


def _send(metric: Metric, value: float | timedelta, tags: Mapping[str, object]) -> None:
    """Hand one value to Airflow's ``Stats``; never raise."""
    global _failed_once
    try:
        from airflow_provider_qwenasr._compat import stats

        safe = {key: _UNSAFE.sub("_", str(tags[key]))[:_MAX_TAG_CHARS] for key in metric.tags}
        backend: Any = stats()
        if metric.kind == "counter":
            backend.incr(metric.name, value, tags=safe)
        elif metric.kind == "gauge":
            backend.gauge(metric.name, value, tags=safe)
        else:
            backend.timing(metric.name, value, tags=safe)
    except Exception:  # a metric must never fail the work it measures
        if not _failed_once:
            _failed_once = True
            log.warning("Could not send metric %s; metrics may be missing", metric.name, exc_info=True)
