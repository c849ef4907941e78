"""Example (a) in a real deployment: api-server, scheduler, dag-processor, triggerer, LocalExecutor.

Issue 5 item 4 and issue 3's "Done when": the meeting example (submit -> deferrable sensor -> fetch
to object storage -> a task reading the manifest) runs unchanged from ``example_dags/`` against the
emulator, every component a separate process on 127.0.0.1 with SQLite, and the test checks what only
a real deployment shows: the sensor frees its worker slot while deferred, the triggerer logs status
changes rather than polls, the DashScope task is submitted once, and the outputs land on disk.

The emulator keeps the task RUNNING for an hour and the test moves its clock forward once it has
seen what it needs while the task runs, so the test does not depend on how fast a loaded machine
starts tasks.  The delay from SUCCEEDED to the fetch task's start is printed, not asserted.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from airflow_provider_qwenasr.emulator import EmulatorConfig, EmulatorServer
from tests.conftest import EMULATOR_API_KEY, connection_json
from tests.e2e.deployment import AirflowDeployment
from tests.e2e.lifecycle import recorded, running

EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "example_qwenasr_meeting.py"
DAG_ID = "example_qwenasr_meeting"
#: How many times the test looks at the deployment while the DashScope task is RUNNING.
SAMPLES_WHILE_RUNNING = 6


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator[EmulatorServer]:
    """An emulator whose tasks stay RUNNING for an hour unless the test advances its clock."""
    config = EmulatorConfig(
        api_keys=(EMULATOR_API_KEY,), pending_seconds=1, running_seconds=3600, query_qps=50
    )
    server = EmulatorServer(config, host="127.0.0.1", port=0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, slow_emulator: EmulatorServer, request: pytest.FixtureRequest
) -> Iterator[tuple[AirflowDeployment, Path]]:
    """One deployment with example (a) for the tests of this module; yields it and the output folder.

    Starting the components takes a minute or two on a loaded machine, so both tests share them.
    Like the ``airflow_deployment`` fixture, it stops every process by pid and prints the
    components' log tails when a test of the module failed.
    """
    base = tmp_path_factory.mktemp("example_e2e")
    dags = base / "dags"
    dags.mkdir()
    shutil.copy(EXAMPLE, dags / EXAMPLE.name)
    out_dir = base / "out"
    dep = AirflowDeployment(
        base / "deployment",
        dags_folder=dags,
        env={
            "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(slow_emulator.base_url, query_qps=20),
            "AIRFLOW_VAR_QWENASR_OUTPUT_PATH": f"file://{out_dir}",
        },
    )
    with running(dep, request):
        dep.unpause(DAG_ID)
        yield dep, out_dir


def emulator_status(emulator: EmulatorServer, asr_task_id: str) -> str:
    """The DashScope status of a task, read in-process (not recorded as a client query)."""
    return str(emulator.backend.query(EMULATOR_API_KEY, asr_task_id)["output"]["task_status"])


def running_task_instances(dep: AirflowDeployment) -> list[dict[str, Any]]:
    """Every task instance of the deployment in state ``running``: the worker slots in use."""
    data = dep.api.get("dags/~/dagRuns/~/taskInstances", params={"state": "running", "limit": 100})
    return list(data["task_instances"])


def xcom_value(dep: AirflowDeployment, run_id: str, task_id: str) -> Any:
    """The deserialized ``return_value`` XCom of a task."""
    data = dep.api.get(
        f"dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
        params={"deserialize": "true"},
    )
    return data["value"]


def watching(emulator: EmulatorServer) -> int:
    """The calls that watch a task: task queries, and the status sweep's task-list pages."""
    return len(recorded(emulator, "query")) + len(recorded(emulator, "list"))


def status_change_lines(text: str, asr_task_id: str) -> list[str]:
    """The trigger's status-change log lines for one task (``Task <id>: A -> B (...)``)."""
    pattern = re.compile(rf"Task {re.escape(asr_task_id)}: \w+ -> \w+")
    return [line for line in text.splitlines() if pattern.search(line)]


def trigger_with_logical_date(dep: AirflowDeployment) -> str:
    """Trigger a run with a logical date of now, as the UI's trigger form does; return its id."""
    body = {"logical_date": datetime.now(timezone.utc).isoformat(), "conf": {}}
    return str(dep.api.post(f"dags/{DAG_ID}/dagRuns", body)["dag_run_id"])


