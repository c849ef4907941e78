"""A terminal task means the same error whether the worker polled it or a trigger's event reports it."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from airflow_provider_qwenasr import waiting
from airflow_provider_qwenasr.exceptions import QwenASRInputError
from airflow_provider_qwenasr.models import AsrTask
from airflow_provider_qwenasr.triggers.qwen_asr import QwenASRTaskTrigger
from airflow_provider_qwenasr.waiting import check_wait_options, error_from_event, outcome_error

WIRE = Path(__file__).resolve().parents[4] / "shared" / "wire-examples"
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


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"poll_interval": 0}, "poll_interval=0 "),
        ({"poll_interval": 0.999}, "poll_interval=0.999 "),
        ({"poll_interval": timedelta(milliseconds=500)}, "poll_interval=datetime.timedelta"),
        ({"poll_interval": "5"}, "poll_interval='5' "),
        ({"poll_interval": True}, "poll_interval=True "),
        ({"max_poll_interval": 0}, "max_poll_interval=0 "),
        ({"timeout": 0}, "timeout=0 "),
        ({"timeout": -1.5}, "timeout=-1.5 "),
        ({"timeout": timedelta(0)}, "timeout=datetime.timedelta(0)"),
    ],
)
def test_wait_options_that_would_spend_the_quota_or_give_up_at_once_are_refused(
    options: dict[str, object], named: str
) -> None:
    good: dict[str, object] = {"poll_interval": 1, "max_poll_interval": 30, "timeout": 60}
    with pytest.raises(QwenASRInputError) as caught:
        check_wait_options(interval_name="poll_interval", **{**good, **options})  # type: ignore[arg-type]
    assert named in str(caught.value)
    assert caught.value.hint


@pytest.mark.parametrize(
    "options",
    [
        {"poll_interval": 1, "max_poll_interval": 1, "timeout": 0.5},
        {"poll_interval": timedelta(seconds=2), "max_poll_interval": 30.0, "timeout": timedelta(hours=1)},
    ],
)
def test_wait_options_at_or_above_the_floor_pass(options: dict[str, object]) -> None:
    check_wait_options(interval_name="poll_interval", **options)  # type: ignore[arg-type]


def test_the_blocking_poll_stretches_short_intervals_to_the_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """``poll_until_done`` called with 0 s (by code that skipped the operator's check) sleeps >= 1 s."""
    pending = AsrTask.from_response(
        {"output": {"task_id": "t-1", "task_status": "PENDING"}, "request_id": "r-1"}
    )
    done = AsrTask.from_response(
        json.loads((WIRE / "query-qwen3-succeeded.response.json").read_text())["body"]
    )
    answers = iter([pending, pending, pending, done])
    sleeps: list[float] = []

    class Hook:
        def get_task(self, task_id: str) -> AsrTask:
            return next(answers)

    monkeypatch.setattr(waiting.time, "sleep", sleeps.append)
    waiting.poll_until_done(
        Hook(),
        "t-1",
        poll_interval=0,
        max_poll_interval=0,
        deadline=None,
        log=logging.getLogger("t"),  # type: ignore[arg-type]
    )
    assert len(sleeps) == 3
    assert min(sleeps) >= waiting.MIN_POLL_INTERVAL * 0.9  # the ±10 % jitter
