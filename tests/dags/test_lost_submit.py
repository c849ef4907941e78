"""Pays once in a real Airflow: a submit whose answer is lost is billed once across every try.

Each test arms the emulator over HTTP, runs ``airflow dags test``, and counts the tasks the service
holds afterwards: a retry must reattach to the task the lost submit created, never pay again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.airflow_runner import AirflowHome
from tests.airflow_versions import before_airflow, needs_airflow
from tests.conftest import connection_json

DAG_FILE = Path(__file__).parent / "dag_files" / "lost_submit_dags.py"
#: Seconds; the emulator on 127.0.0.1 answers in milliseconds, even on a loaded machine.
READ_TIMEOUT = 5


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    home = AirflowHome(tmp_path_factory.mktemp("airflow-home"))
    home.add_dag(DAG_FILE)
    return home


@pytest.fixture
def run_env(emulator) -> dict[str, str]:  # type: ignore[no-untyped-def]
    # A short read timeout: a submit whose connection closed without an answer waits twice it
    # (plus the list's lag) before it decides whether a task was created; 60 s by default.
    conn = connection_json(emulator.base_url, query_qps=50, read_timeout=READ_TIMEOUT)
    return {"AIRFLOW_CONN_QWEN_ASR_DEFAULT": conn}


#: How the answer of a submit that created its task is lost: a 500, a body cut short, the
#: connection closed before any answer.
LOSSES = [
    pytest.param("status", id="500-after-acting"),
    pytest.param("truncate", id="truncated-answer"),
    pytest.param("reset", id="connection-closed"),
]


def _arm_lost_answers(emulator, count: int, kind: str = "status") -> None:  # type: ignore[no-untyped-def]
    """The next ``count`` submits create their task, then lose the answer: the outcome looks unknown."""
    requests.post(
        f"{emulator.root_url}/emulator-api/faults",
        json={"endpoint": "submit", "kind": kind, "status": 500, "count": count, "process_request": True},
        timeout=10,
    ).raise_for_status()


@pytest.mark.parametrize("kind", LOSSES)
def test_a_lost_answer_is_billed_once_in_the_worker(home: AirflowHome, run_env, emulator, kind: str) -> None:  # type: ignore[no-untyped-def]
    """Regression (issue 13 item 1): a lost answer used to end in a retry that paid a second time."""
    _arm_lost_answers(emulator, 1, kind)
    result = home.dags_test("qwenasr_lost_answer_blocking", env=run_env)
    result.assert_succeeded()
    assert emulator.backend.task_count() == 1
    assert "continuing with it, nothing is sent again" in result.output


@pytest.mark.parametrize("kind", LOSSES)
def test_mapped_siblings_each_keep_their_own_task(home: AirflowHome, run_env, emulator, kind: str) -> None:  # type: ignore[no-untyped-def]
    """Three siblings submit the same model at once and all lose their answers: three tasks, each
    identified by its own input file, none taken by a sibling."""
    _arm_lost_answers(emulator, 3, kind)
    result = home.dags_test("qwenasr_lost_answer_mapped", env=run_env)
    result.assert_succeeded()
    assert emulator.backend.task_count() == 3
    ids = {
        line.rsplit(" is its task", 1)[0].rsplit(" ", 1)[-1]
        for line in result.output.splitlines()
        if " is its task" in line
    }
    assert len(ids) == 3, result.output[-4000:]


@needs_airflow("3.3", "the attempt is recorded in task_state_store, which arrived in 3.3")
@pytest.mark.parametrize("deferrable", [False, True], ids=["in-worker", "deferred"])
def test_retry_after_dying_mid_submit_reattaches(
    home: AirflowHome, run_env, emulator, deferrable: bool
) -> None:  # type: ignore[no-untyped-def]
    """The worker dies once the billed POST left: the next try finds the attempt recorded before the
    POST, identifies the task it created and reattaches (one-shot operator, both wait paths)."""
    env = {**run_env, "QWENASR_TEST_DEFERRABLE": "1" if deferrable else "0"}
    result = home.dags_test("qwenasr_dies_after_submit", env=env)
    result.assert_succeeded()
    assert "simulated worker death" in result.output
    assert "looking for the task it created" in result.output
    assert "Reattaching to DashScope task" in result.output
    assert emulator.backend.task_count() == 1


@before_airflow("3.3", "no task_state_store before 3.3")
def test_retry_after_dying_mid_submit_submits_again_before_3_3(home: AirflowHome, run_env, emulator) -> None:  # type: ignore[no-untyped-def]
    """The documented degradation: without task_state_store nothing survives the dead try, so the
    retry cannot know a task was created and submits (and bills) a second one."""
    result = home.dags_test("qwenasr_dies_after_submit", env={**run_env, "QWENASR_TEST_DEFERRABLE": "0"})
    result.assert_succeeded()
    assert "simulated worker death" in result.output
    assert "No task_state_store (Airflow < 3.3)" in result.output
    assert "Reattaching to DashScope task" not in result.output
    assert emulator.backend.task_count() == 2
