"""``QwenASRTranscribeOperator``: submit, wait and fetch in one task."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_qwenasr._compat import default_deferrable
from airflow_provider_qwenasr.exceptions import QwenASRInputError
from airflow_provider_qwenasr.failure_record import records_failure
from airflow_provider_qwenasr.operators.submit import QwenASRSubmitTranscriptionOperator
from airflow_provider_qwenasr.results.fetch import (
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_MAX_XCOM_BYTES,
    DEFAULT_OUTPUT_FORMATS,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_qwenasr.models import AsrTask

__all__ = ["QwenASRTranscribeOperator"]


class QwenASRTranscribeOperator(QwenASRSubmitTranscriptionOperator):
    """Transcribe audio in one task: submit, wait (deferred by default), fetch to XCom and storage.

    For users who want one box in the graph. It has the submit operator's arguments and guarantees
    (exactly-once submit through ``task_state_store``, cancel on timeout, ``audio_path``) and the
    fetch operator's outputs (``output_path``, ``output_formats``, ``xcom_output``…), and returns
    the same manifest as :class:`~airflow_provider_qwenasr.operators.fetch.QwenASRFetchTranscriptionOperator`.

    Unlike the submit operator it always waits for completion (``wait_for_completion=False`` is
    refused: use the submit operator to submit without waiting). The wait defers to the triggerer
    (holding no worker slot) when ``deferrable``, whose default is ``[operators]
    default_deferrable``, as for every deferrable operator; else it waits in the worker.

    :param output_path: where to write the outputs (templated ``ObjectStoragePath`` URI); ``None``
        writes nothing and returns the manifest only.
    :param output_conn_id: the object store's connection.
    :param output_formats: any of ``json``, ``txt``, ``srt``, ``vtt``, ``jsonl``.
    :param xcom_output: ``manifest``, ``text`` or ``full`` (see the fetch operator).
    :param max_xcom_bytes: the largest ``text``/``full`` return value accepted.
    :param max_result_bytes: the largest result file accepted.
    :param format_options: renderer options per format, e.g. ``{"srt": {"max_line_chars": 32}}``.
    """

    template_fields: Sequence[str] = (
        *QwenASRSubmitTranscriptionOperator.template_fields,
        "output_path",
        "output_conn_id",
        "output_formats",
        "xcom_output",
        "format_options",
    )
    template_fields_renderers = {
        **QwenASRSubmitTranscriptionOperator.template_fields_renderers,
        "format_options": "json",
    }
    ui_color = "#b2f2bb"
    needs_task_on_success = True

    def __init__(
        self,
        *,
        output_path: str | None = None,
        output_conn_id: str | None = None,
        output_formats: Sequence[str] | str = DEFAULT_OUTPUT_FORMATS,
        xcom_output: str = "manifest",
        max_xcom_bytes: int = DEFAULT_MAX_XCOM_BYTES,
        max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
        format_options: Mapping[str, Mapping[str, Any]] | None = None,
        deferrable: bool = default_deferrable(),
        **kwargs: Any,
    ) -> None:
        if not kwargs.pop("wait_for_completion", True):
            raise QwenASRInputError(
                "QwenASRTranscribeOperator always waits for the transcription: wait_for_completion=False "
                "cannot hold",
                hint="Drop wait_for_completion, or use QwenASRSubmitTranscriptionOperator to submit "
                "without waiting (then QwenASRTaskSensor and QwenASRFetchTranscriptionOperator)",
            )
        super().__init__(wait_for_completion=True, deferrable=deferrable, **kwargs)
        self.output_path = output_path
        self.output_conn_id = output_conn_id
        self.output_formats = output_formats
        self.xcom_output = xcom_output
        self.max_xcom_bytes = max_xcom_bytes
        self.max_result_bytes = max_result_bytes
        self.format_options = format_options

    @records_failure
    def execute(self, context: Context) -> Any:
        """Check the output options before anything is billed, then submit, wait and fetch."""
        from airflow_provider_qwenasr.operators.fetch import check_fetch_options

        check_fetch_options(self)
        return super().execute(context)

    def on_success(self, context: Context, asr_task_id: str, task: AsrTask | None) -> Any:
        """Fetch the finished task's results (from a fresh query) and return the manifest."""
        from airflow_provider_qwenasr.operators.fetch import fetch_outputs

        fresh = task if task is not None and task.files else self.hook.get_task(asr_task_id)
        return fetch_outputs(self, self.hook, fresh, context)
