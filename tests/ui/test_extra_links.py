"""The Transcript extra link through Airflow itself: computed by the task runner, served by the REST API.

``airflow dags test`` runs ``dag_files/links_dags.py`` against the emulator (mapped submit, sensor and
fetch, and a one-shot transcription); the task runner stores each task's link in XCom when its try
ends, and the api-server's ``GET /api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/links``
(``map_index`` for a mapped instance) serves it, as the UI's task-instance page asks for it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from airflow_provider_qwenasr.operators.links import transcript_link
from tests.conftest import EMULATOR_API_KEY, connection_json
from tests.ui.conftest import REPO_ROOT, SIGNING_KEY, UiData, _airflow, _run_id

DAG_FILE = Path(__file__).parent / "dag_files" / "links_dags.py"
HTTP_OK, HTTP_UNAUTHORIZED = 200, 401


@pytest.fixture(scope="module")
def links_run_id(ui_app: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run ``ui_links`` once against a fresh emulator; its run id. Deleted afterwards, so the other
    UI tests (the Transcriptions page lists every manifest) see only their own runs."""
    from airflow.api.common.delete_dag import delete_dag

    from airflow_provider_qwenasr.emulator import EmulatorConfig, EmulatorServer

    dags = Path(os.environ["AIRFLOW_HOME"]) / "dags"
    shutil.copy(DAG_FILE, dags / DAG_FILE.name)
    config = EmulatorConfig(api_keys=(EMULATOR_API_KEY,), pending_seconds=0.2, running_seconds=0.4)
    server = EmulatorServer(config, host="127.0.0.1", port=0).start()
    try:
        env = {
            **os.environ,
            "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(server.base_url, query_qps=50),
            "AIRFLOW__QWEN_ASR__UI_SIGNING_KEY": SIGNING_KEY,
            "QWENASR_LINKS_OUT": str(tmp_path_factory.mktemp("links-out")),
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        _airflow("dags", "test", "ui_links", env=env)
    finally:
        server.stop()
    try:
        yield _run_id("ui_links")
    finally:
        (dags / DAG_FILE.name).unlink()
        delete_dag("ui_links")


def links(client: Any, token: str | None, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/links"
    return client.get(url, params={"map_index": map_index}, headers=headers)


def extra_links(client: Any, tokens: dict[str, str], *args: Any) -> dict[str, Any]:
    response = links(client, tokens["viewer"], *args)
    assert response.status_code == HTTP_OK, response.text
    found: dict[str, Any] = response.json()["extra_links"]
    return found


def test_each_mapped_fetch_links_to_its_own_transcript_tab(
    client: Any, tokens: dict[str, str], links_run_id: str
) -> None:
    for index in (0, 1):
        found = extra_links(client, tokens, "ui_links", links_run_id, "fetch", index)
        expected = transcript_link("ui_links", links_run_id, "fetch", index)
        assert found == {"Transcript": expected}
        assert expected.endswith(
            f"/fetch/mapped/{index}/plugin/qwen-asr-transcript"
            if "/plugin/" in expected
            else f"/ui_links/{quote(links_run_id, safe='')}/fetch/{index}"
        )
        # What the tab shows for that instance is its transcript.
        page = client.get(
            f"/qwen-asr/ti/ui_links/{quote(links_run_id, safe='')}/fetch/{index}",
            headers={"Authorization": f"Bearer {tokens['viewer']}"},
        )
        assert page.status_code == HTTP_OK
        assert ("first" if index == 0 else "second") in page.text


def test_the_one_shot_operator_links_to_its_tab(
    client: Any, tokens: dict[str, str], links_run_id: str
) -> None:
    found = extra_links(client, tokens, "ui_links", links_run_id, "transcribe")
    assert found == {"Transcript": transcript_link("ui_links", links_run_id, "transcribe", -1)}
    assert "/mapped/" not in found["Transcript"]


@pytest.mark.parametrize("task_id", ["submit", "wait"])
def test_a_submit_or_sensor_that_succeeded_shows_no_link(
    client: Any, tokens: dict[str, str], links_run_id: str, task_id: str
) -> None:
    """Their own tab has no transcript (the fetch has it): the link is declared but empty, so hidden."""
    for index in (0, 1):
        assert extra_links(client, tokens, "ui_links", links_run_id, task_id, index) == {"Transcript": None}


def test_a_recorded_failure_links_to_the_tab_that_shows_it(
    client: Any, tokens: dict[str, str], ui_data: UiData
) -> None:
    """``recorded_failure`` is the fetch operator failing with a QwenASRError: the tab shows it."""
    found = extra_links(client, tokens, "ui_fixture", ui_data.run_id, "recorded_failure")
    assert found == {"Transcript": transcript_link("ui_fixture", ui_data.run_id, "recorded_failure", -1)}


def test_tasks_that_are_not_the_providers_have_no_transcript_link(
    client: Any, tokens: dict[str, str], ui_data: UiData
) -> None:
    assert extra_links(client, tokens, "ui_fixture", ui_data.run_id, "meeting") == {}


def test_links_need_a_user(client: Any, links_run_id: str) -> None:
    assert links(client, None, "ui_links", links_run_id, "fetch", 0).status_code == HTTP_UNAUTHORIZED
