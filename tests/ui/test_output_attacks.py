"""The UI serves only what the provider wrote for that task instance, whoever edits the manifest.

Attacks on the download route and the Transcript tab through Airflow's own api-server app: a
USER-role account rewrites a manifest with ``PATCH …/xcomEntries/return_value`` (the REST API lets
it edit XComs, not read connections), and DAG authors' manifests (signed, since they run on workers)
name URIs that trick the path checks. Objects behind a connection (moto's S3) and local files under
``ui_local_roots`` are the loot; every attack must get a 404 or 422 page, never the object or a 500.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import S3Server
from tests.ui.conftest import UiData
from tests.ui.test_routes import ti_path

LOOT = b"name,salary\nalice,1000000\n"
HTTP_OK, HTTP_NOT_FOUND, HTTP_UNPROCESSABLE = 200, 404, 422


@pytest.fixture(scope="module")
def editor(ui_app: Any) -> str:
    """A JWT for a USER-role account: it may edit XComs through the REST API, not read connections."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return str(get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="editor", role="user")))


def _xcom_url(ui_data: UiData, task_id: str) -> str:
    run = quote(ui_data.run_id, safe="")
    return f"/api/v2/dags/ui_fixture/dagRuns/{run}/taskInstances/{task_id}/xcomEntries/return_value"


