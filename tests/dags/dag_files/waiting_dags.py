"""DAGs that exercise submitting and waiting in a real Airflow (run by tests/dags/test_waiting_in_airflow.py).

The audio URL's query string steers the emulator (``pending_seconds``, ``fail``…), so each DAG
describes its scenario in its file URL.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.operators.qwen_asr import QwenASRSubmitTranscriptionOperator
from airflow_provider_qwenasr.sensors.qwen_asr import QwenASRTaskSensor

AUDIO = os.environ.get("QWENASR_TEST_AUDIO", "https://example.com/audio/meeting.wav")
START = datetime(2026, 1, 1)


class CrashAfterSubmitOperator(QwenASRSubmitTranscriptionOperator):
    """Fails its first try right after the submit, as a worker dying there would."""

    def submit_or_reattach(self, context: Any) -> Any:
        asr_task = super().submit_or_reattach(context)
        if context["ti"].try_number == 1:
            raise RuntimeError(f"simulated worker crash after submitting {asr_task.task_id}")
        return asr_task


@task
def report(summary: dict[str, Any]) -> None:
    """Print the sensor's return value for the test to read."""
    print("SENSOR_SUMMARY=" + json.dumps(summary, sort_keys=True))


for mode in ("deferrable", "poke", "reschedule"):
    with DAG(f"qwenasr_wait_{mode}", schedule=None, start_date=START, catchup=False):
        submit = QwenASRSubmitTranscriptionOperator(task_id="submit", file_url=AUDIO)
        wait = QwenASRTaskSensor(
            task_id="wait",
            asr_task_id=submit.output,
            poke_interval=1,
            max_poll_interval=1.0,
            timeout=120,
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
        )
        report(wait.output)

with DAG("qwenasr_crash_retry", schedule=None, start_date=START, catchup=False):
    CrashAfterSubmitOperator(
        task_id="submit",
        file_url=AUDIO,
        wait_for_completion=True,
        deferrable=False,
        poll_interval=1,
        retries=2,
        retry_delay=timedelta(seconds=0),
    )

with DAG("qwenasr_timeout_cancels", schedule=None, start_date=START, catchup=False):
    QwenASRSubmitTranscriptionOperator(
        task_id="submit",
        file_url=AUDIO,
        wait_for_completion=True,
        deferrable=os.environ.get("QWENASR_TEST_DEFERRABLE") == "1",
        poll_interval=1,
        timeout=3,
    )

with DAG("qwenasr_sensor_failure", schedule=None, start_date=START, catchup=False):
    submit = QwenASRSubmitTranscriptionOperator(task_id="submit", file_url=AUDIO)
    QwenASRTaskSensor(
        task_id="wait",
        asr_task_id=submit.output,
        poke_interval=1,
        timeout=60,
        deferrable=True,
        soft_fail=os.environ.get("QWENASR_TEST_SOFT_FAIL") == "1",
    )


class QuickRetrySensor(QwenASRTaskSensor):
    """The sensor with the hook's default retry count but short backoffs, to keep the test quick."""

    @property
    def hook(self) -> QwenASRHook:  # type: ignore[override]
        return QwenASRHook(self.qwen_asr_conn_id, retry_base_delay=0.05, retry_max_delay=0.1)


with DAG("qwenasr_first_poke_outage", schedule=None, start_date=START, catchup=False):
    submit = QwenASRSubmitTranscriptionOperator(task_id="submit", file_url=AUDIO)
    QuickRetrySensor(task_id="wait", asr_task_id=submit.output, poke_interval=1, timeout=120, deferrable=True)


@task
def returns_nothing() -> None:
    """An upstream task whose XCom is empty: a template reading it renders ``None``."""


with DAG("qwenasr_sensor_no_task_id", schedule=None, start_date=START, catchup=False):
    QwenASRTaskSensor(
        task_id="wait",
        asr_task_id="{{ ti.xcom_pull(task_ids='returns_nothing') }}",
        poke_interval=1,
        deferrable=os.environ.get("QWENASR_TEST_DEFERRABLE") == "1",
    ).set_upstream(returns_nothing())

BAD_WAIT = json.loads(os.environ.get("QWENASR_TEST_BAD_WAIT", "{}"))

with DAG("qwenasr_bad_wait_options", schedule=None, start_date=START, catchup=False):
    if BAD_WAIT.get("operator") == "sensor":
        QwenASRTaskSensor(
            task_id="check",
            asr_task_id="8fab76d0-0eed-4d20-929f-0123456789ab",
            deferrable=True,
            **BAD_WAIT["kwargs"],
        )
    else:
        QwenASRSubmitTranscriptionOperator(
            task_id="check", file_url=AUDIO, wait_for_completion=True, **BAD_WAIT.get("kwargs", {})
        )
