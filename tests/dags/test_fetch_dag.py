"""Submit, wait and fetch in a real Airflow: ``airflow dags test`` against the emulator over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.airflow_runner import AirflowHome
from tests.airflow_versions import needs_airflow
from tests.conftest import connection_json

DAG_FILE = Path(__file__).parent / "dag_files" / "fetch_dags.py"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    """A migrated Airflow home with the fetch DAG in its DAGs folder."""
    home = AirflowHome(tmp_path_factory.mktemp("airflow-home"))
    home.add_dag(DAG_FILE)
    return home


def _printed(output: str, marker: str) -> Any:
    line = next(x for x in output.splitlines() if marker in x)
    return json.loads(line.split(marker, 1)[1])


@needs_airflow(
    "3.1", "3.0's `dags test` does not activate assets (its scheduler does), so a task with outlets fails"
)
def test_fetch_in_airflow(home: AirflowHome, emulator: Any, tmp_path: Path) -> None:
    """The DAG writes every format per file, pushes the manifest, and puts the URIs on the asset event."""
    env = {
        "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url, query_qps=50),
        "QWENASR_TEST_OUT": str(tmp_path),
    }
    result = home.dags_test("qwenasr_fetch", env=env)
    result.assert_succeeded()
    manifest = _printed(result.output, "FETCH_MANIFEST=")
    asr_task_id = manifest["asr_task_id"]
    folder = tmp_path / "qwenasr_fetch" / asr_task_id
    written = sorted(p.name for p in folder.iterdir())
    assert written == sorted(f"standup.{ext}" for ext in ("json", "txt", "srt", "vtt", "jsonl"))
    assert manifest["outputs"] == [
        (folder / f"standup.{ext}").as_uri() for ext in ("json", "txt", "srt", "vtt", "jsonl")
    ]
    assert [f["status"] for f in manifest["files"]] == ["SUCCEEDED", "FAILED"]
    # Signed for the UI with the deployment's key ([core] fernet_key here), one signature per output.
    assert set(manifest["files"][0]["output_signatures"]) == {"json", "txt", "srt", "vtt", "jsonl"}
    assert manifest["files"][1]["code"] == "FILE_404_NOT_FOUND"
    assert manifest["files"][0]["speakers"]
    assert _printed(result.output, "ASSET_EXTRA=") == {
        "asr_task_id": asr_task_id,
        "output_conn_id": None,
        "outputs": manifest["outputs"],
    }
    # No signed result URL anywhere in what Airflow printed (logs, XCom values).
    assert "Signature=" not in result.output
    assert "OSSAccessKeyId=" not in result.output