def _read(client: Any, ui_data: UiData, task_id: str, token: str) -> dict[str, Any]:
    client.cookies.clear()
    response = client.get(
        _xcom_url(ui_data, task_id),
        params={"deserialize": "true"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == HTTP_OK, response.text
    return dict(response.json()["value"])


@pytest.fixture
def patch_target(client: Any, ui_data: UiData, editor: str) -> Iterator[Any]:
    """Rewrite the ``target`` task's manifest as the editor does; put the original back afterwards."""
    original = _read(client, ui_data, "target", editor)

    def patch(value: Any) -> dict[str, Any]:
        client.cookies.clear()
        response = client.patch(
            _xcom_url(ui_data, "target"),
            json={"value": value, "map_index": -1},
            headers={"Authorization": f"Bearer {editor}"},
        )
        assert response.status_code == HTTP_OK, response.text  # the REST API lets the editor do it
        return copy.deepcopy(original)

    patch.original = copy.deepcopy(original)  # type: ignore[attr-defined]
    yield patch
    patch(original)


def _viewer_get(client: Any, url: str, tokens: dict[str, str]) -> Any:
    client.cookies.clear()
    client.cookies.set("_token", tokens["viewer"])
    return client.get(url)


def _assert_refused(client: Any, ui_data: UiData, tokens: dict[str, str], task_id: str, reason: str) -> None:
    """The download is a 404 page giving ``reason``; the tab shows it as a notice; no loot in either."""
    response = _viewer_get(client, ti_path(ui_data.run_id, task_id) + "/files/0/txt", tokens)
    assert response.status_code == HTTP_NOT_FOUND
    assert reason in response.text
    assert b"alice" not in response.content
    tab = _viewer_get(client, ti_path(ui_data.run_id, task_id), tokens)
    assert tab.status_code == HTTP_OK
    assert reason in tab.text
    assert "alice" not in tab.text


def test_the_editor_can_patch_but_not_read_connections(client: Any, editor: str) -> None:
    """The premise: the account has no access to connections, so the UI must not lend it any."""
    client.cookies.clear()
    response = client.get("/api/v2/connections", headers={"Authorization": f"Bearer {editor}"})
    assert response.status_code == 403


def test_a_manifest_naming_a_private_s3_object_is_refused(
    client: Any, ui_data: UiData, tokens: dict[str, str], patch_target: Any, s3_server: S3Server
) -> None:
    """Confused deputy: the api-server's connection must not read s3://private-bucket/hr/salaries.csv."""
    s3_server.client.create_bucket(Bucket="private-bucket")  # type: ignore[attr-defined]
    s3_server.client.put_object(Bucket="private-bucket", Key="hr/salaries.csv", Body=LOOT)  # type: ignore[attr-defined]
    manifest = patch_target.original
    uri = "s3://private-bucket/hr/salaries.csv"
    manifest["output_conn_id"] = s3_server.conn_id
    manifest["outputs"] = [uri]
    manifest["files"][0]["outputs"] = {"txt": uri, "jsonl": uri}
    patch_target(manifest)
    _assert_refused(client, ui_data, tokens, "target", "not signed by this deployment")


def test_a_manifest_naming_an_unlisted_local_file_under_the_roots_is_refused(
    client: Any, ui_data: UiData, tokens: dict[str, str], patch_target: Any
) -> None:
    """``ui_local_roots`` alone would let the editor name any file under the root."""
    loot = ui_data.out / "private" / "salaries.csv"
    assert loot.read_bytes() == LOOT
    manifest = patch_target.original
    manifest["outputs"].append(loot.as_uri())
    manifest["files"][0]["outputs"]["txt"] = loot.as_uri()
    patch_target(manifest)
    response = _viewer_get(client, ti_path(ui_data.run_id, "target") + "/files/0/txt", tokens)
    assert response.status_code == HTTP_NOT_FOUND
    assert b"alice" not in response.content


def test_a_signature_copied_from_another_task_instance_is_refused(
    client: Any, ui_data: UiData, tokens: dict[str, str], editor: str, patch_target: Any
) -> None:
    """Signatures bind the task instance: the meeting's signed entry does not serve from ``target``."""
    meeting = _read(client, ui_data, "meeting", editor)
    patch_target({**meeting, "asr_task_id": "dash-target-0009"})
    response = _viewer_get(client, ti_path(ui_data.run_id, "target") + "/files/0/txt", tokens)
    assert response.status_code == HTTP_NOT_FOUND
    assert (
        _viewer_get(client, ti_path(ui_data.run_id, "meeting") + "/files/0/txt", tokens).status_code
        == HTTP_OK
    )


def test_a_changed_connection_id_is_refused(
    client: Any, ui_data: UiData, tokens: dict[str, str], patch_target: Any
) -> None:
    manifest = patch_target.original
    manifest["output_conn_id"] = "aws_default"
    patch_target(manifest)
    response = _viewer_get(client, ti_path(ui_data.run_id, "target") + "/files/0/txt", tokens)
    assert response.status_code == HTTP_NOT_FOUND


def test_an_empty_outputs_list_serves_nothing(
    client: Any, ui_data: UiData, tokens: dict[str, str], patch_target: Any
) -> None:
    """Regression: an empty ``outputs`` skipped the "listed in outputs" check."""
    base = ti_path(ui_data.run_id, "target") + "/files/0/txt"
    assert _viewer_get(client, base, tokens).status_code == HTTP_OK  # the original is served
    manifest = patch_target.original
    manifest["outputs"] = []
    patch_target(manifest)
    assert _viewer_get(client, base, tokens).status_code == HTTP_NOT_FOUND


def test_a_file_uri_with_a_host_is_refused(client: Any, ui_data: UiData, tokens: dict[str, str]) -> None:
    """``file://..<root>/leak.txt``: the path checked is under the root, the file opened was not."""
    leak = Path(os.path.abspath(".." + str(ui_data.out) + "/leak.txt"))
    assert not leak.is_relative_to(ui_data.out)
    leak.parent.mkdir(parents=True, exist_ok=True)
    leak.write_bytes(LOOT)
    try:
        _assert_refused(client, ui_data, tokens, "netloc_bypass", "names a host")
    finally:
        leak.unlink()


def test_a_nul_byte_in_a_uri_is_a_404_page_not_a_500(
    client: Any, ui_data: UiData, tokens: dict[str, str]
) -> None:
    _assert_refused(client, ui_data, tokens, "nul_byte", "control character")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"files": [{"index": "zero", "status": "SUCCEEDED"}]}, "files[0].index"),
        ({"files": ["not an object"]}, "files[0] must be an object"),
        ({"files": [{"status": "SUCCEEDED", "outputs": ["txt"]}]}, "files[0].outputs"),
        ({"files": [{"status": "SUCCEEDED", "outputs": {"txt": 5}}]}, "files[0].outputs"),
        ({"files": [{"status": "SUCCEEDED", "languages": 5}]}, "files[0].languages"),
        ({"files": [{"status": "SUCCEEDED", "duration_ms": "long"}]}, "files[0].duration_ms"),
        ({"outputs": [5]}, "outputs must be a list of str"),
        ({"output_conn_id": ["x"]}, "output_conn_id must be a string"),
        ({"totals": "many"}, "totals must be an object"),
    ],
    ids=[
        "index",
        "entry",
        "outputs-list",
        "outputs-uri",
        "languages",
        "duration",
        "listed",
        "conn",
        "totals",
    ],
)
def test_a_malformed_manifest_gets_a_422_page_naming_the_problem(
    client: Any,
    ui_data: UiData,
    tokens: dict[str, str],
    patch_target: Any,
    change: dict[str, Any],
    named: str,
) -> None:
    patch_target({**patch_target.original, **change})
    base = ti_path(ui_data.run_id, "target")
    for url in (base, base + "/files/0/txt"):
        response = _viewer_get(client, url, tokens)
        assert response.status_code == HTTP_UNPROCESSABLE, url
        assert named in response.text.replace("&#39;", "'")
    listing = _viewer_get(client, "/qwen-asr/transcriptions?size=200", tokens)
    assert listing.status_code == HTTP_OK
    assert "malformed manifest" in listing.text
