"""Crash and restart in a real deployment (issue 7 item 2): nothing is lost, nothing is paid twice.

Two faults, each in a real LocalExecutor + SQLite deployment on 127.0.0.1 with the emulator:

1. the triggerer is SIGKILLed while 20 sensors are deferred, and restarted: every trigger is taken
   over by the new triggerer, every sensor succeeds, and each recording was submitted once;
2. the task process of a submit that waits in its worker is SIGKILLed right after the submit:
   Airflow retries it, the retry reattaches to the DashScope task through ``task_state_store``
   instead of submitting again, and the run succeeds.

DAGs: ``tests/e2e/dag_files/crash_dags.py``.  Their emulator tasks stay RUNNING until the test
moves the emulator clock forward, so the faults always hit tasks that are still waiting.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_qwenasr.emulator import EmulatorConfig, EmulatorServer
from tests.conftest import EMULATOR_API_KEY, connection_json
from tests.e2e.deployment import AirflowDeployment
from tests.e2e.lifecycle import recorded, running
from tests.e2e.services import process_info

DAG_FILE = Path(__file__).resolve().parent / "dag_files" / "crash_dags.py"
TRIGGERER_DAG = "crash_triggerer_restart"
WORKER_DAG = "crash_worker_after_submit"
SENSORS = 20
#: The emulator tasks of crash_dags.py run this long; advancing the clock by it finishes them.
HOLD_SECONDS = 3600


@pytest.fixture(scope="module")
def emulator_server() -> Iterator[EmulatorServer]:
    """The emulator both tests use; its rate limit is well above what 20 triggers send."""
    config = EmulatorConfig(api_keys=(EMULATOR_API_KEY,), query_qps=100)
    server = EmulatorServer(config, host="127.0.0.1", port=0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, emulator_server: EmulatorServer, request: pytest.FixtureRequest
) -> Iterator[AirflowDeployment]:
    """One deployment for both tests (start-up takes a minute or two on a loaded machine).

    Each test uses its own DAG and restores what it broke.  Every process is stopped by pid at the
    end; when a test failed, every component's log tail is printed.
    """
    base = tmp_path_factory.mktemp("crash_e2e")
    dags = base / "dags"
    dags.mkdir()
    shutil.copy(DAG_FILE, dags / DAG_FILE.name)
    dep = AirflowDeployment(
        base / "deployment",
        dags_folder=dags,
        # The harness's parallelism (8) is kept: more concurrent tasks on SQLite risk "database is
        # locked" crashes of a component on a loaded machine; 20 sensors defer in a few batches.
        # Per-task polling (no status sweep): this test counts each trigger's own queries to know
        # that every trigger runs before the crash; tests/e2e/test_scale_out.py kills a triggerer
        # with the sweep on.
        env={
            "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(
                emulator_server.base_url, query_qps=50, status_sweep=False
            )
        },
    )
    with running(dep, request):
        yield dep


def mapped_states(dep: AirflowDeployment, dag_id: str, run_id: str, task_id: str) -> dict[int, str]:
    """``map_index -> state`` of a mapped task's instances (every page of them)."""
    data = dep.api.get(
        f"dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"task_id": task_id, "limit": 100}
    )
    return {int(t["map_index"]): str(t["state"]) for t in data["task_instances"] if t["map_index"] >= 0}


