"""What a try learnt, kept on the operator until the OpenLineage listener reads it.

The listener calls ``get_openlineage_facets_on_complete``/``_on_failure`` on the same operator object
that ran, in the same process, after the try ended; it gets no return value and no exception. So the
operators note here, as they go, the DashScope task (its id, status, usage and files), the fetch's
manifest (the objects written) and the error the try failed with. A deferred try resumes in a new
process, where the record starts empty again and is filled by ``execute_complete``. Nothing here
imports OpenLineage, and noting costs an attribute write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_qwenasr.exceptions import QwenASRError
    from airflow_provider_qwenasr.models import AsrTask

__all__ = ["LineageRecord", "record_of"]

_ATTRIBUTE = "_qwen_asr_lineage"


@dataclass
class LineageRecord:
    """The DashScope task, the manifest and the error of the operator's current try, as far as known."""

    #: The DashScope task id, once submitted (or reattached, or named by a trigger event).
    asr_task_id: str | None = None
    #: The task as last queried: status, ``usage_seconds``, files.
    task: AsrTask | None = None
    #: The fetch's manifest (``results.manifest.Manifest``): every file and every object written.
    manifest: Mapping[str, Any] | None = None
    #: The provider's error the try failed with.
    error: QwenASRError | None = None

    def note_task(self, task: AsrTask) -> None:
        """Keep ``task`` (a fresh query or a submit's answer) and its id."""
        self.task = task
        self.asr_task_id = task.task_id


def record_of(operator: object) -> LineageRecord:
    """The lineage record of ``operator``'s current try, created on first use."""
    record = getattr(operator, _ATTRIBUTE, None)
    if not isinstance(record, LineageRecord):
        record = LineageRecord()
        object.__setattr__(operator, _ATTRIBUTE, record)
    return record
