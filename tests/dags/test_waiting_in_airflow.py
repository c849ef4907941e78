"""Submitting and waiting in a real Airflow: ``airflow dags test`` against the emulator over HTTP."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from tests.airflow_runner import AirflowHome
from tests.airflow_versions import needs_airflow
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
    env = dict(run_env)
    if mode == "deferrable":
        # Long enough that the first poke finds the task unfinished however slowly Airflow starts
        # the sensor (3.0 takes seconds longer than 3.3), so the sensor does defer.
        env["QWENASR_TEST_AUDIO"] = "https://example.com/audio/meeting.wav?running_seconds=8"
    result = home.dags_test(f"qwenasr_wait_{mode}", env=env)
    result.assert_succeeded()
    line = next(x for x in result.output.splitlines() if "SENSOR_SUMMARY=" in x)
    summary = json.loads(line.split("SENSOR_SUMMARY=", 1)[1])
    assert summary["status"] == "SUCCEEDED"
    assert summary["usage_seconds"] > 0
    assert "Signature" not in result.output
    assert len(_submits(emulator)) == 1
    if mode == "deferrable":
        assert "deferring to the triggerer" in result.output


@needs_airflow("3.3", "the task id is kept in task_state_store, which arrived in 3.3")
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
        # Failed at once: the deferrable sensor's first poke (before any deferral) finds it FAILED.
        "QWENASR_TEST_AUDIO": "https://example.com/audio/private.wav?fail=FILE_403_FORBIDDEN"
        "&pending_seconds=0&running_seconds=0",
        "QWENASR_TEST_SOFT_FAIL": "1" if soft_fail else "0",
    }
    result = home.dags_test("qwenasr_sensor_failure", env=env)
    assert "FILE_403_FORBIDDEN" in result.output
    # A logged deferral names the task; Airflow 3.0's tracebacks also print the sensor's source,
    # whose log call says "deferring" with placeholders.
    assert not re.search(r"Task [\w-]+(?: is \w+;|: first query failed .*\);) deferring", result.output)
    state = home.task_states("qwenasr_sensor_failure")["wait"]
    assert state == ("skipped" if soft_fail else "failed"), result.output[-4000:]


@pytest.mark.parametrize("kind", ["status", "reset"], ids=["503s", "dropped"])
def test_deferrable_sensor_rides_out_an_outage_at_its_first_poke(
    home: AirflowHome, run_env: dict[str, str], emulator, kind: str
) -> None:  # type: ignore[no-untyped-def]
    """An outage longer than the hook's retries at the first poke defers; the trigger outlasts it."""
    # 1 try + 5 retries at the first poke, then 3 more polls of the trigger meet the outage.
    emulator.backend.faults.add("query", kind, status=503, count=9)
    result = home.dags_test("qwenasr_first_poke_outage", env=run_env)
    result.assert_succeeded()
    assert "first query failed" in result.output
    assert home.task_states("qwenasr_first_poke_outage")["wait"] == "success"
    assert len(emulator.backend.requests.entries("query")) >= 10


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
def test_sensor_refuses_none_task_id_before_any_query(
    home: AirflowHome, run_env: dict[str, str], emulator, deferrable: bool
) -> None:  # type: ignore[no-untyped-def]
    """An asr_task_id rendered from an empty XCom ("None") is refused: no query, a clear message."""
    env = {**run_env, "QWENASR_TEST_DEFERRABLE": "1" if deferrable else "0"}
    result = home.dags_test("qwenasr_sensor_no_task_id", env=env)
    assert "the upstream task returned no task id" in result.output, result.output[-4000:]
    assert home.task_states("qwenasr_sensor_no_task_id")["wait"] == "failed"
    assert emulator.backend.requests.entries("query") == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kwargs": {"poll_interval": 0}}, "poll_interval=0 is below the minimum of 1 s"),
        ({"kwargs": {"poll_interval": 0.2}}, "poll_interval=0.2 is below the minimum"),
        ({"kwargs": {"max_poll_interval": 0}}, "max_poll_interval=0 is below the minimum"),
        ({"kwargs": {"timeout": 0}}, "timeout=0 must be a positive number of seconds"),
        ({"kwargs": {"timeout": -5}}, "timeout=-5 must be a positive number of seconds"),
        ({"operator": "sensor", "kwargs": {"poke_interval": 0}}, "poke_interval=0.0 is below the minimum"),
        ({"operator": "sensor", "kwargs": {"max_poll_interval": 0.1}}, "max_poll_interval=0.1 is below"),
    ],
    ids=["poll-0", "poll-0.2", "max-poll-0", "timeout-0", "timeout-negative", "poke-0", "sensor-max-0.1"],
)
def test_wait_options_that_spend_the_quota_are_refused_before_billing(
    home: AirflowHome, run_env: dict[str, str], emulator, spec: dict, message: str
) -> None:  # type: ignore[no-untyped-def]
    """Sub-second intervals and non-positive timeouts fail the task before any submit or query."""
    env = {**run_env, "QWENASR_TEST_BAD_WAIT": json.dumps(spec)}
    result = home.dags_test("qwenasr_bad_wait_options", env=env)
    assert message in result.output, result.output[-4000:]
    assert home.task_states("qwenasr_bad_wait_options")["check"] == "failed"
    assert emulator.backend.requests.entries() == []
