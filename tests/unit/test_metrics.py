"""The metrics module (:mod:`airflow_provider_qwenasr.metrics`): names, types and tags, what each call
sends, that a broken backend never raises, that no secret reaches a tag, and that docs/metrics.md lists
every metric as the module defines it.

Airflow's ``Stats`` is replaced by a recorder (``tests/stats_recorder.py``). The hooks and the waits
are run against the emulator in ``tests/integration/test_metrics_emulator.py``, and
``tests/dags/test_metrics_statsd.py`` proves the values reach a real StatsD listener.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_qwenasr import _compat, metrics
from airflow_provider_qwenasr._api.errors import connection_error, error_from_response
from airflow_provider_qwenasr._api.request import ApiRequest
from airflow_provider_qwenasr._api.settings import ApiSettings
from airflow_provider_qwenasr.exceptions import QwenASRError, QwenASRInputError
from airflow_provider_qwenasr.hooks.base import lost_answer, settle
from airflow_provider_qwenasr.models import AsrTask
from airflow_provider_qwenasr.outcomes import TerminationReason
from airflow_provider_qwenasr.rate import RateBudget, budget_for
from tests.airflow_versions import airflow_at_least
from tests.conftest import EMULATOR_API_KEY
from tests.stats_recorder import Recorder, recording

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
SETTINGS = ApiSettings(base_url="http://127.0.0.1:8765/api/v1", api_key=EMULATOR_API_KEY)


@pytest.fixture
def stats(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    yield from recording(monkeypatch)


def _query() -> ApiRequest:
    return ApiRequest.query(SETTINGS, "8fab76d0-0000-4000-8000-000000000001")


# -- which outcome an API call had --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        pytest.param(429, "throttled", id="429"),
        pytest.param(500, "server_error", id="500"),
        pytest.param(503, "server_error", id="503"),
        pytest.param(504, "server_error", id="504"),
        pytest.param(400, "client_error", id="400"),
        pytest.param(401, "client_error", id="401"),
        pytest.param(403, "client_error", id="403"),
        pytest.param(404, "client_error", id="404"),
    ],
)
def test_an_error_answer_is_counted_by_its_class(stats: Recorder, status: int, outcome: str) -> None:
    with pytest.raises(QwenASRError):
        settle(None, status, b'{"code": "X", "message": "m"}', {}, _query())
    assert stats.named(metrics.REQUESTS) == [(1, {"endpoint": "query", "outcome": outcome})]


def test_the_outcome_agrees_with_the_error_classes() -> None:
    assert metrics.request_outcome(None) == "ok"
    assert metrics.request_outcome(error_from_response(429, None, {}, endpoint="query")) == "throttled"
    assert metrics.request_outcome(connection_error(_query(), OSError("reset"))) == "transport_error"
    assert metrics.request_outcome(QwenASRInputError("bad")) == "client_error"


def test_answers_are_counted_where_the_budget_hears_of_them(stats: Recorder) -> None:
    budget = RateBudget(10.0)
    body = b'{"request_id": "r", "output": {"task_id": "t", "task_status": "RUNNING"}}'
    settle(budget, 200, body, {}, _query())
    with pytest.raises(QwenASRError):
        settle(budget, 200, b"<html>proxy</html>", {}, _query())  # garbled: no usable answer
    with pytest.raises(QwenASRError):  # a gateway error in a 200
        settle(
            budget, 200, b'{"code": "InternalError", "message": "m"}', {}, ApiRequest.cancel(SETTINGS, "t")
        )
    assert [tags for _, tags in stats.named(metrics.REQUESTS)] == [
        {"endpoint": "query", "outcome": "ok"},
        {"endpoint": "query", "outcome": "transport_error"},
        {"endpoint": "cancel", "outcome": "client_error"},
    ]


def test_a_call_without_an_answer_is_a_transport_error(stats: Recorder) -> None:
    error = lost_answer(_query(), ConnectionResetError("peer reset"), answer_started=True)
    assert error.answer_started
    assert stats.named(metrics.REQUESTS) == [(1, {"endpoint": "query", "outcome": "transport_error"})]


# -- the budget's rate --------------------------------------------------------------------------


def test_a_budget_reports_each_change_of_its_rate() -> None:
    seen: list[float] = []
    budget = RateBudget(8.0, increase_per_second=1.0, clock=lambda: 1000.0, on_rate=seen.append)
    budget.on_success()  # at the ceiling: nothing changes, nothing is sent
    budget.on_throttled()
    budget.on_throttled()  # within the same second: one cut only
    budget.on_success()
    budget.set_ceiling(2.0)
    assert seen == [8.0, 4.0, 4.25, 2.0]


def test_the_rate_gauge_names_the_host_and_the_budget_never_the_key(stats: Recorder) -> None:
    budget = budget_for(SETTINGS.host, SETTINGS.key_fingerprint, 15.0)
    budget.on_throttled()
    budget_for(f"{SETTINGS.host}#submit:qwen-audio", SETTINGS.key_fingerprint, 9.0, kind="submit.qwen-audio")
    assert stats.named(metrics.BUDGET_RATE) == [
        (15.0, {"api_host": "127.0.0.1_8765", "budget": "query"}),
        (7.5, {"api_host": "127.0.0.1_8765", "budget": "query"}),
        (9.0, {"api_host": "127.0.0.1_8765", "budget": "submit.qwen-audio"}),
    ]
    text = repr(stats.sent)
    assert SETTINGS.key_fingerprint not in text
    assert EMULATOR_API_KEY not in text


# -- how a wait ended ---------------------------------------------------------------------------


def _task(status: str, *, usage: dict[str, float] | None = None, end_time: str | None = None) -> AsrTask:
    output: dict[str, Any] = {"task_id": "8fab76d0-0000-4000-8000-000000000002", "task_status": status}
    if end_time:
        output["end_time"] = end_time
    if status == "SUCCEEDED":
        output["result"] = {"transcription_url": "https://oss.example/r.json?Expires=1&Signature=abc"}
    return AsrTask.from_response({"request_id": "r", "output": output, **({"usage": usage} if usage else {})})


def test_a_finished_task_counts_the_outcome_the_delay_and_the_billed_seconds(stats: Recorder) -> None:
    task = _task("SUCCEEDED", usage={"seconds": 42}, end_time="2025-10-27 13:57:47.079")
    metrics.task_ended(task, waiter="triggerer", model="qwen3-asr-flash-filetrans")
    tags = {"outcome": "success", "waiter": "triggerer"}
    assert stats.named(metrics.TRANSCRIPTIONS) == [(1, tags)]
    [(delay, delay_tags)] = stats.named(metrics.WAIT_DETECTION_DELAY)
    assert delay_tags == tags
    assert isinstance(delay, timedelta)
    assert delay > timedelta(days=1)  # end_time is in 2025 (UTC+8): the delay is measured from it
    [(seconds, model_tags)] = stats.named(metrics.BILLED_AUDIO_SECONDS)
    assert (seconds, model_tags) == (42, {"model": "qwen3-asr-flash-filetrans"})
    assert isinstance(seconds, int)
    assert "Signature" not in repr(stats.sent)
    assert task.task_id not in repr(stats.sent)  # no series per DashScope task


def test_fun_asr_usage_duration_and_an_unknown_model(stats: Recorder) -> None:
    metrics.task_ended(_task("SUCCEEDED", usage={"duration": 7.5}), waiter="worker")
    assert stats.named(metrics.BILLED_AUDIO_SECONDS) == [(7.5, {"model": "unknown"})]
    assert stats.named(metrics.WAIT_DETECTION_DELAY) == []  # no end_time, no delay


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        pytest.param("FAILED", "failed", id="failed"),
        pytest.param("CANCELED", "canceled", id="canceled"),
        pytest.param("UNKNOWN", "expired", id="unknown"),
    ],
)
def test_each_terminal_status_counts_its_reason(stats: Recorder, status: str, outcome: str) -> None:
    metrics.task_ended(_task(status), waiter="worker")
    assert stats.named(metrics.TRANSCRIPTIONS) == [(1, {"outcome": outcome, "waiter": "worker"})]
    assert stats.named(metrics.BILLED_AUDIO_SECONDS) == []


def test_a_wait_without_a_task_counts_only_its_outcome(stats: Recorder) -> None:
    metrics.wait_ended(TerminationReason.ERROR, waiter="triggerer")
    assert [name for _, name, _, _ in stats.sent] == [metrics.TRANSCRIPTIONS.name]


def test_result_bytes_are_counted_and_zero_is_not_sent(stats: Recorder) -> None:
    metrics.result_bytes(0)
    metrics.result_bytes(12345)
    assert stats.named(metrics.RESULT_BYTES) == [(12345, {})]


# -- never raises, never leaks ------------------------------------------------------------------


class Broken:
    def __getattr__(self, name: str) -> Any:
        raise OSError("statsd is down")


def test_a_broken_backend_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_compat, "stats", Broken)
    metrics.request_sent("query")
    metrics.budget_rate("https://dashscope.aliyuncs.com", "query", 1.0)
    metrics.task_ended(_task("SUCCEEDED", usage={"seconds": 1}), waiter="worker")
    metrics.result_bytes(1)


def test_a_missing_backend_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> Any:
        raise ImportError("no statsd")

    monkeypatch.setattr(_compat, "stats", missing)
    metrics.request_sent("query")


def test_tag_values_keep_to_the_characters_every_backend_takes(stats: Recorder) -> None:
    model = "my model/v2:latest,x=1" + "z" * 200
    metrics.task_ended(_task("SUCCEEDED", usage={"seconds": 1}), waiter="worker", model=model)
    [(_, tags)] = stats.named(metrics.BILLED_AUDIO_SECONDS)
    assert re.fullmatch(r"[A-Za-z0-9_.-]{1,80}", tags["model"]), tags


# -- the names pass Airflow's own checks, and the docs list them ---------------------------------


def _airflow_name_check() -> Any:
    module = (
        "airflow.sdk._shared.observability.metrics.validators"
        if airflow_at_least("3.2")
        else "airflow.metrics.validators"
    )
    return importlib.import_module(module)


@pytest.mark.parametrize("metric", metrics.METRICS, ids=lambda m: m.name)
def test_each_name_passes_airflow_s_statsd_and_otel_checks(metric: metrics.Metric) -> None:
    validators = _airflow_name_check()
    assert metric.name.startswith("qwen_asr.")
    assert validators.stat_name_default_handler(metric.name) == metric.name
    assert validators.stat_name_otel_handler("airflow", metric.name) == f"airflow.{metric.name}"
    for tag in metric.tags:  # Airflow's default statsd_disabled_tags would drop these
        assert "job_id" not in tag
        assert "run_id" not in tag


def test_the_stats_shim_is_the_one_airflow_exports() -> None:
    module = "airflow.sdk.observability.stats" if airflow_at_least("3.2") else "airflow.stats"
    assert _compat.stats() is importlib.import_module(module).Stats


def test_docs_list_every_metric_with_its_type_and_tags() -> None:
    rows = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `(qwen_asr\.[a-z_.]+)` \| (counter|gauge|timer)[^|]*\| ([^|]*) \|", line)
        if match:
            rows[match.group(1)] = (match.group(2), tuple(re.findall(r"`([a-z_]+)`", match.group(3))))
    assert rows == {m.name: (m.kind, m.tags) for m in metrics.METRICS}


def test_the_api_host_tag_never_carries_credentials_or_a_path(stats: Recorder) -> None:
    metrics.budget_rate("https://user:s3cret@Dashscope.aliyuncs.com/api/v1?x=1", "query", 1.0)
    metrics.budget_rate("http://127.0.0.1:notaport", "query", 1.0)
    assert [tags["api_host"] for _, tags in stats.named(metrics.BUDGET_RATE)] == [
        "dashscope.aliyuncs.com",
        "unknown",
    ]
