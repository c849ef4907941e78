"""A DAG whose every provider task computes its Transcript link for real, against the emulator.

Mapped submit, sensor and fetch (two recordings), and one one-shot transcription. The connection
(``AIRFLOW_CONN_QWEN_ASR_DEFAULT``) and the output folder (``$QWENASR_LINKS_OUT``) come from the
environment; ``tests/ui/test_extra_links.py`` runs it with ``airflow dags test``.
"""

from __future__ import annotations

import datetime
import os

from airflow.sdk import DAG

from airflow_provider_qwenasr.operators.qwen_asr import (
    QwenASRFetchTranscriptionOperator,
    QwenASRSubmitTranscriptionOperator,
    QwenASRTranscribeOperator,
)
from airflow_provider_qwenasr.sensors.qwen_asr import QwenASRTaskSensor

CALLS = ["https://example.com/calls/first.wav", "https://example.com/calls/second.wav"]
OUT = "file://" + os.environ.get("QWENASR_LINKS_OUT", "/tmp/qwenasr-links")

with DAG("ui_links", schedule=None, start_date=datetime.datetime(2024, 1, 1), catchup=False):
    submit = QwenASRSubmitTranscriptionOperator.partial(task_id="submit").expand(file_url=CALLS)
    wait = QwenASRTaskSensor.partial(task_id="wait", poke_interval=1).expand(asr_task_id=submit.output)
    fetch = QwenASRFetchTranscriptionOperator.partial(
        task_id="fetch", output_path=OUT + "/mapped", output_formats=["txt"]
    ).expand(asr_task_id=submit.output)
    wait >> fetch
    QwenASRTranscribeOperator(
        task_id="transcribe",
        file_url="https://example.com/calls/third.wav",
        deferrable=False,
        poll_interval=1,
        output_path=OUT + "/one",
        output_formats=["txt"],
    )
