"""Tests proving the e2e harness works, using only Airflow's own operators (no provider code).

Each test starts real Airflow processes (api-server, scheduler, dag-processor, triggerer) on 127.0.0.1
through ``AirflowDeployment``. The PostgreSQL + Redis + Celery configuration with two triggerers is
exercised by tests/e2e/test_scale_out.py, which also kills a triggerer holding triggers.
"""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import DeploymentFactory
from tests.e2e.services import MARKER_ENV, ManagedProcess, process_info, processes_with_env

# A deferrable sensor followed by a PythonOperator that writes a file.  DateTimeSensorAsync always
# defers (its target is rendered at task start, so it cannot have passed before the task runs) and
# resumes on a worker via ``execute_complete``, unlike WaitSensor which ends in the triggerer.
DEFERRABLE_DAG = textwrap.dedent(
    """
    from __future__ import annotations

    import datetime
    from pathlib import Path

    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
    from airflow.sdk import DAG

    SENSORS = {sensors}


    def _write(**context):
        out = Path(context["params"]["out_dir"]) / (context["run_id"].replace(":", "_") + ".txt")
        out.write_text(context["run_id"])


    with DAG(
        "{dag_id}",
        schedule=None,
        start_date=datetime.datetime(2024, 1, 1),
        catchup=False,
        params={{"wait_seconds": 10, "out_dir": "/nonexistent"}},
    ):
        waits = [
            DateTimeSensorAsync(
                task_id=f"wait_{{i}}",
                target_time=(
                    "{{{{ macros.datetime.utcnow() + macros.timedelta(seconds=params.wait_seconds | int) }}}}"
                ),
            )
            for i in range(SENSORS)
        ]
        waits >> PythonOperator(task_id="write", python_callable=_write)
    """
)

# A task whose first try blocks (so the test can kill its process) and whose retry succeeds.
RETRY_DAG = textwrap.dedent(
    """
    from __future__ import annotations

    import datetime
    import time
    from pathlib import Path

    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG


    def _work(**context):
        out = Path(context["params"]["out_dir"])
        if context["ti"].try_number == 1:
            (out / "first_try_started").write_text("x")
            time.sleep(600)  # killed by the test long before this ends
        (out / "done").write_text(str(context["ti"].try_number))


    with DAG(
        "e2e_harness_retry",
        schedule=None,
        start_date=datetime.datetime(2024, 1, 1),
        catchup=False,
        params={"out_dir": "/nonexistent"},
    ):
        PythonOperator(
            task_id="work",
            python_callable=_work,
            retries=1,
            retry_delay=datetime.timedelta(seconds=1),
        )
    """
)


def write_deferrable_dag(folder: Path, dag_id: str, sensors: int = 1) -> None:
    """Write the deferrable-sensor DAG with ``sensors`` parallel sensors into ``folder``."""
    (folder / f"{dag_id}.py").write_text(DEFERRABLE_DAG.format(dag_id=dag_id, sensors=sensors))


