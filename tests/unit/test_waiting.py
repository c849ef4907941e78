"""A terminal task means the same error whether the worker polled it or a trigger's event reports it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_qwenasr.models import AsrTask
from airflow_provider_qwenasr.triggers.qwen_asr import QwenASRTaskTrigger
from airflow_provider_qwenasr.waiting import error_from_event, outcome_error

WIRE = Path(__file__).resolve().parents[3] / "shared" / "wire-examples"
ANSWERS = [
    "query-qwen3-succeeded",
    "query-qwen3-failed",
    "query-unknown",
    "query-funasr-succeeded",
    "query-funasr-partial-failure",
    "query-funasr-all-subtasks-failed",
]


@pytest.mark.parametrize("allow_partial_failure", [True, False], ids=["partial-ok", "partial-fails"])
@pytest.mark.parametrize("answer", ANSWERS)
def test_polled_and_deferred_outcomes_agree(answer: str, allow_partial_failure: bool) -> None:
    """Regression guard: the two paths once built these errors separately, and their texts drifted."""
    task = AsrTask.from_response(json.loads((WIRE / f"{answer}.response.json").read_text())["body"])
    event = QwenASRTaskTrigger(task.task_id)._terminal_event(task).payload
    polled = outcome_error(task, allow_partial_failure=allow_partial_failure)
    deferred = error_from_event(event, allow_partial_failure=allow_partial_failure)
    assert type(polled) is type(deferred)
    assert str(polled) == str(deferred)


def test_canceled_task_and_event_agree() -> None:
    body = {"request_id": "r", "output": {"task_id": "t-1", "task_status": "CANCELED"}}
    task = AsrTask.from_response(body)
    event = QwenASRTaskTrigger("t-1")._terminal_event(task).payload
    assert str(outcome_error(task)) == str(error_from_event(event))


def test_a_success_event_without_a_summary_is_still_a_success() -> None:
    assert error_from_event({"status": "success", "asr_task_id": "t-1"}) is None
