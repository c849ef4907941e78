"""Submitting and waiting in a real Airflow: ``airflow dags test`` against the emulator over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.airflow_runner import AirflowHome
from tests.conftest import EMULATOR_API_KEY, connection_json

DAG_FILE = Path(__file__).parent / "dag_files" / "waiting_dags.py"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    """One migrated Airflow home for the module, with the test DAGs in its DAGs folder."""
    home = AirflowHome(tmp_path_factory.mktemp("airflow-home"))
    home.add_dag(DAG_FILE)
    return home


@pytest.fixture
def run_env(emulator) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Environment pointing the default connection at this test's emulator."""
    return {"AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url, query_qps=50)}


def _submits(emulator) -> list[dict]:  # type: ignore[no-untyped-def]
    log = requests.get(f"{emulator.root_url}/emulator-api/requests", timeout=10).json()["requests"]
    return [r for r in log if r["endpoint"] == "submit"]


def _tasks(emulator) -> list[dict]:  # type: ignore[no-untyped-def]
    listing = requests.get(
        f"{emulator.base_url}/tasks",
        params={"page_size": "100"},
        headers={"Authorization": f"Bearer {EMULATOR_API_KEY}"},
        timeout=10,
    ).json()
    return listing["data"]


@pytest.mark.parametrize("mode", ["deferrable", "poke", "reschedule"])
def test_sensor_waits_and_returns_summary(
    home: AirflowHome, run_env: dict[str, str], emulator, mode: str
) -> None:  # type: ignore[no-untyped-def]
    """The sensor waits in each mode and hands downstream a summary without any signed URL."""
    result = home.dags_test(f"qwenasr_wait_{mode}", env=run_env)
    result.assert_succeeded()
    line = next(x for x in result.output.splitlines() if "SENSOR_SUMMARY=" in x)
    summary = json.loads(line.split("SENSOR_SUMMARY=", 1)[1])
    assert summary["status"] == "SUCCEEDED"
    assert summary["usage_seconds"] > 0
    assert "Signature" not in result.output
    assert len(_submits(emulator)) == 1
    if mode == "deferrable":
        assert "deferring to the triggerer" in result.output


def test_retry_after_crash_reattaches_without_second_submit(
    home: AirflowHome, run_env: dict[str, str], emulator
) -> None:  # type: ignore[no-untyped-def]
    """Regression guard for exactly-once: a try that dies after submitting must not be billed twice."""
    result = home.dags_test("qwenasr_crash_retry", env=run_env)
    result.assert_succeeded()
    assert "simulated worker crash" in result.output
    assert "Reattaching to DashScope task" in result.output
    assert len(_submits(emulator)) == 1


@pytest.mark.parametrize("deferrable", [False, True], ids=["in-worker", "deferred"])
def test_timeout_cancels_pending_task(home: AirflowHome, emulator, deferrable: bool) -> None:  # type: ignore[no-untyped-def]
    """A wait that times out cancels a task still PENDING, so it is never billed."""
    env = {
        "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url, query_qps=50),
        "QWENASR_TEST_AUDIO": "https://example.com/audio/long.wav?pending_seconds=600",
        "QWENASR_TEST_DEFERRABLE": "1" if deferrable else "0",
    }
    result = home.dags_test("qwenasr_timeout_cancels", env=env)
    assert "state=failed" in result.output.replace(" ", ""), result.output[-4000:]
    assert "Gave up waiting" in result.output
    [task] = _tasks(emulator)
    assert task["status"] == "CANCELED"


@pytest.mark.parametrize("soft_fail", [False, True], ids=["fails", "soft-fail-skips"])
def test_sensor_reports_dashscope_failure(home: AirflowHome, emulator, soft_fail: bool) -> None:  # type: ignore[no-untyped-def]
    """A FAILED transcription fails the sensor with DashScope's code (or skips it with soft_fail)."""
    env = {
        "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url, query_qps=50),
        "QWENASR_TEST_AUDIO": "https://example.com/audio/private.wav?fail=FILE_403_FORBIDDEN",
        "QWENASR_TEST_SOFT_FAIL": "1" if soft_fail else "0",
    }
    result = home.dags_test("qwenasr_sensor_failure", env=env)
    assert "FILE_403_FORBIDDEN" in result.output
    flat = result.output.replace(" ", "")
    if soft_fail:
        assert "state=skipped" in flat or "skipped" in result.output.lower(), result.output[-4000:]
    else:
        assert "state=failed" in flat, result.output[-4000:]
