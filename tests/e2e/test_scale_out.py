"""Scale-out end to end: 200 transcriptions on CeleryExecutor, two triggerers (one killed midway),
two Celery workers, one DashScope account with a 20 queries/s quota (issue 9, item 3).

Everything runs on 127.0.0.1 and is started by the test: PostgreSQL and Redis (throwaway), the Airflow
components (through :class:`~tests.e2e.deployment.AirflowDeployment`, which stops them by pid), and the
emulator, in this process. The DAG is ``tests/e2e/dag_files/scale_out_dag.py``: a mapped
``QwenASRSubmitTranscriptionOperator`` (wait_for_completion, deferrable) over 200 audio URLs.

The connection sets no ``expected_processes``: each triggerer starts at the default ``query_qps`` (15)
while the account allows 20, so the two together over-commit by half and the AIMD budgets have to
find their shares on their own. Polls start 1 s apart and stretch to 5 s, so 200 waits ask for about
40 queries/s: the budgets, not the poll interval, set the pace.

The run: every task is held RUNNING (for half an hour of emulator time) until all 200 are submitted
and waiting in the two triggerers; then the triggerer holding the most triggers is killed and the
emulator's clock jumps over the hold, so that every task ends within 5 to 40 s while the killed
triggerer's tasks have nobody polling them. Airflow hands those triggers to the survivor, which
re-creates them from their kwargs and reports every task.

The assertions are counts and ratios from the emulator's request log and from Airflow, never times.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import EMULATOR_API_KEY, connection_json
from tests.e2e.conftest import DeploymentFactory

if TYPE_CHECKING:
    from tests.e2e.deployment import AirflowDeployment

DAG_FILE = Path(__file__).parent / "dag_files" / "scale_out_dag.py"
DAG_ID = "qwenasr_scale_out"
TASK_ID = "transcribe"
TRANSCRIPTIONS = 200
#: DashScope's per-account query quota, enforced by the emulator.
QUOTA_QPS = 20.0
#: Endpoints that draw on the quota (submits do not).
RATED_ENDPOINTS = frozenset({"query", "list", "cancel"})
#: 429s allowed, as a share of rated queries, once the budgets had ten seconds to settle.
MAX_THROTTLED_SHARE = 0.02
SETTLE_SECONDS = 10.0
#: Every task stays RUNNING this long (plus 5 to 40 s) until the test jumps the emulator's clock.
HOLD_SECONDS = 1800.0


def task_instances(dep: AirflowDeployment, dag_id: str, run_id: str, **filters: Any) -> list[dict[str, Any]]:
    """Every task instance of a run (all map indexes), page by page: the harness lists only 100."""
    found: list[dict[str, Any]] = []
    while True:
        page = dep.api.get(
            f"dags/{dag_id}/dagRuns/{run_id}/taskInstances",
            params={"limit": 100, "offset": len(found), "order_by": "map_index", **filters},
        )
        batch = list(page["task_instances"])
        found.extend(batch)
        if not batch or len(found) >= int(page["total_entries"]):
            return found


def event_logs(dep: AirflowDeployment, **filters: Any) -> list[dict[str, Any]]:
    """Every event-log row matching ``filters``, oldest first, page by page."""
    rows: list[dict[str, Any]] = []
    while True:
        page = dep.api.get(
            "eventLogs", params={"limit": 100, "offset": len(rows), "order_by": "id", **filters}
        )
        batch = list(page["event_logs"])
        rows.extend(batch)
        if not batch or len(rows) >= int(page["total_entries"]):
            return rows


def triggerer_holdings(dep: AirflowDeployment, deferred: Iterable[Mapping[str, Any]]) -> Counter[int]:
    """How many of the ``deferred`` task instances each triggerer (by harness index) is running."""
    index_of_job = {job: index for (name, index), job in dep.job_ids.items() if name == "triggerer"}
    held: Counter[int] = Counter()
    for ti in deferred:
        job = (ti.get("triggerer_job") or {}).get("id")
        if job in index_of_job:
            held[index_of_job[job]] += 1
    return held


def throttled_share(entries: Iterable[Mapping[str, Any]], settle: float = SETTLE_SECONDS) -> tuple[int, int]:
    """``(throttled, rated)`` among rated requests sent ``settle`` seconds or more after the first one."""
    rated = [e for e in entries if e["endpoint"] in RATED_ENDPOINTS]
    if not rated:
        return 0, 0
    start = min(e["time"] for e in rated) + settle
    late = [e for e in rated if e["time"] >= start]
    return sum(1 for e in late if e["status"] == 429), len(late)


def peak_rate(entries: Iterable[Mapping[str, Any]], window: float = 5.0) -> float:
    """The highest rate of *answered* rated queries over any ``window`` seconds (queries/s)."""
    times = sorted(e["time"] for e in entries if e["endpoint"] in RATED_ENDPOINTS and e["status"] != 429)
    best, first = 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] > window:
            first += 1
        best = max(best, last - first + 1)
    return best / window


@pytest.mark.e2e
def test_two_hundred_transcriptions_two_triggerers_one_killed(
    require_celery_stack: None,
    airflow_deployment: DeploymentFactory,
    e2e_dags_folder: Path,
) -> None:
    """200 mapped transcriptions: one submit each, under 2 % 429s, a triggerer killed midway."""
    from airflow_provider_qwenasr.emulator import EmulatorConfig, EmulatorServer

    shutil.copy(DAG_FILE, e2e_dags_folder / DAG_FILE.name)
    emulator = EmulatorServer(
        EmulatorConfig(api_keys=(EMULATOR_API_KEY,), query_qps=QUOTA_QPS), host="127.0.0.1", port=0
    ).start()
    try:
        dep = airflow_deployment(
            dags_folder=e2e_dags_folder,
            executor="CeleryExecutor",
            database="postgres",
            triggerers=2,
            celery_workers=2,
            # Two task processes per worker: four at once is what two cores sustain next to the
            # scheduler, the triggerers and the emulator.
            celery_concurrency=2,
            start_timeout=300.0,
            env={
                "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url),
                "QWENASR_SCALE_POLL_INTERVAL": "1",
                "QWENASR_SCALE_MAX_POLL_INTERVAL": "5",
            },
        )
        dep.unpause(DAG_ID, timeout=180)
        run_id = dep.trigger(
            DAG_ID,
            conf={
                "count": TRANSCRIPTIONS,
                "min_seconds": HOLD_SECONDS + 5,
                "max_seconds": HOLD_SECONDS + 40,
            },
        )

        # Every transcription submitted and waiting, the waits shared by the two triggerers: the
        # budgets now compete for the quota (2 x 15 queries/s asked of 20).
        held: Counter[int] = Counter()
        deferred: list[dict[str, Any]] = []

        def all_waiting() -> bool:
            if len(emulator.backend.requests.entries("submit")) < TRANSCRIPTIONS:
                return False
            deferred[:] = task_instances(dep, DAG_ID, run_id, task_id=TASK_ID, state="deferred")
            held.clear()
            held.update(triggerer_holdings(dep, deferred))
            return len(deferred) == TRANSCRIPTIONS and len(held) == 2

        dep.wait_for(all_waiting, timeout=1200, what="all transcriptions deferred, in both triggerers")
        killed_at = emulator.backend.clock.now()

        # Kill the triggerer holding the most triggers, then let every task end (the emulator's
        # clock jumps over the hold): the orphaned tasks end while nobody polls them, and only the
        # triggers the survivor re-creates from their kwargs can report them.
        victim = held.most_common(1)[0][0]
        orphaned = {ti["map_index"] for ti in deferred if triggerer_holdings(dep, [ti]).get(victim)}
        dep.kill_component("triggerer", index=victim)
        emulator.backend.clock.advance(HOLD_SECONDS)

        assert dep.wait_for_run(DAG_ID, run_id, timeout=1500) == "success"
        entries = emulator.backend.requests.entries()
    finally:
        emulator.stop()

    # Every mapped transcription succeeded, none is left deferred or running.
    tis = task_instances(dep, DAG_ID, run_id, task_id=TASK_ID)
    assert len(tis) == TRANSCRIPTIONS
    assert Counter(ti["state"] for ti in tis) == {"success": TRANSCRIPTIONS}

    # Exactly one submit per transcription: 200 submits, each answered, for 200 distinct audio files.
    submits = [e for e in entries if e["endpoint"] == "submit"]
    assert len(submits) == TRANSCRIPTIONS
    assert {e["status"] for e in submits} == {200}
    assert len({e["body"]["input"]["file_url"] for e in submits}) == TRANSCRIPTIONS
    assert emulator.backend.task_count() == TRANSCRIPTIONS

    # The budgets held the account's quota: under 2 % of queries throttled once settled.
    throttled, rated = throttled_share(entries)
    both_throttled, both_rated = throttled_share([e for e in entries if e["time"] < killed_at])
    print(
        f"\nscale-out: {rated} rated queries after the first {SETTLE_SECONDS:.0f} s, {throttled} throttled "
        f"({throttled / max(rated, 1):.2%}); with both triggerers up: {both_throttled}/{both_rated}; "
        f"peak {peak_rate(entries):.1f} answered queries/s over 5 s; triggerer-{victim} was killed "
        f"holding {len(orphaned)} of {TRANSCRIPTIONS} triggers ({dict(held)})"
    )
    assert rated > TRANSCRIPTIONS
    assert throttled / rated < MAX_THROTTLED_SHARE

    # No event lost: every transcription deferred and came back to a worker once, and each trigger
    # of the killed triggerer was taken over and fired (its task resumed and succeeded).
    assert orphaned, "the killed triggerer held triggers"
    events = event_logs(dep, dag_id=DAG_ID, run_id=run_id, task_id=TASK_ID)
    deferred = Counter(e["map_index"] for e in events if e["event"] == "deferred")
    succeeded = Counter(e["map_index"] for e in events if e["event"] == "success")
    assert set(deferred) == set(range(TRANSCRIPTIONS))
    assert succeeded == dict.fromkeys(range(TRANSCRIPTIONS), 1)
    assert orphaned <= set(succeeded)
