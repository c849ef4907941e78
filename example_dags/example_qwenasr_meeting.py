"""Transcribe one recording: submit, wait in the triggerer, fetch to object storage, use the result.

The connection ``qwen_asr_default`` comes from the environment (``AIRFLOW_CONN_QWEN_ASR_DEFAULT``);
the output folder from the Airflow Variable ``qwenasr_output_path`` (default ``file:///tmp/qwenasr``).
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

AUDIO_URL = "https://dashscope.oss-cn-beijing.aliyuncs.com/audios/welcome.mp3"
OUTPUT_PATH = (
    "{{ var.value.get('qwenasr_output_path', 'file:///tmp/qwenasr') }}/meetings/{{ dag_run.run_after | ds }}"
)

with DAG(
    dag_id="example_qwenasr_meeting",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "qwen-asr"],
    doc_md=__doc__,
):
    # [START howto_operator_qwenasr_submit]
    submit = QwenASRSubmitTranscriptionOperator(
        task_id="submit",
        model="qwen3-asr-flash-filetrans",
        file_url=AUDIO_URL,
        parameters={"enable_words": True, "enable_itn": True},
    )
    # [END howto_operator_qwenasr_submit]

    # [START howto_sensor_qwenasr_task]
    wait = QwenASRTaskSensor(
        task_id="wait",
        asr_task_id=submit.output,
        model="qwen3-asr-flash-filetrans",  # optional: the metrics' tag, the status board's filter
        deferrable=True,
        poke_interval=2,
        max_poll_interval=30,
        timeout=6 * 3600,
    )
    # [END howto_sensor_qwenasr_task]

    # [START howto_operator_qwenasr_fetch]
    fetch = QwenASRFetchTranscriptionOperator(
        task_id="fetch",
        asr_task_id=submit.output,
        output_path=OUTPUT_PATH,
        output_formats=["json", "txt", "srt", "vtt"],
    )
    # [END howto_operator_qwenasr_fetch]

    # [START howto_qwenasr_use_manifest]
    @task
    def publish(manifest: dict[str, Any]) -> int:
        """Read the transcript back from object storage through the manifest, and print it."""
        from airflow.sdk import ObjectStoragePath

        print("=== TRANSCRIPT ===")
        for item in manifest["files"]:
            text_uri = item["outputs"]["txt"]
            text = ObjectStoragePath(text_uri, conn_id=manifest["output_conn_id"]).read_text()
            print(f"{item['name']}: {item['duration_ms'] / 1000:.1f} s, languages {item['languages']}")
            print(text.strip())
        print("Written:")
        for uri in manifest["outputs"]:
            print(f"  {uri}")
        print("=== END ===")
        return manifest["totals"]["characters"]

    # [END howto_qwenasr_use_manifest]

    wait >> fetch
    publish(fetch.output)