def xcom_value(dep: AirflowDeployment, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
    """The deserialized ``return_value`` XCom of a task instance."""
    params: dict[str, Any] = {"deserialize": "true"}
    if map_index >= 0:
        params["map_index"] = map_index
    data = dep.api.get(
        f"dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value", params=params
    )
    return data["value"]


@pytest.mark.e2e
def test_triggerer_killed_with_20_deferred_sensors(
    deployment: AirflowDeployment, emulator_server: EmulatorServer
) -> None:
    """A SIGKILLed triggerer's 20 triggers resume in its replacement; one submit per recording."""
    dep = deployment
    emulator_server.backend.requests.clear()
    dep.unpause(TRIGGERER_DAG)
    run_id = dep.trigger(TRIGGERER_DAG)

    # 1. All 20 sensors poke once (the task is RUNNING), defer, and their triggers poll.
    dep.wait_for(
        lambda: list(mapped_states(dep, TRIGGERER_DAG, run_id, "wait").values()) == ["deferred"] * SENSORS,
        timeout=300,
        what="20 deferred sensors",
    )
    asr_ids = [str(xcom_value(dep, TRIGGERER_DAG, run_id, "submit", i)) for i in range(SENSORS)]
    assert len(set(asr_ids)) == SENSORS

    def polled_by_triggers() -> bool:
        # One query per sensor is its poke; a second one came from its trigger.
        paths = [r["path"] for r in recorded(emulator_server, "query")]
        return all(sum(p.endswith(f"/tasks/{i}") for p in paths) >= 2 for i in asr_ids)

    dep.wait_for(polled_by_triggers, timeout=120, what="every trigger to poll")

    # 2. Crash the triggerer mid-wait, then start a new one.  The dead one's triggers are handed
    #    over once its heartbeat is stale (triggerer_health_check_threshold).
    old_pid = dep.component("triggerer").pid
    assert old_pid is not None
    dep.kill_component("triggerer")
    assert process_info(old_pid) is None
    dep.start_component("triggerer")
    assert dep.logs("triggerer").count("e2e harness: starting triggerer-0") == 2

    def all_taken_over() -> bool:
        return all(dep.triggerer_index_of(TRIGGERER_DAG, run_id, "wait", i) == 0 for i in range(SENSORS))

    dep.wait_for(all_taken_over, timeout=180, what="the new triggerer to take over all 20 triggers")
    # Nothing failed or was retried meanwhile: the sensors waited through the crash.
    assert list(mapped_states(dep, TRIGGERER_DAG, run_id, "wait").values()) == ["deferred"] * SENSORS

    # 3. Every DashScope task ends now; the new triggerer fires all 20 events.
    emulator_server.backend.clock.advance(HOLD_SECONDS)
    assert dep.wait_for_run(TRIGGERER_DAG, run_id, timeout=300) == "success"
    assert mapped_states(dep, TRIGGERER_DAG, run_id, "wait") == dict.fromkeys(range(SENSORS), "success")
    assert xcom_value(dep, TRIGGERER_DAG, run_id, "count_succeeded") == SENSORS
    for i in range(SENSORS):
        assert dep.state_history(TRIGGERER_DAG, run_id, "wait", i) == [
            "running",
            "deferred",
            "running",
            "success",
        ], f"wait[{i}]"

    # 4. Exactly one submit per recording: the crash cost nothing twice.
    submitted = sorted(r["body"]["input"]["file_url"] for r in recorded(emulator_server, "submit"))
    assert len(submitted) == SENSORS
    assert len(set(submitted)) == SENSORS


@pytest.mark.e2e
def test_worker_killed_right_after_submit_reattaches(
    deployment: AirflowDeployment, emulator_server: EmulatorServer
) -> None:
    """SIGKILL of the task process after the submit: the retry reattaches; one submit in all."""
    dep = deployment
    emulator_server.backend.requests.clear()
    dep.unpause(WORKER_DAG)
    run_id = dep.trigger(WORKER_DAG)

    # 1. Wait for the submit and then the first status query: the operator queries only after it
    #    saved the DashScope task id in task_state_store, so a kill from here on must not lose it.
    dep.wait_for(lambda: len(recorded(emulator_server, "submit")) == 1, timeout=240, what="the submit")
    dep.wait_for(lambda: len(recorded(emulator_server, "query")) >= 1, timeout=60, what="the first query")
    ti = dep.task_instance(WORKER_DAG, run_id, "submit")
    assert ti["state"] == "running"
    assert ti["try_number"] == 1
    task_pid = int(ti["pid"])
    assert task_pid in {p.pid for p in dep.processes("scheduler")}, "the TI pid is a LocalExecutor child"

    # 2. The worker dies without a chance to clean up (no on_kill, no cancel).
    os.kill(task_pid, signal.SIGKILL)

    def reattached() -> bool:
        return "Reattaching to DashScope task" in dep.task_log(WORKER_DAG, run_id, "submit", try_number=2)

    dep.wait_for(reattached, timeout=240, what="the retry to reattach")
    emulator_server.backend.clock.advance(HOLD_SECONDS)
    assert dep.wait_for_run(WORKER_DAG, run_id, timeout=240) == "success"

    tries = dep.task_tries(WORKER_DAG, run_id, "submit")
    assert [t["try_number"] for t in tries] == [1, 2]
    assert tries[0]["state"] in {"failed", "up_for_retry"}
    assert tries[1]["state"] == "success"
    second_try_log = dep.task_log(WORKER_DAG, run_id, "submit", try_number=2)
    assert "Submitted DashScope task" not in second_try_log
    assert len(recorded(emulator_server, "submit")) == 1
    # Both tries worked on the same DashScope task: its id is the run's result.
    asr_task_id = str(xcom_value(dep, WORKER_DAG, run_id, "submit"))
    assert asr_task_id in second_try_log
