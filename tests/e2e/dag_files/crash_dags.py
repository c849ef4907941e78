"""DAGs for the crash-and-restart tests (tests/e2e/test_crash_restart.py).

Every audio URL asks the emulator for a task that stays RUNNING for an hour (``running_seconds``
hint), so nothing finishes on its own while the test kills components; the test then moves the
emulator's clock forward to let every task succeed at the moment it chooses.  That keeps the
tests independent of how slow a loaded machine starts tasks.

The connection ``qwen_asr_default`` comes from ``AIRFLOW_CONN_QWEN_ASR_DEFAULT``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_qwenasr.operators.qwen_asr import QwenASRSubmitTranscriptionOperator
from airflow_provider_qwenasr.sensors.qwen_asr import QwenASRTaskSensor

START = datetime(2026, 1, 1)
#: Deferred sensors held while the triggerer is killed (issue 7: "20 sensors").
SENSORS = 20
#: Long enough that no task finishes before the test advances the emulator clock.
HOLD = "running_seconds=3600&pending_seconds=0"
FILE_URLS = [f"https://example.com/crash/recording-{i:02d}.wav?{HOLD}" for i in range(SENSORS)]


@task
def count_succeeded(summaries: Any) -> int:
    """Check every sensor returned a SUCCEEDED summary; return how many there are."""
    items = list(summaries)
    failed = [s for s in items if s["status"] != "SUCCEEDED"]
    if failed:
        raise ValueError(f"not SUCCEEDED: {failed}")
    print(f"SUCCEEDED_COUNT={len(items)}")
    return len(items)


with DAG(
    "crash_triggerer_restart",
    schedule=None,
    start_date=START,
    catchup=False,
    # One run at a time; the 20 submits and 20 sensors fit the deployment's parallelism in batches.
    max_active_runs=1,
):
    submit = QwenASRSubmitTranscriptionOperator.partial(task_id="submit").expand(file_url=FILE_URLS)
    wait = QwenASRTaskSensor.partial(
        task_id="wait",
        deferrable=True,
        # The trigger polls every 1-2 s, so the test does not wait long after the clock jump.
        poke_interval=1,
        max_poll_interval=2,
        timeout=1800,
    ).expand(asr_task_id=submit.output)
    count_succeeded(wait.output)

with DAG("crash_worker_after_submit", schedule=None, start_date=START, catchup=False):
    # Waits in the worker (not deferred), so the submit and the wait share one task process: the
    # test SIGKILLs that process after the submit, and the retry must reattach, not submit again.
    QwenASRSubmitTranscriptionOperator(
        task_id="submit",
        file_url=f"https://example.com/crash/worker-kill.wav?{HOLD}",
        wait_for_completion=True,
        deferrable=False,
        poll_interval=1,
        max_poll_interval=2,
        timeout=1800,
        retries=2,
        retry_delay=timedelta(seconds=2),
    )
