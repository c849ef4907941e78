"""K mapped transcriptions in a real Airflow deployment: what waiting costs in each sensor mode.

Run ``python benchmarks/airflow_e2e.py`` (``--help`` for the options; ``--sizes 50`` for a quick
run). It starts a real deployment on 127.0.0.1 (api-server, scheduler with the LocalExecutor,
dag-processor, one triggerer, PostgreSQL or SQLite; ``tests/e2e/deployment.py``) and the emulator
in a process of its own, then for every size K and every mode runs one DAG: K mapped
``QwenASRSubmitTranscriptionOperator`` -> K mapped ``QwenASRTaskSensor`` in that mode, each DashScope
task RUNNING for ``--wait-seconds`` after its submit.

While a run goes it samples, every ``--sample-interval`` seconds, the task instances of the
sensor by state over the REST API (a ``running`` sensor holds a worker slot; ``deferred`` and
``up_for_reschedule`` hold none), and at the end it reports:

* worker slots held by sensors: the peak, and slot-seconds (the integral over the run);
* sensor process starts (``running`` events: a poke-mode sensor starts once, a deferrable one
  twice, a rescheduled one once per poke), each costing a task process start on a worker;
* the triggerer's blocked-loop warnings ("Triggerer's async thread was blocked") and CPU seconds;
* the queries and 429s the emulator saw, the submits (must equal K, retries or not), the task
  instances that needed a retry, and the total wall time.

It prints figures; it never passes or fails. Everything it starts is stopped by process id.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.e2e (the harness)

from _common import EmulatorProcess, connection_json, machine_summary, print_table

from tests.e2e.deployment import AirflowDeployment, Component

MODES = ("deferrable", "reschedule", "poke")
#: The warning Airflow's triggerer logs when a trigger blocks its event loop (>0.2 s).
BLOCKED = re.compile(r"async thread was blocked|blocked for \d", re.IGNORECASE)

DAG_TEMPLATE = textwrap.dedent(
    '''
    """Benchmark DAG: {k} mapped transcriptions waited for in {mode} mode (written by airflow_e2e.py)."""

    from __future__ import annotations

    from datetime import datetime, timedelta

    from airflow.sdk import DAG

    from airflow_provider_qwenasr.operators.qwen_asr import QwenASRSubmitTranscriptionOperator
    from airflow_provider_qwenasr.sensors.qwen_asr import QwenASRTaskSensor

    URLS = [
        f"https://example.com/bench/{mode}-{k}/rec-{{i:04d}}.wav?pending_seconds=0&running_seconds={wait}"
        for i in range({k})
    ]

    # Retries as in production: on a saturated machine a task can lose its Execution API
    # connection; a retried submit reattaches to its DashScope task (the submits column shows it).
    RETRY = dict(retries=3, retry_delay=timedelta(seconds=5))

    with DAG("{dag_id}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
        submit = QwenASRSubmitTranscriptionOperator.partial(task_id="submit", **RETRY).expand(
            file_url=URLS
        )
        QwenASRTaskSensor.partial(
            task_id="wait",
            **RETRY,
            mode="{sensor_mode}",
            deferrable={deferrable},
            poke_interval={poke_interval},
            max_poll_interval={max_poll_interval},
            timeout=6 * 3600,
        ).expand(asr_task_id=submit.output)
    '''
)


@dataclass
class RunResult:
    """The figures of one DAG run."""

    k: int
    mode: str
    state: str = "?"
    wall_seconds: float = 0.0
    slot_seconds: float = 0.0
    peak_slots: int = 0
    peak_deferred: int = 0
    sensor_starts: int = 0
    blocked_warnings: int = 0
    triggerer_cpu: float = 0.0
    queries: int = 0
    throttled: int = 0
    submits: int = 0
    retried: int = 0
    samples: list[tuple[float, int, int, int]] = field(default_factory=list)


def dag_id(mode: str, k: int) -> str:
    """The benchmark DAG's id for one mode and size."""
    return f"bench_{mode}_{k}"


