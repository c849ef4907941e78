"""A one-shot transcription of signed audio URLs (run by tests/dags/test_signed_urls.py).

``QWENASR_TEST_AUDIO`` holds the JSON list of URLs: one for a Qwen3 model, several for Fun-ASR.
"""

from __future__ import annotations

import json
import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_qwenasr.operators.submit import QwenASRSubmitTranscriptionOperator
from airflow_provider_qwenasr.operators.transcribe import QwenASRTranscribeOperator

URLS = json.loads(os.environ.get("QWENASR_TEST_AUDIO", '["https://example.com/audio/meeting.wav"]'))

with DAG("qwenasr_signed_urls", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    QwenASRTranscribeOperator(
        task_id="transcribe",
        model="qwen3-asr-flash-filetrans" if len(URLS) == 1 else "fun-asr",
        file_url=URLS[0] if len(URLS) == 1 else None,
        file_urls=URLS if len(URLS) > 1 else None,
        output_path="file://" + os.environ.get("QWENASR_TEST_OUT", "/tmp/qwenasr-signed-out"),
        output_formats=["json", "txt"],
        xcom_output="full",
        deferrable=False,
        poll_interval=1,
    )

with DAG("qwenasr_signed_urls_mapped", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    # Mapped operators render through another path (the unmapped task's field rendering).
    QwenASRSubmitTranscriptionOperator.partial(task_id="submit").expand(file_url=URLS)
