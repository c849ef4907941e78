"""DAGs whose submit answer is lost (run by tests/dags/test_lost_submit.py): pays once, whatever fails.

The test arms the emulator's faults (a 500 after the task was created); ``DiesAfterSubmitting``
simulates a worker that dies once the billed POST has left, before its answer is read.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG

from airflow_provider_qwenasr.operators.qwen_asr import (
    QwenASRSubmitTranscriptionOperator,
    QwenASRTranscribeOperator,
)

AUDIO = os.environ.get("QWENASR_TEST_AUDIO", "https://example.com/audio/meeting.wav")
START = datetime(2026, 1, 1)
RETRY = {"retries": 1, "retry_delay": timedelta(seconds=0)}


class DiesAfterSubmitting(QwenASRTranscribeOperator):
    """On its first try, dies right after the submit was sent (the answer is never read)."""

    def submit_or_reattach(self, context: Any) -> Any:
        if context["ti"].try_number == 1:
            send = self.hook._send_once

            def send_then_die(request: Any) -> Any:
                answer = send(request)
                if request.endpoint == "submit":
                    raise RuntimeError("simulated worker death after the submit was sent")
                return answer

            self.hook._send_once = send_then_die  # type: ignore[method-assign]
        return super().submit_or_reattach(context)


with DAG("qwenasr_lost_answer_blocking", schedule=None, start_date=START, catchup=False):
    QwenASRSubmitTranscriptionOperator(
        task_id="submit", file_url=AUDIO, wait_for_completion=True, deferrable=False, poll_interval=1, **RETRY
    )

with DAG("qwenasr_lost_answer_mapped", schedule=None, start_date=START, catchup=False):
    QwenASRSubmitTranscriptionOperator.partial(task_id="submit", **RETRY).expand(
        file_url=[f"{AUDIO}?n={n}" for n in range(3)]
    )

with DAG("qwenasr_dies_after_submit", schedule=None, start_date=START, catchup=False):
    DiesAfterSubmitting(
        task_id="transcribe",
        file_url=AUDIO,
        deferrable=os.environ.get("QWENASR_TEST_DEFERRABLE") == "1",
        poll_interval=1,
        **RETRY,
    )
