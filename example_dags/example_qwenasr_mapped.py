"""Transcribe many recordings in parallel with dynamic task mapping: one DashScope task per file.

Every mapped fetch writes under its own DashScope task id, so the outputs never overwrite each other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_qwenasr.operators.qwen_asr import (
    QwenASRFetchTranscriptionOperator,
    QwenASRSubmitTranscriptionOperator,
)
from airflow_provider_qwenasr.sensors.qwen_asr import QwenASRTaskSensor

CALLS = [
    "https://example.com/calls/2026-01-05-support-0001.wav",
    "https://example.com/calls/2026-01-05-support-0002.wav",
    "https://example.com/calls/2026-01-05-support-0003.wav",
]

with DAG(
    dag_id="example_qwenasr_mapped",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "qwen-asr"],
    doc_md=__doc__,
):
    # [START howto_qwenasr_mapped]
    submit = QwenASRSubmitTranscriptionOperator.partial(
        task_id="submit", model="qwen3-asr-flash-filetrans"
    ).expand(file_url=CALLS)

    wait = QwenASRTaskSensor.partial(
        task_id="wait", deferrable=True, poke_interval=2, max_poll_interval=30
    ).expand(asr_task_id=submit.output)

    fetch = QwenASRFetchTranscriptionOperator.partial(
        task_id="fetch",
        output_path="{{ var.value.get('qwenasr_output_path', 'file:///tmp/qwenasr') }}/calls",
        output_formats=["txt", "jsonl"],
    ).expand(asr_task_id=submit.output)
    # [END howto_qwenasr_mapped]

    @task
    def report(manifests: list[dict[str, Any]]) -> dict[str, int]:
        """Sum up the batch: how many calls, seconds of audio and characters of text."""
        totals = {
            "calls": len(manifests),
            "audio_seconds": round(sum(m["totals"]["duration_ms"] or 0 for m in manifests) / 1000),
            "characters": sum(m["totals"]["characters"] for m in manifests),
        }
        print(f"BATCH_TOTALS={totals}")
        return totals

    wait >> fetch
    report(fetch.output)
