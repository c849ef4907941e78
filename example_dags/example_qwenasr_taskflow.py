"""One box in the graph: ``QwenASRTranscribeOperator`` submits, waits (deferred here) and fetches,
and a TaskFlow function uses the text it returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_qwenasr.operators.qwen_asr import QwenASRTranscribeOperator

with DAG(
    dag_id="example_qwenasr_taskflow",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "qwen-asr"],
    doc_md=__doc__,
):
    # [START howto_operator_qwenasr_transcribe]
    transcribe = QwenASRTranscribeOperator(
        task_id="transcribe",
        file_url="https://example.com/podcasts/episode-42.mp3",
        parameters={"language": "en"},
        output_path="{{ var.value.get('qwenasr_output_path', 'file:///tmp/qwenasr') }}/podcasts",
        output_formats=["json", "srt"],
        xcom_output="text",
        poll_interval=2,
        deferrable=True,  # the default is [operators] default_deferrable
    )
    # [END howto_operator_qwenasr_transcribe]

    @task
    def count_words(manifest: dict[str, Any]) -> int:
        """A downstream step on the text itself (xcom_output="text" put it in the manifest)."""
        words = sum(len(item["text"].split()) for item in manifest["files"] if item["status"] == "SUCCEEDED")
        print(f"WORD_COUNT={words}")
        return words

    count_words(transcribe.output)
