"""``QwenASRFetchTranscriptionOperator``: a finished task's transcript into XCom and object storage."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from airflow.exceptions import AirflowProviderDeprecationWarning
from airflow.sdk import BaseOperator

from airflow_provider_qwenasr.failure_record import records_failure
from airflow_provider_qwenasr.hooks.base import HookBase
from airflow_provider_qwenasr.lineage.record import record_of
from airflow_provider_qwenasr.operators.links import QwenASRTranscriptLink
from airflow_provider_qwenasr.results.fetch import (
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_MAX_XCOM_BYTES,
    DEFAULT_OUTPUT_FORMATS,
)

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
    from airflow_provider_qwenasr.models import AsrTask

__all__ = [
    "FetchOptions",
    "FetchTranscriptionOperator",
    "QwenASRFetchTranscriptionOperator",
    "attach_outlet_events",
    "check_fetch_options",
    "fetch_outputs",
]


class QwenASRFetchTranscriptionOperator(BaseOperator):
    """Fetch the results of a finished DashScope transcription task and write them where they are used.

    The task is queried again for a fresh signed result URL (the URL itself never travels through
    XCom or trigger events), each file's result is streamed to a local temporary file, rendered in the
    requested formats, and written to ``output_path`` atomically as
    ``{output_path}/{asr_task_id}/{stem}.{ext}``, where ``stem`` comes from the input file's name.
    The return value (XCom) is a small manifest: statistics per file and the URIs written. See
    ``docs/fetch.md`` for the naming rule, the manifest and the errors.

    With Asset outlets, each ``Asset`` outlet's event gets ``{"asr_task_id", "outputs",
    "output_conn_id"}`` as extra, and each ``AssetAlias`` outlet gets one event per written URI.

    :param asr_task_id: the DashScope task id (templated), e.g. ``submit.output``.
    :param qwen_asr_conn_id: the ``qwen_asr`` connection.
    :param output_path: where to write (templated): an ``ObjectStoragePath`` URI such as
        ``s3://bucket/transcripts/{{ ds }}`` or ``file:///data/out``. ``None`` writes nothing.
    :param output_conn_id: the connection of the object store, e.g. an ``aws`` connection.
    :param output_formats: any of ``json`` (the original bytes, an audio URL's query cut),
        ``txt``, ``srt``, ``vtt``, ``jsonl``
        (templated; a comma-separated string works too).
    :param xcom_output: ``manifest`` (default), ``text`` (adds each file's text) or ``full`` (adds each
        file's whole parsed result).
    :param max_xcom_bytes: a ``text`` or ``full`` return value above this many bytes is refused with
        an error (the outputs already written are kept and named in it).
    :param max_result_bytes: a result file above this many bytes is refused.
    :param allow_partial_failure: for Fun-ASR tasks where some files failed: True returns a manifest
        with each file's status; False fails the task after writing the outputs of the good files.
    :param format_options: renderer options per format, e.g. ``{"srt": {"max_line_chars": 32}}``.
    :param hook_params: extra keyword arguments for :class:`QwenASRHook` (``max_retries``, ``timeout``…).
    """

    template_fields: Sequence[str] = (
        "asr_task_id",
        "qwen_asr_conn_id",
        "output_path",
        "output_formats",
        "output_conn_id",
        "xcom_output",
        "format_options",
    )
    template_fields_renderers = {"format_options": "json"}
    ui_color = "#e8f4ff"
    operator_extra_links = (QwenASRTranscriptLink(),)

    def __init__(
        self,
        *,
        asr_task_id: str,
        qwen_asr_conn_id: str = HookBase.default_conn_name,
        output_path: str | None = None,
        output_conn_id: str | None = None,
        output_formats: Sequence[str] | str = DEFAULT_OUTPUT_FORMATS,
        xcom_output: str = "manifest",
        max_xcom_bytes: int = DEFAULT_MAX_XCOM_BYTES,
        max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
        allow_partial_failure: bool = True,
        format_options: Mapping[str, Mapping[str, Any]] | None = None,
        hook_params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.asr_task_id = asr_task_id
        self.qwen_asr_conn_id = qwen_asr_conn_id
        self.output_path = output_path
        self.output_conn_id = output_conn_id
        self.output_formats = output_formats
        self.xcom_output = xcom_output
        self.max_xcom_bytes = max_xcom_bytes
        self.max_result_bytes = max_result_bytes
        self.allow_partial_failure = allow_partial_failure
        self.format_options = format_options
        self.hook_params = dict(hook_params or {})

    @cached_property
    def hook(self) -> QwenASRHook:
        """The sync hook on ``qwen_asr_conn_id``, created on first use (not at DAG parse time)."""
        from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook

        return QwenASRHook(self.qwen_asr_conn_id, **self.hook_params)

    @records_failure
    def execute(self, context: Context) -> dict[str, Any]:
        """Query the task, fetch and write its results, and return the manifest."""
        from airflow_provider_qwenasr.protocol import validate_task_id

        asr_task_id = validate_task_id(self.asr_task_id)
        record_of(self).asr_task_id = asr_task_id
        # Checked before the query, so a typo fails without touching the service.
        check_fetch_options(self)
        hook = self.hook
        try:
            return fetch_outputs(self, hook, hook.get_task(asr_task_id), context)
        finally:
            hook.close()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """OpenLineage (called by its listener): the task's audio in, every object written out, the run facet.

        See ``docs/lineage.md``; built by :func:`airflow_provider_qwenasr.lineage.facets.operator_lineage`.
        """
        from airflow_provider_qwenasr.lineage.facets import operator_lineage

        return operator_lineage(record_of(self))

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage:
        """OpenLineage for a failed try: the same datasets and run facet, and the error."""
        from airflow_provider_qwenasr.lineage.facets import operator_lineage

        return operator_lineage(record_of(self), failed=True)


class FetchTranscriptionOperator(QwenASRFetchTranscriptionOperator):
    """Deprecated: the old name of :class:`QwenASRFetchTranscriptionOperator` (the same operator)."""

    def __init__(self, **kwargs: Any) -> None:
        warnings.warn(
            "FetchTranscriptionOperator is deprecated: use QwenASRFetchTranscriptionOperator "
            "(the same operator, with the prefix the provider's other operators carry)",
            AirflowProviderDeprecationWarning,
            stacklevel=2,
        )
        super().__init__(**kwargs)


class FetchOptions(Protocol):
    """What an operator that fetches results holds: the fetch operator and the one-shot operator."""

    @property
    def output_path(self) -> str | None: ...
    @property
    def output_conn_id(self) -> str | None: ...
    @property
    def output_formats(self) -> Sequence[str] | str: ...
    @property
    def xcom_output(self) -> str: ...
    @property
    def max_xcom_bytes(self) -> int: ...
    @property
    def max_result_bytes(self) -> int: ...
    @property
    def allow_partial_failure(self) -> bool: ...
    @property
    def format_options(self) -> Mapping[str, Mapping[str, Any]] | None: ...
    @property
    def outlets(self) -> Sequence[Any]: ...
    @property
    def log(self) -> Any: ...


def check_fetch_options(operator: FetchOptions) -> tuple[str, ...]:
    """Check every fetch option before anything is queried or billed: the one shared check.

    Formats, ``xcom_output``, ``max_xcom_bytes``, ``max_result_bytes``, ``format_options`` and the
    output target (its connection, and a probe object created and removed under it).

    :raises QwenASRInputError: naming the argument and the fix.
    """
    from airflow_provider_qwenasr.results.options import (
        check_format_options,
        check_options,
        normalize_formats,
    )
    from airflow_provider_qwenasr.results.target import check_output_target

    formats = normalize_formats(operator.output_formats)
    check_options(operator.xcom_output, operator.max_xcom_bytes, operator.max_result_bytes)
    check_format_options(operator.format_options, formats)
    if operator.output_path:
        check_output_target(operator.output_path, operator.output_conn_id or None)
    return formats


def fetch_outputs(
    operator: FetchOptions, hook: QwenASRHook, task: AsrTask, context: Context
) -> dict[str, Any]:
    """Fetch a freshly queried task's results with the operator's options; return the manifest.

    The written URIs also go onto the operator's outlet events (:func:`attach_outlet_events`), and
    the task and the manifest into its lineage record (:mod:`airflow_provider_qwenasr.lineage.record`).
    """
    from airflow_provider_qwenasr.results.fetch import fetch_transcription_outputs

    record = record_of(operator)
    record.note_task(task)
    manifest = fetch_transcription_outputs(
        hook,
        task,
        output_path=operator.output_path or None,
        output_conn_id=operator.output_conn_id or None,
        output_formats=operator.output_formats,
        xcom_output=operator.xcom_output,
        max_xcom_bytes=operator.max_xcom_bytes,
        max_result_bytes=operator.max_result_bytes,
        allow_partial_failure=operator.allow_partial_failure,
        format_options=operator.format_options,
        log=operator.log,
    )
    record.manifest = manifest
    _sign(operator, context, manifest)
    attach_outlet_events(operator, context, manifest)
    return manifest


def _sign(operator: FetchOptions, context: Context, manifest: dict[str, Any]) -> None:
    """Sign the outputs for the UI (:mod:`~airflow_provider_qwenasr.output_signing`)."""
    from airflow_provider_qwenasr.output_signing import OutputOwner, sign_manifest

    ti = context.get("ti")
    if ti is None or not manifest.get("outputs"):
        return
    if not sign_manifest(manifest, OutputOwner.of(ti)):
        operator.log.warning(
            "Neither [qwen_asr] ui_signing_key nor [core] fernet_key is set on this worker: the "
            "outputs are not signed, and the Transcript tab will not serve them"
        )


def attach_outlet_events(operator: FetchOptions, context: Context, manifest: Mapping[str, Any]) -> None:
    """Put the written URIs on the operator's outlet events, so downstream DAGs can use them.

    Each ``Asset`` outlet's event gets ``{"asr_task_id", "outputs", "output_conn_id"}`` as extra;
    each ``AssetAlias`` outlet gets one event per written URI.
    """
    if not operator.outlets:
        return
    from airflow.sdk import Asset, AssetAlias

    events = context.get("outlet_events")
    if events is None:
        return
    extra = {
        "asr_task_id": manifest["asr_task_id"],
        "outputs": list(manifest["outputs"]),
        "output_conn_id": manifest["output_conn_id"],
    }
    for outlet in operator.outlets:
        if isinstance(outlet, AssetAlias):
            for uri in manifest["outputs"]:
                events[outlet].add(Asset(uri=uri), extra={"asr_task_id": manifest["asr_task_id"]})
        elif isinstance(outlet, Asset):
            events[outlet].extra.update(extra)