def write_dags(folder: Path, sizes: Sequence[int], modes: Sequence[str], args: argparse.Namespace) -> None:
    """Write one DAG file per (mode, size) into the deployment's DAGs folder."""
    for k in sizes:
        for mode in modes:
            text = DAG_TEMPLATE.format(
                k=k,
                mode=mode,
                dag_id=dag_id(mode, k),
                wait=args.wait_seconds,
                sensor_mode="reschedule" if mode == "reschedule" else "poke",
                deferrable=mode == "deferrable",
                poke_interval=args.poke_interval,
                max_poll_interval=max(args.poke_interval, 30),
            )
            (folder / f"{dag_id(mode, k)}.py").write_text(text)


def count(dep: AirflowDeployment, dag: str, run_id: str, state: str) -> int:
    """How many ``wait`` task instances of the run are in ``state`` (one REST call)."""
    data = dep.api.get(
        f"dags/{dag}/dagRuns/{run_id}/taskInstances",
        params={"task_id": "wait", "state": state, "limit": 1},
    )
    return int(data["total_entries"])


def events(dep: AirflowDeployment, dag: str, run_id: str, event: str) -> int:
    """How many event-log rows ``event`` the run's sensors produced (e.g. ``running``)."""
    data = dep.api.get(
        "eventLogs",
        params={"dag_id": dag, "run_id": run_id, "task_id": "wait", "event": event, "limit": 1},
    )
    return int(data["total_entries"])


def retried_task_instances(dep: AirflowDeployment, dag: str, run_id: str) -> int:
    """How many task instances of the run (submits and sensors) needed more than one try."""
    retried, offset = 0, 0
    while True:
        data = dep.api.get(
            f"dags/{dag}/dagRuns/{run_id}/taskInstances", params={"limit": 100, "offset": offset}
        )
        batch = data["task_instances"]
        retried += sum(1 for t in batch if int(t["try_number"]) > 1)
        offset += len(batch)
        if not batch or offset >= int(data["total_entries"]):
            return retried


