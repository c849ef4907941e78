"""Fun-ASR with several files in one task and speaker diarization; a file that fails does not
lose the others (``allow_partial_failure``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_qwenasr.operators.qwen_asr import (
    QwenASRFetchTranscriptionOperator,
    QwenASRSubmitTranscriptionOperator,
)

INTERVIEWS = [
    "https://example.com/interviews/alice.wav",
    "https://example.com/interviews/bob.wav",
]

with DAG(
    dag_id="example_qwenasr_funasr_diarization",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "qwen-asr"],
    doc_md=__doc__,
):
    # [START howto_qwenasr_funasr_diarization]
    submit = QwenASRSubmitTranscriptionOperator(
        task_id="submit",
        model="fun-asr",
        file_urls=INTERVIEWS,
        parameters={"diarization_enabled": True, "speaker_count": 2, "language_hints": ["en"]},
        wait_for_completion=True,
        deferrable=True,
        poll_interval=2,
    )
    fetch = QwenASRFetchTranscriptionOperator(
        task_id="fetch",
        asr_task_id=submit.output,
        output_path="{{ var.value.get('qwenasr_output_path', 'file:///tmp/qwenasr') }}/interviews",
        output_formats=["txt", "vtt", "jsonl"],
        allow_partial_failure=True,
    )
    # [END howto_qwenasr_funasr_diarization]

    @task
    def speakers(manifest: dict[str, Any]) -> dict[str, list[int | str]]:
        """Which speakers each interview has, and which files failed."""
        found = {f["name"]: f["speakers"] for f in manifest["files"] if f["status"] == "SUCCEEDED"}
        failed = [f["file_url"] for f in manifest["files"] if f["status"] != "SUCCEEDED"]
        print(f"SPEAKERS={found} FAILED={failed}")
        return found

    speakers(fetch.output)