@pytest.mark.e2e
def test_local_executor_deferred_sensor_resumes_and_task_retries(
    airflow_deployment: DeploymentFactory, e2e_dags_folder: Path, tmp_path: Path
) -> None:
    """SQLite + LocalExecutor: a deferred sensor resumes; a triggerer crash and a killed task recover."""
    write_deferrable_dag(e2e_dags_folder, "e2e_harness_deferrable")
    (e2e_dags_folder / "e2e_harness_retry.py").write_text(RETRY_DAG)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    dep = airflow_deployment(dags_folder=e2e_dags_folder)

    health = dep.api.get("monitor/health")
    assert {health[c]["status"] for c in ("metadatabase", "scheduler", "triggerer", "dag_processor")} == {
        "healthy"
    }

    # 1. Happy path: the sensor defers, the triggerer fires, the sensor resumes on a worker.
    dep.unpause("e2e_harness_deferrable")
    run_id = dep.trigger("e2e_harness_deferrable", conf={"wait_seconds": 5, "out_dir": str(out_dir)})
    assert dep.wait_for_run("e2e_harness_deferrable", run_id, timeout=240) == "success"
    assert dep.state_history("e2e_harness_deferrable", run_id, "wait_0") == [
        "running",
        "deferred",
        "running",  # resumed on a worker (execute_complete), not ended in the triggerer
        "success",
    ]
    tries = dep.task_tries("e2e_harness_deferrable", run_id, "wait_0")
    assert [t["state"] for t in tries] == ["success"]
    assert "deferred" in tries[0]["event_states"]
    assert {t["task_id"]: t["state"] for t in dep.task_instances("e2e_harness_deferrable", run_id)} == {
        "wait_0": "success",
        "write": "success",
    }
    assert (out_dir / (run_id.replace(":", "_") + ".txt")).read_text() == run_id
    assert "write" in dep.task_log("e2e_harness_deferrable", run_id, "write")

    # 2. Crash the triggerer while the sensor is deferred; a restarted triggerer takes the trigger
    #    over once the dead one's heartbeat is stale and the run still succeeds.
    run_id = dep.trigger("e2e_harness_deferrable", conf={"wait_seconds": 20, "out_dir": str(out_dir)})
    dep.wait_for_task_state("e2e_harness_deferrable", run_id, "wait_0", {"deferred"}, timeout=180)
    old_pid = dep.component("triggerer").pid
    dep.kill_component("triggerer")
    assert old_pid is not None
    assert process_info(old_pid) is None
    dep.start_component("triggerer")
    assert dep.wait_for_run("e2e_harness_deferrable", run_id, timeout=240) == "success"
    assert "deferred" in dep.state_history("e2e_harness_deferrable", run_id, "wait_0")
    assert dep.logs("triggerer").count("e2e harness: starting triggerer-0") == 2

    # 3. Kill the task process of a running task: the supervisor reports the failure and the
    #    scheduler retries it.
    dep.unpause("e2e_harness_retry")
    run_id = dep.trigger("e2e_harness_retry", conf={"out_dir": str(out_dir)})
    ti = dep.wait_for_task_state("e2e_harness_retry", run_id, "work", {"running"}, timeout=180)
    dep.wait_for(lambda: (out_dir / "first_try_started").exists(), timeout=120, what="first try to start")
    ti = dep.task_instance("e2e_harness_retry", run_id, "work")
    task_pid = ti["pid"]
    assert task_pid in {p.pid for p in dep.processes("scheduler")}, "TI pid is a LocalExecutor descendant"
    os.kill(task_pid, signal.SIGKILL)
    assert dep.wait_for_run("e2e_harness_retry", run_id, timeout=240) == "success"
    tries = dep.task_tries("e2e_harness_retry", run_id, "work")
    assert [t["try_number"] for t in tries] == [1, 2]
    assert tries[0]["state"] in {"failed", "up_for_retry"}
    assert tries[1]["state"] == "success"
    assert (out_dir / "done").read_text() == "2"

    # 4. stop() ends every process of the deployment (teardown would also do it).
    dep.stop()
    assert processes_with_env(MARKER_ENV, dep.deployment_id) == []


# A process tree like Airflow's: a child in the parent's group, a child that moved to its own
# process group (as the task supervisor does with task processes) and, with "orphan", a
# grandchild whose parent exits so it is re-parented away from the tree.
TREE_SCRIPT = """
import os, subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
if sys.argv[1] == "orphan":
    subprocess.Popen([sys.executable, "-c",
        "import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
        " start_new_session=True)"]).wait()
print("ready", flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("mode", ["plain", "orphan"])
@pytest.mark.parametrize("how", ["stop", "kill"])
def test_managed_process_ends_whole_tree(tmp_path: Path, mode: str, how: str) -> None:
    """stop()/kill() end the process, its group, children in other groups and orphans, by pid."""
    marker = f"tree-test-{os.getpid()}-{mode}-{how}"
    env = {**os.environ, MARKER_ENV: marker}
    proc = ManagedProcess(
        "tree", [sys.executable, "-c", TREE_SCRIPT, mode], env=env, log_path=tmp_path / "tree.log"
    )
    proc.start()
    try:
        deadline = time.monotonic() + 30
        expected = 4 if mode == "orphan" else 3  # root + 2 children (+ the orphaned grandchild)
        while len(processes_with_env(MARKER_ENV, marker)) < expected or "ready" not in proc.log_text():
            assert time.monotonic() < deadline, proc.describe()
            time.sleep(0.1)
        if mode == "orphan":
            assert len(proc.tree()) < len(processes_with_env(MARKER_ENV, marker)), "one left the tree"
    finally:
        proc.stop(grace=5) if how == "stop" else proc.kill()
    assert not proc.is_running()
    assert processes_with_env(MARKER_ENV, marker) == []
