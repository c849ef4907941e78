"""The OpenLineage objects the operators return: the datasets, the ``qwenAsr`` run facet, the error.

The one module of the package that imports OpenLineage (``apache-airflow-providers-openlineage``):
only the operators' ``get_openlineage_facets_on_complete``/``_on_failure`` import it, when the
listener calls them, so nothing of OpenLineage loads while a DAG file is parsed.

* inputs: the audio, by :func:`~airflow_provider_qwenasr.lineage.naming.dataset_name`;
* outputs: every object the fetch wrote (the manifest's ``outputs``), one dataset each;
* run facets: ``qwenAsr`` (:class:`QwenASRRunFacet`: model, DashScope task id and status, billed
  seconds, each file's status and code, the error's code) and, on failure, ``errorMessage``.

Every string is free of URL queries and of the secrets Airflow masks
(:func:`~airflow_provider_qwenasr.masking.scrub`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow.providers.common.compat.openlineage.facet import Dataset, ErrorMessageRunFacet, RunFacet
from airflow.providers.openlineage.extractors import OperatorLineage
from attrs import define, field

from airflow_provider_qwenasr.exceptions import redact_url
from airflow_provider_qwenasr.lineage.naming import dataset_names
from airflow_provider_qwenasr.lineage.record import LineageRecord
from airflow_provider_qwenasr.masking import scrub

__all__ = ["FACET_NAME", "QwenASRRunFacet", "operator_lineage"]

#: The key of :class:`QwenASRRunFacet` among a run's facets.
FACET_NAME = "qwenAsr"
#: Names the facet's shape (``docs/lineage.md`` describes each field); bumped when a field changes.
SCHEMA_URL = "https://pypi.org/project/airflow-provider-qwenasr/#/$defs/QwenASRRunFacet/1-0-0"


@define
class QwenASRRunFacet(RunFacet):
    """The DashScope side of a run: the model, the task, what was billed, how each file ended.

    Fields are camelCase, as OpenLineage's own facets are. ``None`` where the try never learnt it
    (the fetch operator does not know the model; a submit that does not wait has no usage yet).
    """

    model: str | None = field(default=None)
    asrTaskId: str | None = field(default=None)
    #: DashScope's task status: ``SUCCEEDED``, ``FAILED``, ``RUNNING``…
    taskStatus: str | None = field(default=None)
    #: Billed audio seconds (the task's ``usage.seconds``).
    usageSeconds: float | None = field(default=None)
    #: ``[{"index", "fileUrl", "status", "code"}]``: each input file, its URL without its query.
    files: list[dict[str, Any]] = field(factory=list)
    #: The provider's error, on failure: ``{"type", "code", "requestId", "httpStatus"}``.
    error: dict[str, Any] | None = field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA_URL


def operator_lineage(
    record: LineageRecord,
    *,
    model: str | None = None,
    audio: Iterable[str | None] = (),
    failed: bool = False,
) -> OperatorLineage:
    """The ``OperatorLineage`` of a try: its audio in, the objects it wrote out, its facets.

    :param record: what the try learnt (:func:`~airflow_provider_qwenasr.lineage.record.record_of`).
    :param model: the model the operator submits to (the fetch operator does not know it).
    :param audio: the audio locations the operator was given (``audio_path``, else the URLs); without
        them the inputs are the files the task or the manifest lists.
    :param failed: for ``get_openlineage_facets_on_failure``: add ``errorMessage`` when the try
        failed with a provider error.
    """
    manifest = record.manifest or {}
    audio = list(audio)
    if not audio:
        audio = [f.get("file_url") for f in manifest.get("files", ())] or [
            f.file_url for f in (record.task.files if record.task else ())
        ]
    run_facets: dict[str, RunFacet] = {FACET_NAME: _run_facet(record, model)}
    if failed and record.error is not None:
        run_facets["errorMessage"] = ErrorMessageRunFacet(
            message=scrub(str(record.error)), programmingLanguage="python"
        )
    return OperatorLineage(
        inputs=_datasets(audio),
        outputs=_datasets(manifest.get("outputs", ())),
        run_facets=run_facets,
    )


def _datasets(locations: Iterable[str | None]) -> list[Dataset]:
    return [Dataset(namespace=d.namespace, name=d.name) for d in dataset_names(locations)]


def _run_facet(record: LineageRecord, model: str | None) -> QwenASRRunFacet:
    manifest, task, error = record.manifest or {}, record.task, record.error
    usage = manifest.get("usage_seconds", task.usage_seconds if task else None)
    error_facet = None
    if error is not None:
        error_facet = {
            "type": type(error).__name__,
            "code": error.code,
            "requestId": error.request_id,
            "httpStatus": error.http_status,
        }
    return QwenASRRunFacet(
        model=model,
        asrTaskId=record.asr_task_id or manifest.get("asr_task_id") or (error.task_id if error else None),
        taskStatus=manifest.get("status") or (task.raw_status if task else None),
        usageSeconds=usage,
        files=scrub(_files(manifest.get("files"), task)),
        error=scrub(error_facet),
    )


def _files(manifest_files: Sequence[Mapping[str, Any]] | None, task: Any) -> list[dict[str, Any]]:
    """Each file's index, URL (no query), status and code: from the manifest, else the queried task."""
    if manifest_files:
        return [
            {
                "index": f.get("index"),
                "fileUrl": f.get("file_url"),
                "status": f.get("status"),
                "code": f.get("code"),
            }
            for f in manifest_files
        ]
    return [
        {
            "index": index,
            "fileUrl": redact_url(file.file_url) if file.file_url else None,
            "status": file.status.value,
            "code": file.code,
        }
        for index, file in enumerate(task.files if task is not None else ())
    ]
