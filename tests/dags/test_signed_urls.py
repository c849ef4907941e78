"""Leaks nothing: a signed audio URL's query never reaches what Airflow stores or the provider writes.

A real ``airflow dags test`` of the one-shot operator against the emulator: the rendered template
fields (what the Rendered Template tab and the REST API show), the XCom (``xcom_output="full"``), the
``json`` output and the task log hold the URL without its query; the service still got it whole.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.airflow_runner import AirflowHome
from tests.conftest import EMULATOR_API_KEY, connection_json

DAG_FILE = Path(__file__).parent / "dag_files" / "signed_url_dags.py"
DAG_ID = "qwenasr_signed_urls"

SECRETS = ("LTAI5tSecretKeyId", "c2lnbmF0dXJlLW9zcw", "AKIAEXAMPLEKEY", "5d41402abc4b2a76b9719d911017c592")
OSS = (
    "https://bucket.oss-cn-beijing.aliyuncs.com/calls/meeting.wav"
    "?OSSAccessKeyId=LTAI5tSecretKeyId&Expires=1767225600&Signature=c2lnbmF0dXJlLW9zcw%3D%3D"
)
S3 = (
    "https://bucket.s3.amazonaws.com/calls/standup.wav?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAEXAMPLEKEY%2F20261202%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261202T000000Z"
    "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=5d41402abc4b2a76b9719d911017c592"
)
PLAIN = "https://example.com/audio/plain.wav"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    home = AirflowHome(tmp_path_factory.mktemp("airflow-home"))
    home.add_dag(DAG_FILE)
    return home


def _stored(home: AirflowHome) -> tuple[str, Any]:
    """The latest run's rendered template fields (as text) and the one-shot task's XCom (parsed)."""
    with closing(sqlite3.connect(home.root / "airflow.db")) as db:
        rendered = db.execute(
            "SELECT rendered_fields FROM rendered_task_instance_fields WHERE dag_id = ?", (DAG_ID,)
        ).fetchall()
        [(value,)] = db.execute(
            "SELECT value FROM xcom WHERE dag_id = ? AND task_id = 'transcribe' AND key = 'return_value' "
            "ORDER BY timestamp DESC LIMIT 1",
            (DAG_ID,),
        ).fetchall()
    return " ".join(str(r[0]) for r in rendered), json.loads(value)


def _served(emulator: Any) -> list[bytes]:
    """The result documents of the run's only task, exactly as the service serves them."""
    headers = {"Authorization": f"Bearer {EMULATOR_API_KEY}"}
    listing = requests.get(f"{emulator.base_url}/tasks", headers=headers, timeout=10).json()["data"]
    [task_id] = [t["task_id"] for t in listing]
    output = requests.get(f"{emulator.base_url}/tasks/{task_id}", headers=headers, timeout=10).json()[
        "output"
    ]
    results = output.get("results") or [output["result"]]
    return [requests.get(r["transcription_url"], timeout=10).content for r in results]


def _run(home: AirflowHome, emulator: Any, out: Path, urls: list[str]) -> str:
    env = {
        "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url, query_qps=50),
        "QWENASR_TEST_AUDIO": json.dumps(urls),
        "QWENASR_TEST_OUT": str(out),
    }
    result = home.dags_test(DAG_ID, env=env)
    result.assert_succeeded()
    return result.output


@pytest.mark.parametrize("urls", [[OSS], [OSS, S3]], ids=["qwen3-oss", "funasr-oss-and-s3"])
def test_signed_url_queries_are_masked_and_redacted_everywhere(
    home: AirflowHome, emulator: Any, tmp_path: Path, urls: list[str]
) -> None:
    """Regression test: these URLs' signatures were stored in rendered fields, XCom and the json output."""
    log = _run(home, emulator, tmp_path, urls)
    rendered, manifest = _stored(home)
    outputs = sorted(tmp_path.rglob("*.json"))
    assert len(outputs) == len(urls)
    xcom = json.dumps(manifest)
    for secret in SECRETS[: 2 if len(urls) == 1 else 4]:
        assert secret not in log, "task log"
        assert secret not in rendered, "rendered template fields"
        assert secret not in xcom, "XCom"
        for path in outputs:
            assert secret not in path.read_text(encoding="utf-8"), path.name
    assert "?***" in rendered  # masked, not dropped: the field still names the file
    assert [f["result"]["file_url"] for f in manifest["files"]] == [u.split("?")[0] + "?…" for u in urls]
    # The service got the whole signed URL; apart from it, the json output is what it served.
    served = {json.loads(d)["file_url"]: json.loads(d) for d in _served(emulator)}
    assert sorted(served) == sorted(urls)
    ours = {json.loads(p.read_text(encoding="utf-8"))["file_url"]: json.loads(p.read_text()) for p in outputs}
    for url, document in served.items():
        assert ours[url.split("?")[0] + "?…"] == {**document, "file_url": url.split("?")[0] + "?…"}


def test_json_output_of_a_url_without_query_is_the_served_bytes(
    home: AirflowHome, emulator: Any, tmp_path: Path
) -> None:
    _run(home, emulator, tmp_path, [PLAIN])
    [output] = sorted(tmp_path.rglob("*.json"))
    [served] = _served(emulator)
    assert output.read_bytes() == served


def test_a_mapped_submit_masks_its_rendered_urls_too(home: AirflowHome, emulator: Any) -> None:
    """Regression: mapped operators render without calling ``render_template_fields``."""
    env = {
        "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url, query_qps=50),
        "QWENASR_TEST_AUDIO": json.dumps([OSS, S3]),
    }
    result = home.dags_test("qwenasr_signed_urls_mapped", env=env)
    result.assert_succeeded()
    with closing(sqlite3.connect(home.root / "airflow.db")) as db:
        rendered = " ".join(
            str(r[0])
            for r in db.execute(
                "SELECT rendered_fields FROM rendered_task_instance_fields WHERE dag_id = ?",
                ("qwenasr_signed_urls_mapped",),
            )
        )
    assert rendered.count("?***") == 2
    for secret in SECRETS:
        assert secret not in rendered
        assert secret not in result.output
