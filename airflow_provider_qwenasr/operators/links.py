"""The operators' extra link: **Transcript**, on a task instance's page, to its Transcript tab.

Airflow 3 computes an operator's extra links in the worker, when a try ends (and again when a
deferred try resumes), and stores each one in XCom (``_link_QwenASRTranscriptLink``); the
api-server's ``…/taskInstances/{task_id}/links`` endpoint only reads that string back, and the UI
hides a link whose string is empty. So the link is built from configuration, not from a request:
``[api] base_url`` (the UI's address; unset, the link is a path from the site's root, as Airflow's
own links are).

The link is there only when the tab has something to show: the task instance returned a
transcription manifest (the fetch and the one-shot operators), or recorded a failure
(:mod:`~airflow_provider_qwenasr.failure_record`: any provider operator, and the sensor). A
submit or a sensor that succeeded has no transcript of its own (the fetch task has it), and
``[qwen_asr] ui_enabled = False`` leaves nothing to link to. It holds the DAG, run and task ids
and the map index: nothing signed, no key.

DashScope documents no console page for a transcription task, so there is no console link.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

__all__ = ["QwenASRTranscriptLink", "has_transcript_page", "transcript_link"]

log = logging.getLogger(__name__)

#: The XCom key of a task's return value (``BaseXCom.XCOM_RETURN_KEY``).
_RETURN_KEY = "return_value"


def transcript_link(dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """The URL of a task instance's Transcript tab (``map_index`` -1: an unmapped instance).

    On Airflow >= 3.1 it is the task instance's page in the UI, opened on the tab; Airflow 3.0 has no
    plugin tabs, so there it is the page the tab shows (``/qwen-asr/ti/…``). Both start with
    ``[api] base_url``, or with ``/`` when that is unset.
    """
    from airflow_provider_qwenasr._compat import airflow_at_least, conf
    from airflow_provider_qwenasr.ui.routes import TRANSCRIPT, URL_PREFIX, fill, segment, ui_task_tab_path

    base = (conf.get("api", "base_url", fallback=None) or "/").rstrip("/") + "/"
    if airflow_at_least("3.1"):
        return base + ui_task_tab_path(dag_id, run_id, task_id, map_index)
    ids = {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index}
    return base + URL_PREFIX.lstrip("/") + fill(TRANSCRIPT, **{k: segment(v) for k, v in ids.items()})


def has_transcript_page(ti_key: TaskInstanceKey) -> bool:
    """Whether the task instance's Transcript tab shows more than "no transcript".

    True when its return value is a manifest, or when its try recorded a failure.
    """
    from airflow.sdk.execution_time.xcom import resolve_xcom_backend

    from airflow_provider_qwenasr.failure_record import FAILURE_XCOM_KEY
    from airflow_provider_qwenasr.results.manifest import is_manifest

    # The deployment's XCom backend, as the task itself pushed through it.
    xcom = resolve_xcom_backend()
    if is_manifest(xcom.get_value(ti_key=ti_key, key=_RETURN_KEY)):
        return True
    return xcom.get_value(ti_key=ti_key, key=FAILURE_XCOM_KEY) is not None


class QwenASRTranscriptLink(BaseOperatorLink):
    """**Transcript**: the task instance's Transcript tab, when it has a transcript or a failure to show.

    On the submit operator (and so the one-shot operator), the fetch operator and the sensor
    (:class:`~airflow_provider_qwenasr.operators.submit.QwenASRSubmitTranscriptionOperator`,
    :class:`~airflow_provider_qwenasr.operators.fetch.QwenASRFetchTranscriptionOperator`,
    :class:`~airflow_provider_qwenasr.sensors.qwen_asr.QwenASRTaskSensor`); each mapped instance
    gets its own (``/mapped/{map_index}``). See ``docs/ui.md``.
    """

    name = "Transcript"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """The tab's URL (:func:`transcript_link`), or ``""`` (hidden) when there is nothing to show.

        Never raises: on Airflow 3.0 an error here would fail the try that computes the link.
        """
        try:
            from airflow_provider_qwenasr.ui.plugin import ui_enabled

            if not ui_enabled() or not has_transcript_page(ti_key):
                return ""
            return transcript_link(ti_key.dag_id, ti_key.run_id, ti_key.task_id, _map_index(ti_key))
        except Exception as exc:  # a link is never worth a failed task
            log.warning("No Transcript link for %s: %s", getattr(ti_key, "task_id", "?"), type(exc).__name__)
            return ""


def _map_index(ti_key: Any) -> int:
    index = getattr(ti_key, "map_index", -1)
    return -1 if index is None else int(index)
