"""``QwenASRTranscriptLink.get_link``: the Transcript tab's URL, only when the tab has something to show.

The link reads XCom through the deployment's XCom backend (``[core] xcom_backend``), as a worker
does when it computes links at the end of a try; here that backend is :class:`DictXCom`, whose
values the tests set. The real path (a worker computing it, the api-server's REST endpoint serving
it) is ``tests/ui/test_extra_links.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from airflow.models.taskinstancekey import TaskInstanceKey
from airflow.sdk.bases.xcom import BaseXCom

from airflow_provider_qwenasr import get_provider_info
from airflow_provider_qwenasr.operators.links import QwenASRTranscriptLink, transcript_link
from airflow_provider_qwenasr.operators.qwen_asr import (
    QwenASRFetchTranscriptionOperator,
    QwenASRSubmitTranscriptionOperator,
    QwenASRTranscribeOperator,
)
from airflow_provider_qwenasr.sensors.qwen_asr import QwenASRTaskSensor
from tests.airflow_versions import before_airflow, needs_airflow

RUN_ID = "manual__2025-01-02T03:04:05+00:00"
PLAIN = TaskInstanceKey("meetings", "fetch", RUN_ID, try_number=1, map_index=-1)
MAPPED = TaskInstanceKey("meetings", "fetch", RUN_ID, try_number=1, map_index=2)
MANIFEST = {"asr_task_id": "dash-1", "status": "SUCCEEDED", "files": [], "outputs": []}
TAB = "plugin/qwen-asr-transcript"
ENCODED_RUN = "manual__2025-01-02T03%3A04%3A05%2B00%3A00"


class DictXCom(BaseXCom):
    """An XCom backend over a dict: ``(dag_id, run_id, task_id, map_index, key) -> value``."""

    values: ClassVar[dict[tuple[str, str, str, int, str], Any]] = {}
    fail = False

    @classmethod
    def get_value(cls, *, ti_key: Any, key: str) -> Any:
        """The value the test set, or None (as BaseXCom answers for a missing XCom)."""
        if cls.fail:
            raise ConnectionError("the XCom API is down")
        return cls.values.get((ti_key.dag_id, ti_key.run_id, ti_key.task_id, ti_key.map_index, key))


def _set(ti_key: TaskInstanceKey, key: str, value: Any) -> None:
    DictXCom.values[(ti_key.dag_id, ti_key.run_id, ti_key.task_id, ti_key.map_index, key)] = value


@pytest.fixture(autouse=True)
def xcom(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[DictXCom]]:
    monkeypatch.setenv("AIRFLOW__CORE__XCOM_BACKEND", f"{__name__}.DictXCom")
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    monkeypatch.delenv("AIRFLOW__QWEN_ASR__UI_ENABLED", raising=False)
    DictXCom.values, DictXCom.fail = {}, False
    yield DictXCom
    DictXCom.values = {}


def link(ti_key: TaskInstanceKey) -> str:
    return QwenASRTranscriptLink().get_link(
        QwenASRFetchTranscriptionOperator(task_id="x", asr_task_id="a"), ti_key=ti_key
    )


@needs_airflow("3.1", "the Transcript tab (a plugin external view) arrived in 3.1")
def test_plain_instance_with_a_manifest_links_to_its_tab() -> None:
    _set(PLAIN, "return_value", MANIFEST)
    assert link(PLAIN) == f"/dags/meetings/runs/{ENCODED_RUN}/tasks/fetch/{TAB}"


@needs_airflow("3.1", "the Transcript tab (a plugin external view) arrived in 3.1")
def test_mapped_instance_with_a_manifest_links_to_its_own_tab() -> None:
    _set(MAPPED, "return_value", MANIFEST)
    assert link(MAPPED) == f"/dags/meetings/runs/{ENCODED_RUN}/tasks/fetch/mapped/2/{TAB}"
    assert link(PLAIN) == "", "another instance's manifest is not this one's"


@needs_airflow("3.1", "the Transcript tab (a plugin external view) arrived in 3.1")
def test_base_url_makes_the_link_absolute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/team-a/")
    _set(MAPPED, "return_value", MANIFEST)
    assert link(MAPPED) == (
        f"https://airflow.example.com/team-a/dags/meetings/runs/{ENCODED_RUN}/tasks/fetch/mapped/2/{TAB}"
    )


@before_airflow("3.1", "Airflow 3.0 has no plugin tabs")
def test_airflow_3_0_links_to_the_page_the_tab_would_show() -> None:
    _set(PLAIN, "return_value", MANIFEST)
    _set(MAPPED, "return_value", MANIFEST)
    assert link(PLAIN) == f"/qwen-asr/ti/meetings/{ENCODED_RUN}/fetch/-1"
    assert link(MAPPED) == f"/qwen-asr/ti/meetings/{ENCODED_RUN}/fetch/2"


@pytest.mark.parametrize("ti_key", [PLAIN, MAPPED], ids=["plain", "mapped"])
def test_no_xcom_no_link(ti_key: TaskInstanceKey) -> None:
    """Empty: Airflow hides the link (a task still running, or one that returned nothing)."""
    assert link(ti_key) == ""


@pytest.mark.parametrize(
    "value",
    [
        "dash-1",  # the submit operator's return value: its transcript is on the fetch task
        {"asr_task_id": "dash-1", "status": "SUCCEEDED", "files": []},  # the sensor's summary
        {"asr_task_id": "dash-1", "files": "not a list", "outputs": []},
    ],
    ids=["submit-task-id", "sensor-summary", "not-a-manifest"],
)
@pytest.mark.parametrize("ti_key", [PLAIN, MAPPED], ids=["plain", "mapped"])
def test_a_return_value_that_is_no_manifest_has_no_link(ti_key: TaskInstanceKey, value: Any) -> None:
    _set(ti_key, "return_value", value)
    assert link(ti_key) == ""


@pytest.mark.parametrize("ti_key", [PLAIN, MAPPED], ids=["plain", "mapped"])
def test_a_recorded_failure_links_to_the_tab_that_shows_it(ti_key: TaskInstanceKey) -> None:
    _set(ti_key, "qwen_asr_error", {"type": "QwenASRTaskFailedError", "task_id": "dash-1", "try_number": 1})
    expected = transcript_link(ti_key.dag_id, ti_key.run_id, ti_key.task_id, ti_key.map_index)
    assert link(ti_key) == expected
    from airflow_provider_qwenasr._compat import airflow_at_least

    # 3.1+: the UI's task page (".../mapped/2/plugin/..."); 3.0: the tab's own page (".../fetch/2").
    marker = "/mapped/2/" if airflow_at_least("3.1") else f"/{ti_key.task_id}/2"
    assert (marker in expected) is (ti_key.map_index == 2)


def test_no_link_when_the_pages_are_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__QWEN_ASR__UI_ENABLED", "False")
    _set(PLAIN, "return_value", MANIFEST)
    assert link(PLAIN) == ""


def test_an_xcom_error_gives_no_link_and_never_raises(xcom: type[DictXCom]) -> None:
    """On Airflow 3.0 an exception from get_link fails the try that computes it."""
    _set(PLAIN, "return_value", MANIFEST)
    xcom.fail = True
    assert link(PLAIN) == ""


def test_the_link_holds_no_query_and_no_secret() -> None:
    _set(MAPPED, "return_value", {**MANIFEST, "outputs": ["s3://b/k.txt?X-Amz-Signature=abc"]})
    url = link(MAPPED)
    assert url
    assert "?" not in url
    assert "Signature" not in url


@pytest.mark.parametrize(
    "operator",
    [
        QwenASRSubmitTranscriptionOperator(task_id="s", file_url="https://a/b.wav"),
        QwenASRTranscribeOperator(task_id="t", file_url="https://a/b.wav"),
        QwenASRFetchTranscriptionOperator(task_id="f", asr_task_id="dash-1"),
        QwenASRTaskSensor(task_id="w", asr_task_id="dash-1"),
    ],
    ids=lambda op: type(op).__name__,
)
def test_each_operator_and_the_sensor_carry_the_link(operator: Any) -> None:
    assert [type(link).__name__ for link in operator.operator_extra_links] == ["QwenASRTranscriptLink"]
    assert [link.name for link in operator.operator_extra_links] == ["Transcript"]


def test_the_provider_info_registers_the_link() -> None:
    import importlib

    [path] = get_provider_info()["extra-links"]
    module, _, name = path.rpartition(".")
    assert getattr(importlib.import_module(module), name) is QwenASRTranscriptLink
