"""Lineage: each task's OpenLineage event names the audio it read and every transcript it wrote.

Install ``apache-airflow-providers-openlineage`` and give it a transport, e.g. a file::

    AIRFLOW__OPENLINEAGE__TRANSPORT='{"type": "file", "log_file_path": "/tmp/ol.jsonl", "append": true}'

Then each task's COMPLETE (or FAIL) event has the audio as its input dataset (``https://host``,
``/path``: never the URL's query, which may be a signature), one output dataset per object written,
and a ``qwenAsr`` run facet (model, DashScope task id, billed seconds, each file's status). Nothing
changes without OpenLineage. The connection comes from ``AIRFLOW_CONN_QWEN_ASR_DEFAULT``; the audio
URL from the Variable ``qwenasr_audio_url``, the output folder from ``qwenasr_output_path``. (Not
from the run's conf: the OpenLineage provider copies a run's conf into every event, so a signed URL
passed there would be in them.)
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_qwenasr.operators.qwen_asr import (
    QwenASRFetchTranscriptionOperator,
    QwenASRSubmitTranscriptionOperator,
    QwenASRTranscribeOperator,
)

WELCOME = "https://dashscope.oss-cn-beijing.aliyuncs.com/audios/welcome.mp3"
AUDIO_URL = "{{ var.value.get('qwenasr_audio_url', '" + WELCOME + "') }}"
OUTPUT = "{{ var.value.get('qwenasr_output_path', 'file:///tmp/qwenasr') }}/lineage"

with DAG(
    dag_id="example_qwenasr_lineage",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "qwen-asr"],
    doc_md=__doc__,
):
    # [START howto_qwenasr_lineage]
    # Input: the audio. Output: none (a DashScope task is not a dataset). Run facet: the task.
    submit = QwenASRSubmitTranscriptionOperator(
        task_id="submit",
        file_url=AUDIO_URL,
        wait_for_completion=True,
    )
    # Input: the task's audio. Outputs: {output_path}/{asr_task_id}/{stem}.txt and .srt.
    fetch = QwenASRFetchTranscriptionOperator(
        task_id="fetch",
        asr_task_id=submit.output,
        output_path=OUTPUT + "/two-steps",
        output_formats=["txt", "srt"],
    )
    # The one-shot operator: the audio in, the objects written out, in one event.
    transcribe = QwenASRTranscribeOperator(
        task_id="transcribe",
        file_url=AUDIO_URL,
        output_path=OUTPUT + "/one-shot",
        output_formats=["json", "txt"],
    )
    # [END howto_qwenasr_lineage]