def tree_cpu_seconds(dep: AirflowDeployment, component: Component) -> float:
    """User + system CPU seconds of a component's live processes (the triggerer and its runner)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for info in dep.processes(component):
        try:
            with open(f"/proc/{info.pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def run_one(
    dep: AirflowDeployment, emulator: EmulatorProcess, k: int, mode: str, args: argparse.Namespace
) -> RunResult:
    """Trigger one benchmark DAG, sample it until it ends, and collect its figures."""
    dag = dag_id(mode, k)
    result = RunResult(k=k, mode=mode)
    dep.unpause(dag, timeout=300)
    log_offset = len(dep.logs("triggerer"))
    stats_before = emulator.control("GET", "stats")
    cpu_before = tree_cpu_seconds(dep, "triggerer")
    began = time.monotonic()
    run_id = dep.trigger(dag)
    print(f"  {dag}: triggered {run_id}", flush=True)

    # Sampling runs beside the wait so a slow REST answer does not skew the time axis.
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            t = time.monotonic() - began
            try:
                running = count(dep, dag, run_id, "running")
                deferred = count(dep, dag, run_id, "deferred")
                resched = count(dep, dag, run_id, "up_for_reschedule")
            except Exception as exc:  # the api-server can be slow on a loaded box: skip a sample
                print(f"  sample at {t:.0f}s skipped: {exc!r:.200}", flush=True)
            else:
                result.samples.append((t, running, deferred, resched))
            stop.wait(args.sample_interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result.state = dep.wait_for_run(dag, run_id, timeout=args.run_timeout)
    finally:
        stop.set()
        sampler.join(timeout=60)
    result.wall_seconds = time.monotonic() - began
    result.triggerer_cpu = tree_cpu_seconds(dep, "triggerer") - cpu_before

    # Slot-seconds: each sample stands for the interval up to the next one (the sampling interval
    # is short against the run, so a step function is close enough).
    for (t0, running, *_), (t1, *_) in zip(result.samples, result.samples[1:], strict=False):
        result.slot_seconds += running * (t1 - t0)
    result.peak_slots = max((s[1] for s in result.samples), default=0)
    result.peak_deferred = max((s[2] for s in result.samples), default=0)
    result.sensor_starts = events(dep, dag, run_id, "running")
    result.retried = retried_task_instances(dep, dag, run_id)
    new_log = dep.logs("triggerer")[log_offset:]
    result.blocked_warnings = sum(1 for line in new_log.splitlines() if BLOCKED.search(line))
    stats_after = emulator.control("GET", "stats")
    result.queries = stats_after["requests"].get("query", 0) - stats_before["requests"].get("query", 0)
    result.throttled = stats_after["throttled"].get("query", 0) - stats_before["throttled"].get("query", 0)
    result.submits = stats_after["submits"] - stats_before["submits"]
    print(
        f"  {dag}: {result.state} in {result.wall_seconds:.0f}s, peak slots {result.peak_slots}, "
        f"{result.slot_seconds:.0f} slot-s, {result.sensor_starts} sensor starts, "
        f"{result.blocked_warnings} blocked warnings, {result.submits} submits, "
        f"{result.retried} retried TIs",
        flush=True,
    )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, run every (size, mode) and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="50,200", help="comma-separated K values (default 50,200)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated, of " + ", ".join(MODES))
    parser.add_argument(
        "--wait-seconds", type=int, default=60, help="how long each DashScope task runs (default 60)"
    )
    parser.add_argument(
        "--poke-interval", type=float, default=15.0, help="sensor poke_interval, every mode (default 15)"
    )
    parser.add_argument(
        "--parallelism", type=int, default=16, help="[core] parallelism = worker slots (default 16)"
    )
    parser.add_argument(
        "--database",
        choices=("postgres", "sqlite"),
        default="postgres",
        help="metadata DB (default postgres: with SQLite, 16 parallel tasks lock the DB out)",
    )
    parser.add_argument(
        "--sample-interval", type=float, default=5.0, help="seconds between samples (default 5)"
    )
    parser.add_argument("--run-timeout", type=float, default=3600.0, help="give up on a run after this")
    parser.add_argument("--keep", action="store_true", help="keep the deployment's folder (logs)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown mode(s): {', '.join(sorted(unknown))}")

    print(machine_summary())
    print(
        f"K={sizes}, modes={modes}, each task RUNNING {args.wait_seconds}s after its submit, "
        f"poke_interval {args.poke_interval}s, parallelism {args.parallelism}, {args.database}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="qwenasr-airflow-e2e-"))
    results: list[RunResult] = []
    # The real service's quota (20 queries/s per key): what the sensors must live with.
    with EmulatorProcess(query_qps=20) as emulator:
        dags = workdir / "dags"
        dags.mkdir()
        write_dags(dags, sizes, modes, args)
        dep = AirflowDeployment(
            workdir / "deployment",
            dags_folder=dags,
            database=args.database,
            env={"AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url)},
            airflow_config={
                "core": {"parallelism": args.parallelism, "max_active_tasks_per_dag": args.parallelism},
                # The dag-processor parses 2 x len(sizes) files; give it room on a small machine.
                "dag_processor": {"min_file_process_interval": 60},
            },
            start_timeout=300,
        )
        started = time.monotonic()
        try:
            dep.start()
            print(f"deployment up in {time.monotonic() - started:.0f}s ({workdir})", flush=True)
            for k in sizes:
                for mode in modes:
                    results.append(run_one(dep, emulator, k, mode, args))
        finally:
            dep.stop()
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)

    headers = [
        "K",
        "mode",
        "run",
        "wall s",
        "peak slots held",
        "slot-s held",
        "sensor starts",
        "peak deferred",
        "blocked warnings",
        "triggerer CPU s",
        "queries",
        "429s",
        "submits",
        "retried TIs",
    ]
    rows: list[list[Any]] = [
        [
            r.k,
            r.mode,
            r.state,
            r.wall_seconds,
            r.peak_slots,
            r.slot_seconds,
            r.sensor_starts,
            r.peak_deferred,
            r.blocked_warnings,
            r.triggerer_cpu,
            r.queries,
            r.throttled,
            r.submits,
            r.retried,
        ]
        for r in results
    ]
    print_table(headers, rows, title=f"Real deployment: LocalExecutor + 1 triggerer, {args.database}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
