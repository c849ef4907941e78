"""The failure record the UI reads: a QwenASRError's to_dict() pushed to XCom, scrubbed, once per failure."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_qwenasr._compat import AirflowFailException, AirflowSkipException
from airflow_provider_qwenasr.exceptions import QwenASRError, QwenASRResultError, QwenASRTaskFailedError
from airflow_provider_qwenasr.failure_record import (
    FAILURE_XCOM_KEY,
    failure_record,
    qwen_asr_error_of,
    records_failure,
)

SIGNATURE = "c2lnbmF0dXJlLW9mLWEtc2lnbmVkLXVybA"
KEY_ID = "LTAI5tUnitTestKeyId"
SIGNED = f"https://bucket.oss-cn-beijing.aliyuncs.com/r.json?Expires=1&OSSAccessKeyId={KEY_ID}&Signature={SIGNATURE}"


class FakeTI:
    """The two things the record needs of a running task instance."""

    def __init__(self, try_number: int = 2, fail: bool = False) -> None:
        self.try_number = try_number
        self.fail = fail
        self.pushed: list[tuple[str, Any]] = []

    def xcom_push(self, key: str, value: Any) -> None:
        if self.fail:
            raise ConnectionError("the API server is gone")
        self.pushed.append((key, json.loads(json.dumps(value))))  # what XCom would store


class Operator:
    """Stands in for an operator: its execute raises what it is given."""

    log = None

    def __init__(self, raised: BaseException) -> None:
        self.raised = raised

    @records_failure
    def execute(self, context: Any) -> None:
        raise self.raised

    @records_failure
    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> None:
        self.execute(context)


def _leaky_error() -> QwenASRResultError:
    return QwenASRResultError(
        f"The result link {SIGNED} has expired",
        task_id="dash-1",
        code="AccessDenied",
        service_message=f"Request has expired ({SIGNED}); Signature={SIGNATURE}",
        request_id="req-1",
        http_status=403,
        hint=f"Query the task again for a new link than {SIGNED}",
    )


def test_the_error_is_pushed_scrubbed_and_re_raised(secret_scan: Any) -> None:
    """The error's to_dict() goes to XCom with its try; no URL query and no signature in it."""
    ti = FakeTI()
    error = _leaky_error()
    with pytest.raises(QwenASRResultError) as raised:
        Operator(error).execute({"ti": ti})
    assert raised.value is error
    [(key, value)] = ti.pushed
    assert key == FAILURE_XCOM_KEY
    assert value["try_number"] == 2
    assert {k: value[k] for k in ("error", "task_id", "code", "request_id", "http_status")} == {
        "error": "QwenASRResultError",
        "task_id": "dash-1",
        "code": "AccessDenied",
        "request_id": "req-1",
        "http_status": 403,
    }
    assert (
        value["message"] == "The result link https://bucket.oss-cn-beijing.aliyuncs.com/r.json?… has expired"
    )
    assert value["service_message"].endswith("; Signature=***")
    text = json.dumps(value)
    assert SIGNATURE not in text
    assert KEY_ID not in text
    assert not secret_scan.scan(text, "the failure record")


def test_an_airflow_fail_exception_from_an_error_is_recorded() -> None:
    """The sensor and the lost-submit path raise AirflowFailException from the QwenASRError."""
    ti = FakeTI()
    error = QwenASRTaskFailedError(
        "Task failed", task_id="dash-2", code="X", failed_files=[{"status": "FAILED"}]
    )
    try:
        raise AirflowFailException(str(error)) from error
    except AirflowFailException as exc:
        wrapped = exc
    with pytest.raises(AirflowFailException):
        Operator(wrapped).execute({"ti": ti})
    [(_, value)] = ti.pushed
    assert value["error"] == "QwenASRTaskFailedError"
    assert value["failed_files"] == [{"status": "FAILED"}]
    assert qwen_asr_error_of(wrapped) is error


@pytest.mark.parametrize(
    "raised",
    [
        pytest.param(ValueError("not ours"), id="other-error"),
        pytest.param(AirflowSkipException("soft_fail"), id="skip"),
    ],
)
def test_what_is_not_a_provider_failure_is_not_recorded(raised: BaseException) -> None:
    """Another exception, or a skip (soft_fail) even caused by a QwenASRError, records nothing."""
    raised.__cause__ = QwenASRError("cause")
    if isinstance(raised, ValueError):
        raised.__cause__ = None
    ti = FakeTI()
    with pytest.raises(type(raised)):
        Operator(raised).execute({"ti": ti})
    assert ti.pushed == []


def test_nested_recorded_methods_push_once() -> None:
    """A recorded method calling another (a subclass's execute calling super()) records one failure."""
    ti = FakeTI()
    with pytest.raises(QwenASRError):
        Operator(QwenASRError("boom")).execute_complete(context={"ti": ti}, event=None)
    assert len(ti.pushed) == 1


def test_a_failed_push_does_not_hide_the_error() -> None:
    """When XCom cannot be written the task still fails with its own error (the UI reads the log)."""
    error = QwenASRError("boom", code="C")
    with pytest.raises(QwenASRError) as raised:
        Operator(error).execute({"ti": FakeTI(fail=True)})
    assert raised.value is error
    with pytest.raises(QwenASRError):
        Operator(QwenASRError("no ti")).execute({})


def test_a_secret_airflow_masks_is_masked_in_the_record() -> None:
    """A value registered with Airflow's secrets masker (an API key, say) never reaches the record."""
    from airflow_provider_qwenasr.masking import mask

    key = "sk-unit-test-api-key-7f3e9a"
    mask(key)
    record = failure_record(QwenASRError(f"rejected key {key}", hint=f"check {key}"), try_number=1)
    assert key not in json.dumps(record)


def test_the_fetch_operator_records_its_failure() -> None:
    """A provider operator's execute records what it fails with (here: a bad id, before any query)."""
    from airflow_provider_qwenasr.exceptions import QwenASRInputError
    from airflow_provider_qwenasr.operators.fetch import QwenASRFetchTranscriptionOperator

    ti = FakeTI(try_number=1)
    operator = QwenASRFetchTranscriptionOperator(task_id="fetch", asr_task_id="not a task id!")
    with pytest.raises(QwenASRInputError):
        operator.execute({"ti": ti})  # type: ignore[arg-type]
    [(key, value)] = ti.pushed
    assert key == FAILURE_XCOM_KEY
    assert value["error"] == "QwenASRInputError"
    assert value["try_number"] == 1
