"""Run ``airflow dags test`` for real, in a subprocess with its own Airflow home.

Used by the tests that prove the operators in a real Airflow (not mocks): the DAG file is parsed by
Airflow, the tasks run through the task SDK, deferrals go through the trigger, and retries happen as
Airflow does them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.airflow_versions import airflow_at_least

AIRFLOW = str(Path(sys.executable).with_name("airflow"))

#: ``airflow dags test`` runs the task supervisor in-process, and on Airflow 3.0 both ends debug-log
#: every message of the supervisor protocol, bodies included: the rendered fields before Airflow
#: masks them, each value sent to the secret masker. Those lines are Airflow's own, printed only by
#: ``dags test`` (a worker logs at INFO, and the task log never has them): dropped before 3.1.
_PROTOCOL_DEBUG = re.compile(
    r"^.*\[debug\s*\] (?:Sending request|Received message from task runner).*$\n?", re.MULTILINE
)


def cli_json(output: str) -> Any:
    """The JSON document an ``airflow ... -o json`` command printed, past any log lines before it.

    Airflow 3.0 and 3.2 log to stdout while the CLI starts (``setup plugin alembic...``).
    """
    decoder = json.JSONDecoder()
    for match in re.finditer(r"^[\[{]", output, re.MULTILINE):
        try:
            document, _ = decoder.raw_decode(output, match.start())
        except ValueError:
            continue
        return document
    raise ValueError(f"no JSON document in the output:\n{output[-2000:]}")


def fresh_interpreter_json(script: str, marker: str) -> Any:
    """Run ``script`` in a new interpreter and return the JSON it printed after ``marker``.

    For what Airflow caches per process (the providers and plugins managers, the API server's hook
    metadata): each check needs an interpreter that has read nothing yet.
    """
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith(marker)]
    return json.loads(line.removeprefix(marker))


@dataclass
class DagsTestResult:
    """What one ``airflow dags test`` run printed, and how it ended."""

    returncode: int
    output: str

    def assert_succeeded(self) -> None:
        """Fail with the run's output when the DAG run did not succeed."""
        assert self.returncode == 0, self.output[-6000:]
        assert "state=success" in self.output.replace(" ", ""), self.output[-6000:]


class AirflowHome:
    """A throwaway ``AIRFLOW_HOME`` with a migrated SQLite database and a DAGs folder.

    Migration takes seconds, so one home serves a whole test module; each DAG run gets a new run id.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dags = root / "dags"
        self.dags.mkdir(parents=True, exist_ok=True)
        self.env: dict[str, str] = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "AIRFLOW__"))},
            "AIRFLOW_HOME": str(root),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{root / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # Rich wraps tracebacks at 80 columns when not on a terminal, splitting the messages the
            # tests look for (Airflow 3.0 prints task errors that way).
            "COLUMNS": "1000",
        }
        result = subprocess.run(
            [AIRFLOW, "db", "migrate"], env=self.env, capture_output=True, text=True, timeout=300, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{result.stdout}\n{result.stderr}")

    def add_dag(self, source: Path, name: str | None = None) -> Path:
        """Copy a DAG file into the DAGs folder."""
        target = self.dags / (name or source.name)
        shutil.copy(source, target)
        return target

    def dags_test(
        self,
        dag_id: str,
        *,
        env: dict[str, str] | None = None,
        conf: dict[str, object] | None = None,
        timeout: float = 300,
    ) -> DagsTestResult:
        """Run ``airflow dags test DAG_ID`` (with ``conf`` as the run's conf) and return its output."""
        result = subprocess.run(
            [AIRFLOW, "dags", "test", dag_id, *(["--conf", json.dumps(conf)] if conf is not None else [])],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = result.stdout + result.stderr
        if not airflow_at_least("3.1"):
            output = _PROTOCOL_DEBUG.sub("", output)
        return DagsTestResult(result.returncode, output)

    def task_states(self, dag_id: str) -> dict[str, str | None]:
        """The state of each task instance in the DAG's latest run, read from the metadata database."""
        with closing(sqlite3.connect(self.root / "airflow.db")) as db:
            rows = db.execute(
                "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = ? AND run_id = "
                "(SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1)",
                (dag_id, dag_id),
            ).fetchall()
        return {(t if m < 0 else f"{t}[{m}]"): state for t, m, state in rows}
