"""The failed-task panel: the error recorded in XCom by the provider's operators, shown to log readers only.

``recorded_failure`` is the provider's fetch operator whose query fails with an error quoting a
signed result URL (signature and access key id in its query, in the message, DashScope's message
and the hint): the attacker's case. ``failing`` is a task that is not a provider operator, so it
records nothing and its panel reads the log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_qwenasr.failure_record import FAILURE_XCOM_KEY
from tests.security.secret_scan import SecretScan
from tests.ui.conftest import UiData
from tests.ui.dag_files.ui_fixture_dags import LEAKED_KEY_ID, LEAKED_SIGNATURE
from tests.ui.test_routes import _write_failed_log, get, ti_path

HTTP_OK = 200


def _recorded(ui_data: UiData, task_id: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalar(
            select(XComModel).where(
                XComModel.dag_id == "ui_fixture",
                XComModel.run_id == ui_data.run_id,
                XComModel.task_id == task_id,
                XComModel.key == FAILURE_XCOM_KEY,
            )
        )
        return None if row is None else XComModel.deserialize_value(row)


def _assert_no_secret(text: str, where: str, secret_scan: SecretScan) -> None:
    assert LEAKED_SIGNATURE not in text, where
    assert LEAKED_KEY_ID not in text, where
    assert not secret_scan.scan(text, where)


def test_the_provider_operator_records_its_error_without_the_signed_url(
    ui_data: UiData, secret_scan: SecretScan
) -> None:
    """The fetch operator's failure is in XCom as the error's to_dict(), every URL query cut."""
    value = _recorded(ui_data, "recorded_failure")
    assert isinstance(value, dict)
    assert value["error"] == "QwenASRResultError"
    assert value["task_id"] == "dash-leaky-0012"
    assert value["code"] == "AccessDenied"
    assert value["request_id"] == "req-leaky-1"
    assert value["http_status"] == 403
    assert value["try_number"] == 1
    assert "/r/dash-leaky-0012.json?…" in value["message"]  # the URL is still named, without its query
    _assert_no_secret(json.dumps(value, ensure_ascii=False), "the recorded XCom", secret_scan)
    assert _recorded(ui_data, "failing") is None  # not a provider operator: nothing recorded


def test_the_recorded_error_is_shown_without_reading_the_log(
    client: Any, ui_data: UiData, tokens: dict[str, str], secret_scan: SecretScan
) -> None:
    """The panel shows the record's class, code, message and request id; no signature anywhere."""
    html = get(client, ti_path(ui_data.run_id, "recorded_failure"), "viewer", tokens).text
    assert "QwenASRResultError" in html
    assert "<dt>code</dt><dd><code>AccessDenied</code></dd>" in html
    assert "<dt>request_id</dt><dd><code>req-leaky-1</code></dd>" in html
    assert "<dt>DashScope task</dt><dd><code>dash-leaky-0012</code></dd>" in html
    assert "Last error lines of the log" not in html  # the record, not the log
    assert "the error is above" in html
    _assert_no_secret(html, "the failed task's page", secret_scan)


@pytest.mark.parametrize("task_id", ["recorded_failure", "failing"])
def test_a_user_who_may_not_read_logs_sees_no_error(
    client: Any, ui_data: UiData, tokens: dict[str, str], task_id: str
) -> None:
    """The error (recorded or from the log) is shown only to users who may read the task's logs."""
    _write_failed_log(ui_data)
    url = ti_path(ui_data.run_id, task_id)
    assert "<dt>code</dt>" in get(client, url, "viewer", tokens).text
    response = get(client, url, "nologs", tokens)
    assert response.status_code == HTTP_OK
    html = response.text
    assert "failed" in html
    for shown in ("<dt>code</dt>", "<dt>request_id</dt>", "QwenASR", "AccessDenied", "FILE_403_FORBIDDEN"):
        assert shown not in html
    assert "in the task&#39;s Logs tab" in html


@pytest.fixture
def forged_record(ui_data: UiData) -> Iterator[Any]:
    """Write a ``qwen_asr_error`` XCom on ``failing`` as a user who may edit XComs could; remove it after."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    def forge(value: Any) -> None:
        with create_session() as session:
            XComModel.set(
                FAILURE_XCOM_KEY,
                value,
                dag_id="ui_fixture",
                task_id="failing",
                run_id=ui_data.run_id,
                session=session,
            )

    yield forge
    with create_session() as session:
        session.execute(
            delete(XComModel).where(
                XComModel.dag_id == "ui_fixture",
                XComModel.run_id == ui_data.run_id,
                XComModel.task_id == "failing",
                XComModel.key == FAILURE_XCOM_KEY,
            )
        )


def test_a_record_of_another_try_is_ignored_and_the_log_is_read(
    client: Any, ui_data: UiData, tokens: dict[str, str], forged_record: Any
) -> None:
    """Only the latest try's record counts; without one the panel falls back to the log."""
    _write_failed_log(ui_data)
    forged_record({"error": "QwenASRApiError", "message": "stale", "code": "STALE_CODE", "try_number": 99})
    html = get(client, ti_path(ui_data.run_id, "failing"), "viewer", tokens).text
    assert "STALE_CODE" not in html
    assert "<dt>code</dt><dd><code>FILE_403_FORBIDDEN</code></dd>" in html  # from the log


def test_an_edited_record_is_shown_as_escaped_text(
    client: Any, ui_data: UiData, tokens: dict[str, str], forged_record: Any
) -> None:
    """A record rewritten by an XCom editor cannot inject markup, and odd types do not break the page."""
    forged_record(
        {
            "error": "<script>alert(1)</script>",
            "message": ["not", "text"],
            "code": "<b>X</b>",
            "http_status": "403",
            "request_id": 7,
            "try_number": None,
        }
    )
    response = get(client, ti_path(ui_data.run_id, "failing"), "viewer", tokens)
    assert response.status_code == HTTP_OK
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;" in response.text
    assert "<dt>code</dt><dd><code>&lt;b&gt;X&lt;/b&gt;</code></dd>" in response.text
    assert "<dt>request_id</dt><dd><code>7</code></dd>" in response.text
