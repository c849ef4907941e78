"""Words the recognizer must get right: a hot-word table for a Fun-ASR batch, a context text for
Qwen3-ASR and instant hot words for Qwen-Audio.

The table is made from ``example_qwenasr_hot_words.json`` beside this file. Run it again and the same
table is reused (not created twice); change the file and the table is updated in place. The
``delete_table`` param (default on) deletes it at the end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_qwenasr.operators.qwen_asr import (
    QwenASRCreateVocabularyOperator,
    QwenASRDeleteVocabularyOperator,
    QwenASRTranscribeOperator,
)

OUTPUT = "{{ var.value.get('qwenasr_output_path', 'file:///tmp/qwenasr') }}/hot-words"
BATCHES = [
    ["https://example.com/standups/2026-01-05-a.wav", "https://example.com/standups/2026-01-05-b.wav"],
    ["https://example.com/standups/2026-01-06-a.wav"],
]

with DAG(
    dag_id="example_qwenasr_hot_words",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "qwen-asr"],
    params={"delete_table": Param(True, type="boolean", description="Delete the table at the end")},
    doc_md=__doc__,
):
    # [START howto_qwenasr_hot_word_table]
    table = QwenASRCreateVocabularyOperator(
        task_id="hot_word_table",
        target_model="fun-asr",  # the model that will use it
        prefix="standups",  # 1-10 of a-z0-9; the same prefix and words reuse the table
        vocabulary_file="example_qwenasr_hot_words.json",  # beside the DAG file
    )
    batch = QwenASRTranscribeOperator.partial(
        task_id="transcribe_batch",
        model="fun-asr",
        vocabulary_id=table.output,
        output_path=OUTPUT + "/batch",
        output_formats=["txt"],
        poll_interval=2,
    ).expand(file_urls=BATCHES)
    # [END howto_qwenasr_hot_word_table]

    @task
    def agenda() -> str:
        """What the meeting is about: names and terms the recognizer should expect."""
        return "Weekly review of the Qwen-ASR provider: DashScope quotas, the triggerer, Airflow 3."

    # [START howto_qwenasr_context]
    qwen3 = QwenASRTranscribeOperator(
        task_id="transcribe_with_context",
        model="qwen3-asr-flash-filetrans",
        file_url="https://example.com/meetings/review.wav",
        context="{{ ti.xcom_pull(task_ids='agenda') }}",  # or context_file="agenda.txt"
        output_path=OUTPUT + "/context",
        output_formats=["txt"],
        poll_interval=2,
    )
    qwen_audio = QwenASRTranscribeOperator(
        task_id="transcribe_with_hot_words",
        model="qwen-audio-3.1-asr-flash-filetrans",
        file_url="https://example.com/meetings/review.wav",
        hot_words={"Qwen-ASR": 5, "DashScope": 4},
        output_path=OUTPUT + "/hot-words",
        output_formats=["txt"],
        poll_interval=2,
    )
    agenda() >> qwen3
    # [END howto_qwenasr_context]

    @task.short_circuit(trigger_rule="all_done")
    def delete_wanted(**context: Any) -> bool:
        """Go on to the delete when there is a table and the run's ``delete_table`` param says so."""
        made = context["ti"].xcom_pull(task_ids="hot_word_table")
        return bool(made and context["params"]["delete_table"])

    delete = QwenASRDeleteVocabularyOperator(task_id="delete_table", vocabulary_id=table.output)

    @task
    def report(manifests: list[dict[str, Any]], table_id: str) -> None:
        """Print what the batch wrote and which table it used."""
        outputs = [uri for m in manifests for uri in m["outputs"]]
        print(f"HOT_WORD_TABLE={table_id} BATCH_OUTPUTS={len(outputs)}")

    report(batch.output, table.output)
    [batch, qwen3, qwen_audio] >> delete_wanted() >> delete
