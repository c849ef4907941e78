"""A DAG that submits, waits and fetches in a real Airflow (run by tests/dags/test_fetch_dag.py).

The output folder comes from ``QWENASR_TEST_OUT``; the connection from ``AIRFLOW_CONN_QWEN_ASR_DEFAULT``.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Asset, task

from airflow_provider_qwenasr.operators.fetch import QwenASRFetchTranscriptionOperator
from airflow_provider_qwenasr.operators.submit import QwenASRSubmitTranscriptionOperator

OUT = os.environ.get("QWENASR_TEST_OUT", "/tmp/qwenasr-fetch-out")
AUDIO = "https://example.com/audio"
TRANSCRIPTS = Asset("qwenasr-fetch-test-transcripts")

with DAG("qwenasr_fetch", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    submit = QwenASRSubmitTranscriptionOperator(
        task_id="submit",
        model="fun-asr",
        file_urls=[f"{AUDIO}/standup.wav?audio_seconds=30", f"{AUDIO}/missing.wav?fail=FILE_404_NOT_FOUND"],
        parameters={"diarization_enabled": True, "speaker_count": 2},
        wait_for_completion=True,
        deferrable=False,
        poll_interval=1,
    )
    fetch = QwenASRFetchTranscriptionOperator(
        task_id="fetch",
        asr_task_id=submit.output,
        output_path="file://" + OUT + "/{{ dag.dag_id }}",
        output_formats=["json", "txt", "srt", "vtt", "jsonl"],
        outlets=[TRANSCRIPTS],
    )

    @task(inlets=[TRANSCRIPTS])
    def report(manifest: dict[str, Any], **context: Any) -> None:
        """Print the manifest and the outlet event's extra for the test to read."""
        print("FETCH_MANIFEST=" + json.dumps(manifest, sort_keys=True))
        events = context["inlet_events"][TRANSCRIPTS]
        extra = dict(events[-1].extra) if len(events) else None
        print("ASSET_EXTRA=" + json.dumps(extra, sort_keys=True))

    report(fetch.output)