@pytest.mark.e2e
def test_example_meeting_runs_in_a_real_deployment(
    deployment: tuple[AirflowDeployment, Path], slow_emulator: EmulatorServer
) -> None:
    """Example (a) succeeds; the sensor defers and frees its slot; one submit; outputs written."""
    dep, out_dir = deployment
    slow_emulator.backend.requests.clear()
    # With a logical date, as the UI's trigger form sends it (the next test triggers without one).
    run_id = trigger_with_logical_date(dep)

    # 1. The sensor pokes once, finds the task not finished and defers.
    dep.wait_for_task_state(DAG_ID, run_id, "wait", {"deferred"}, timeout=240)
    asr_task_id = str(xcom_value(dep, run_id, "submit"))
    assert emulator_status(slow_emulator, asr_task_id) in {"PENDING", "RUNNING"}

    # 2. While DashScope works on the task, the sensor is deferred and no task holds a worker
    #    slot: the wait costs the workers nothing.  The trigger watches meanwhile: the account's
    #    status sweep reads the task list (the default), or the trigger queries its task.
    dep.wait_for(
        lambda: emulator_status(slow_emulator, asr_task_id) == "RUNNING", timeout=60, what="task RUNNING"
    )
    polls_before = watching(slow_emulator)
    for _ in range(SAMPLES_WHILE_RUNNING):
        assert emulator_status(slow_emulator, asr_task_id) == "RUNNING"
        assert dep.task_instance(DAG_ID, run_id, "wait")["state"] == "deferred"
        assert running_task_instances(dep) == []
        time.sleep(2)
    dep.wait_for(
        lambda: watching(slow_emulator) > polls_before,
        timeout=60,
        what="the trigger to watch while the task runs",
    )

    # 3. The task ends now: jumping the emulator clock past its end makes it SUCCEEDED at once, so
    #    this instant is when DashScope "finished" it.
    slow_emulator.backend.clock.advance(3600)
    succeeded_at = time.time()
    assert emulator_status(slow_emulator, asr_task_id) == "SUCCEEDED"

    assert dep.wait_for_run(DAG_ID, run_id, timeout=300) == "success"
    tis = {t["task_id"]: t for t in dep.task_instances(DAG_ID, run_id)}
    assert {k: v["state"] for k, v in tis.items()} == {
        "submit": "success",
        "wait": "success",
        "fetch": "success",
        "publish": "success",
    }
    # Deferred in the triggerer, then resumed on a worker (execute_complete), in one try.
    assert dep.state_history(DAG_ID, run_id, "wait") == ["running", "deferred", "running", "success"]
    assert [t["try_number"] for t in dep.task_tries(DAG_ID, run_id, "wait")] == [1]

    # 4. Exactly one billed submit, for the example's audio.
    submits = recorded(slow_emulator, "submit")
    assert len(submits) == 1
    assert submits[0]["body"]["input"]["file_url"].endswith("/welcome.mp3")

    # 5. The outputs named in the manifest exist, and the downstream task read them back.
    manifest = xcom_value(dep, run_id, "fetch")
    assert manifest["asr_task_id"] == asr_task_id
    written = [Path(urlparse(uri).path) for uri in manifest["outputs"]]
    assert sorted(p.suffix for p in written) == [".json", ".srt", ".txt", ".vtt"]
    for path in written:
        assert path.is_file(), path
        assert path.is_relative_to(out_dir)
        assert path.stat().st_size > 0
    assert sorted(p for p in out_dir.rglob("*") if p.is_file()) == sorted(written)
    assert "=== TRANSCRIPT ===" in dep.task_log(DAG_ID, run_id, "publish")
    assert xcom_value(dep, run_id, "publish") == manifest["totals"]["characters"]

    # 6. The trigger logged each status change once, not each poll.  Airflow 3 writes a trigger's
    #    log next to its task's log (served with it), not to the triggerer's stdout.
    trigger_log = dep.task_log(DAG_ID, run_id, "wait")
    changes = status_change_lines(trigger_log, asr_task_id)
    transitions = [m.group(1) for line in changes if (m := re.search(r": (\w+ -> \w+) \(", line))]
    assert transitions[-1] == "RUNNING -> SUCCEEDED", changes
    assert transitions[0].endswith("-> RUNNING"), changes
    polls = watching(slow_emulator)
    assert len(transitions) == len(set(transitions)) <= 3 < polls, (changes, polls)

    # Issue 3's "Done when": the downstream task starts within one poll interval of SUCCEEDED.
    # Printed, not asserted (a loaded CI machine makes wall-clock assertions flaky).
    fetch_started = datetime.fromisoformat(tis["fetch"]["start_date"]).timestamp()
    wait_ended = datetime.fromisoformat(tis["wait"]["end_date"]).timestamp()
    print(
        f"\nSUCCEEDED -> sensor end: {wait_ended - succeeded_at:.1f} s; "
        f"SUCCEEDED -> fetch start: {fetch_started - succeeded_at:.1f} s "
        f"(trigger poll interval 2 s growing to 30 s; {polls} queries and list pages while waiting)"
    )


@pytest.mark.e2e
def test_example_meeting_runs_without_a_logical_date(
    deployment: tuple[AirflowDeployment, Path], slow_emulator: EmulatorServer
) -> None:
    """A run triggered the Airflow 3 way (``logical_date: null``) succeeds too.

    Regression: the example's output path once used ``{{ ds }}``, which Airflow 3 leaves undefined
    for a run without a logical date (REST and CLI triggers by default, asset-triggered runs), so
    fetch failed with ``UndefinedError``; ``airflow dags test`` always sets one and never saw it.
    """
    dep, _ = deployment
    slow_emulator.backend.requests.clear()
    run_id = dep.trigger(DAG_ID)  # logical_date None, as `airflow dags trigger` sends it
    dep.wait_for(
        lambda: len(recorded(slow_emulator, "submit")) == 1, timeout=240, what="the submit to arrive"
    )
    dep.wait_for_task_state(DAG_ID, run_id, "submit", {"success"}, timeout=120)
    # Let the DashScope task finish at once (past its PENDING second and its RUNNING hour, whenever
    # the submit returned); the sensor then succeeds on its first poke.
    slow_emulator.backend.clock.advance(3600 + 60)
    state = dep.wait_for_run(DAG_ID, run_id, timeout=300)
    assert state == "success", dep.task_log(DAG_ID, run_id, "fetch")[-3000:]
