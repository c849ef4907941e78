"""The outcome table: every path that learns how a task ended reads it the same way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_qwenasr.exceptions import (
    QwenASRResultError,
    QwenASRTaskCanceledError,
    QwenASRTaskExpiredError,
    QwenASRTaskFailedError,
    QwenASRTimeoutError,
)
from airflow_provider_qwenasr.models import AsrTask
from airflow_provider_qwenasr.outcomes import (
    TerminationReason,
    error_from_event,
    every_file_failed,
    fetch_error,
    outcome_error,
    termination_reason,
)
from airflow_provider_qwenasr.triggers.qwen_asr import QwenASRTaskTrigger
from airflow_provider_qwenasr.triggers.qwen_asr import TerminationReason as ReExported
from airflow_provider_qwenasr.waiting import PollSchedule

WIRE = Path(__file__).resolve().parents[4] / "shared" / "wire-examples"


def _wire(name: str) -> AsrTask:
    return AsrTask.from_response(json.loads((WIRE / f"{name}.response.json").read_text())["body"])


def _task(status: str, results: list[dict[str, Any]] | None = None) -> AsrTask:
    output: dict[str, Any] = {"task_id": "t-1", "task_status": status}
    if results is not None:
        output["results"] = results
    return AsrTask.from_response({"request_id": "r-1", "output": output})


def test_the_trigger_module_re_exports_the_one_enum() -> None:
    assert ReExported is TerminationReason


@pytest.mark.parametrize(
    ("answer", "reason", "error"),
    [
        ("query-qwen3-succeeded", TerminationReason.SUCCESS, None),
        ("query-qwen3-failed", TerminationReason.FAILED, QwenASRTaskFailedError),
        ("query-unknown", TerminationReason.EXPIRED, QwenASRTaskExpiredError),
        ("query-funasr-partial-failure", TerminationReason.SUCCESS, None),
        ("query-funasr-all-subtasks-failed", TerminationReason.FAILED, QwenASRTaskFailedError),
    ],
)
def test_each_documented_answer_has_one_reason_and_one_error(
    answer: str, reason: TerminationReason, error: type[Exception] | None
) -> None:
    task = _wire(answer)
    assert termination_reason(task) is reason
    assert QwenASRTaskTrigger(task.task_id)._terminal_event(task).payload["status"] == reason.value
    polled = outcome_error(task)
    assert (polled is None) if error is None else isinstance(polled, error)
    fetched = fetch_error(task)
    assert (fetched is None) if error is None else isinstance(fetched, error)
    if polled is not None:
        assert str(polled) == str(fetched)  # the wait and the fetch say the same thing
        assert task.task_id in str(polled)


def test_a_succeeded_file_without_a_result_link_counts_as_failed_everywhere() -> None:
    """Regression: the trigger and the fetch called this a failure, the blocking wait a success."""
    task = _task("SUCCEEDED", [{"file_url": "https://a/x.wav", "subtask_status": "SUCCEEDED"}])
    assert every_file_failed(task)
    assert termination_reason(task) is TerminationReason.FAILED
    assert isinstance(outcome_error(task), QwenASRTaskFailedError)
    assert isinstance(fetch_error(task), QwenASRTaskFailedError)
    event = QwenASRTaskTrigger("t-1")._terminal_event(task).payload
    assert str(error_from_event(event)) == str(outcome_error(task))


@pytest.mark.parametrize("status", ["PENDING", "RUNNING", "SOMETHING_NEW"])
def test_a_task_still_running_is_no_outcome_but_has_no_result_yet(status: str) -> None:
    task = _task(status)
    assert termination_reason(task) is None
    assert outcome_error(task) is None
    error = fetch_error(task)
    assert isinstance(error, QwenASRResultError)
    assert "no result yet" in str(error)


def test_canceled_and_expired_name_the_task_and_the_24_hours() -> None:
    canceled = outcome_error(_task("CANCELED"))
    assert isinstance(canceled, QwenASRTaskCanceledError)
    assert "t-1" in str(canceled)
    # In an Airflow log, task_id is Airflow's: the DashScope id is labelled asr_task_id.
    assert "asr_task_id=t-1" in str(canceled)
    assert "(task_id=" not in str(canceled)
    expired = fetch_error(_task("UNKNOWN"))
    assert isinstance(expired, QwenASRTaskExpiredError)
    assert "24 h" in str(expired)


def test_partial_failure_is_a_wait_error_only_when_refused() -> None:
    task = _wire("query-funasr-partial-failure")
    assert outcome_error(task, allow_partial_failure=True) is None
    refused = outcome_error(task, allow_partial_failure=False)
    assert isinstance(refused, QwenASRTaskFailedError)
    assert refused.failed_files
    assert fetch_error(task) is None  # the other files' results are fetched


def test_events_are_read_by_their_reason() -> None:
    timeout = error_from_event(
        {"status": TerminationReason.TIMEOUT.value, "asr_task_id": "t", "message": "m"}
    )
    assert isinstance(timeout, QwenASRTimeoutError)
    assert error_from_event({"status": "success", "asr_task_id": "t"}) is None
    assert isinstance(error_from_event({"status": "failed", "asr_task_id": "t"}), QwenASRTaskFailedError)
    unknown = error_from_event({"status": "no-such-reason", "message": "boom"})
    assert unknown is not None
    assert "boom" in str(unknown)
    assert error_from_event(None) is not None


def test_the_schedule_grows_by_half_to_its_cap_and_resets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("airflow_provider_qwenasr.waiting.random.uniform", lambda a, b: (a + b) / 2)
    schedule = PollSchedule(2.0, 5.0)
    assert [schedule.next_wait() for _ in range(4)] == [2.0, 3.0, 4.5, 5.0]
    schedule.reset()
    assert schedule.next_wait() == 2.0
    assert schedule.first_wait() == 1.0


def test_the_schedule_stretches_to_the_floor_and_stops_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("airflow_provider_qwenasr.waiting.MIN_POLL_INTERVAL", 1.0)
    monkeypatch.setattr("airflow_provider_qwenasr.waiting.time.time", lambda: 100.0)
    floored = PollSchedule(0.0, 0.0)
    assert floored.poll_interval == floored.max_poll_interval == 1.0
    near = PollSchedule(10.0, 10.0, deadline=100.5)
    wait = near.next_wait()
    assert wait is not None
    assert wait <= 0.5
    assert PollSchedule(10.0, 10.0, deadline=100.0).next_wait() is None
    assert PollSchedule(10.0, 10.0, deadline=99.0).first_wait() is None
