"""Scale-out on real components: 1 vs 2 triggerers sharing one DashScope account, N waits each.

Run ``.venv/bin/python benchmarks/scale_out.py`` (``--help`` for the options; ``--sizes 200,1000``,
``--triggerers 1,2`` and ``--status-sweep off,on`` pick the runs). For every (triggerer count, sweep)
pair it starts the deployment of the scale-out test (PostgreSQL + Redis + CeleryExecutor, api-server,
scheduler, dag-processor, the triggerers and two Celery workers, all on 127.0.0.1, through
``tests/e2e/deployment.py``, which stops them by pid), and an emulator in its own process with the
account's quota (20 queries/s, and 20 list calls/s in a bucket of their own). For every size N and
poll intervals it runs ``tests/e2e/dag_files/scale_out_dag.py`` with N transcriptions that all end
together (``end_at``, spread over ``--spread`` seconds) after the submits, so that all N waits overlap.

``--status-sweep`` sets the connection's ``extra.status_sweep``: ``off``, each trigger polls its own
task (``GET /tasks/{id}``, endpoint ``query``) on its schedule; ``on`` (the provider's default), one
board per account and triggerer sweeps the task list (``GET /tasks?status=PENDING|RUNNING``, endpoint
``list``) and wakes only the triggers whose task left it, each of which then confirms with one query
(plus a rare safety poll or a confirmation that found the task still open). Each (triggerers, N,
intervals, sweep) combination is one row of every table.

It reports, per run, from the emulator's request log and from ``/proc`` of the triggerer processes:

* queries/s sent (answered + throttled; ``query`` only, the quota's bucket) while tasks were waiting,
  the peak answered rate over 10 s, and the quota; list calls/s in the same window (their own
  quota);
* the share of 429 answers, of queries and of list calls apart;
* triggerer queries per finished task (all the triggerers' queries of the run, 429s included, over
  the tasks that SUCCEEDED): about the number of polls per task with polling, 1 when the sweep wakes
  each trigger once and its confirmation sees the end;
* the detection delay: from the task's end (the emulator's ``end_time``) to the first triggerer query
  that saw it SUCCEEDED (mean, median, p95). With the sweep that query is the confirmation, so the
  delay covers the sweep that missed the task plus the query. Next to it the model: ``N / 2B`` for
  polling, half a board's sweep period for the sweep (the time between the starts of its sweeps,
  from the log: the list calls for page 1 of PENDING);
* the delay from the end to the resumed task's start on a worker (the ``running`` event that follows
  ``deferred`` in Airflow's event log; median, p95);
* triggerer CPU seconds and peak RSS (the triggerer and its trigger-runner child, all triggerers).

Triggerer queries and worker queries are told apart by their client (httpx vs requests). It prints
tables; it never passes or fails. See docs/scaling.md ("Measured") for figures and how to read them.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from _common import (
    API_KEY,
    EmulatorProcess,
    connection_json,
    machine_summary,
    median,
    percentile,
    print_table,
)

from tests.e2e.deployment import AirflowDeployment

DAG_FILE = Path(__file__).resolve().parent.parent / "tests" / "e2e" / "dag_files" / "scale_out_dag.py"
DAG_ID = "qwenasr_scale_out"
TASK_ID = "transcribe"
#: The endpoints measured against the query quota. The emulator keeps a bucket per endpoint
#: (query, list, cancel), so list calls are counted apart (:data:`LIST_ENDPOINT`), never with these.
RATED_ENDPOINTS = frozenset({"query"})
#: The task list, which the status board sweeps (its own quota).
LIST_ENDPOINT = "list"
_TICKS = os.sysconf("SC_CLK_TCK")


# -- the triggerers' resources, from /proc -------------------------------------------------------


def _cpu_and_rss(pids: Iterable[int]) -> tuple[float, float]:
    """Total CPU seconds (user + system) and total RSS (MiB) of the live processes among ``pids``."""
    cpu = rss = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue  # gone since the snapshot
        fields = stat.rsplit(")", 1)[1].split()
        cpu += (int(fields[11]) + int(fields[12])) / _TICKS
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1]) / 1024
    return cpu, rss


class TriggererSampler:
    """Samples the CPU and RSS of every triggerer process tree every ``interval`` seconds.

    CPU is cumulative per process, so the run's figure is the sum of each process's last reading
    minus its first (a process that appears midway counts from zero).
    """

    def __init__(self, dep: AirflowDeployment, interval: float = 2.0) -> None:
        self.dep = dep
        self.interval = interval
        self.first_cpu: dict[int, float] = {}
        self.last_cpu: dict[int, float] = {}
        self.peak_rss = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="triggerer-sampler", daemon=True)

    def _sample(self) -> None:
        pids = [p.pid for p in self.dep.processes("triggerer")]
        total_rss = 0.0
        for pid in pids:
            cpu, rss = _cpu_and_rss([pid])
            self.first_cpu.setdefault(pid, cpu)
            self.last_cpu[pid] = cpu
            total_rss += rss
        self.peak_rss = max(self.peak_rss, total_rss)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> TriggererSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds the triggerers spent between enter and exit."""
        return sum(self.last_cpu[pid] - self.first_cpu[pid] for pid in self.last_cpu)


# -- reading the emulator's log ------------------------------------------------------------------


@dataclass
class RunFigures:
    """What one run measured (times in seconds)."""

    triggerers: int
    n: int
    quota: float
    budget: float
    poll_interval: float
    max_poll_interval: float
    sweep: bool = False
    wall: float = 0.0
    succeeded: int = 0
    submits: int = 0
    sent_qps: float = 0.0
    peak_qps: float = 0.0
    throttled_share: float = 0.0
    throttled_share_settled: float = 0.0
    list_qps: float = 0.0
    list_calls: int = 0
    list_throttled: int = 0
    list_throttled_share: float = 0.0
    trigger_queries: int = 0
    trigger_throttled: int = 0
    worker_queries: int = 0
    queries_per_task: float = float("nan")
    sweep_period: float = float("nan")
    predicted_sweep: float = float("nan")
    detect_mean: float = float("nan")
    detect_median: float = float("nan")
    detect_p95: float = float("nan")
    predicted: float = float("nan")
    predicted_eff: float = float("nan")
    budget_eff: float = float("nan")
    resume_median: float = float("nan")
    resume_p95: float = float("nan")
    triggerer_cpu: float = 0.0
    triggerer_rss: float = 0.0
    notes: list[str] = field(default_factory=list)


def _client(entry: Mapping[str, Any]) -> str:
    """``trigger`` (httpx, the async hook) or ``worker`` (requests, the sync hook)."""
    agent = next((v for k, v in entry["headers"].items() if k.lower() == "user-agent"), "")
    return "trigger" if "httpx" in agent else "worker"


def _queried_id(entry: Mapping[str, Any]) -> str:
    return str(entry["path"]).rstrip("/").rsplit("/", 1)[-1]


def _is_sweep_start(entry: Mapping[str, Any]) -> bool:
    """Whether a list call is a board's first page of its first status (PENDING): a sweep's start."""
    query = entry.get("query") or {}
    return str(query.get("status", "")).upper() == "PENDING" and str(query.get("page_no", "1")) == "1"


def list_end_times(base_url: str) -> dict[str, float]:
    """``task_id -> end_time`` (epoch s) of every finished task of the account, from ``GET /tasks``."""
    ends: dict[str, float] = {}
    page = 1
    with httpx.Client(timeout=60.0, headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        while True:
            answer = http.get(f"{base_url}/tasks", params={"page_no": page, "page_size": 100})
            if answer.status_code == 429:  # the list has its own quota: wait a moment
                time.sleep(1.0)
                continue
            answer.raise_for_status()
            body = answer.json()
            for item in body["data"]:
                if item.get("end_time"):
                    ends[item["task_id"]] = item["end_time"] / 1000
            if page >= int(body["total_page"]):
                return ends
            page += 1


def analyse(
    entries: Sequence[Mapping[str, Any]],
    ends: Mapping[str, float],
    resumed: Mapping[str, float],
    figures: RunFigures,
    settle: float = 10.0,
) -> None:
    """Fill ``figures`` from the request log, the tasks' end times and their resumes (epoch s)."""
    rated = [e for e in entries if e["endpoint"] in RATED_ENDPOINTS]
    listed = [e for e in entries if e["endpoint"] == LIST_ENDPOINT]
    figures.submits = sum(1 for e in entries if e["endpoint"] == "submit")
    figures.list_calls = len(listed)
    figures.list_throttled = sum(1 for e in listed if e["status"] == 429)
    figures.list_throttled_share = figures.list_throttled / len(listed) if listed else 0.0
    figures.trigger_queries = sum(1 for e in rated if _client(e) == "trigger")
    figures.trigger_throttled = sum(1 for e in rated if _client(e) == "trigger" and e["status"] == 429)
    figures.worker_queries = sum(1 for e in rated if _client(e) == "worker")
    if figures.succeeded:
        figures.queries_per_task = figures.trigger_queries / figures.succeeded
    if not rated and not listed:
        return
    # Tasks wait from the first query or list call (with the sweep, the first query may come only
    # once a task has ended) to the last end.
    times = sorted(e["time"] for e in rated + listed)
    waiting_from = times[0]
    waiting_to = max(ends.values(), default=times[-1])
    span_waiting = max(waiting_to - waiting_from, 1e-9)
    window = [e for e in rated if waiting_from <= e["time"] <= waiting_to]
    figures.sent_qps = len(window) / span_waiting
    figures.list_qps = sum(1 for e in listed if waiting_from <= e["time"] <= waiting_to) / span_waiting
    starts = sorted(
        e["time"] for e in listed if _is_sweep_start(e) and waiting_from <= e["time"] <= waiting_to
    )
    if len(starts) > 1:
        # Every triggerer runs a board of its own, and each sweeps the whole list.
        figures.sweep_period = (starts[-1] - starts[0]) / (len(starts) - 1) * figures.triggerers
    if figures.sweep:
        figures.predicted_sweep = figures.sweep_period / 2
    if not rated:
        return
    answered = sorted(e["time"] for e in rated if e["status"] != 429)
    best, first = 0, 0
    for last, moment in enumerate(answered):
        while moment - answered[first] > 10.0:
            first += 1
        best = max(best, last - first + 1)
    figures.peak_qps = best / 10.0
    figures.throttled_share = sum(1 for e in rated if e["status"] == 429) / len(rated)
    late = [e for e in rated if e["time"] >= waiting_from + settle]
    figures.throttled_share_settled = sum(1 for e in late if e["status"] == 429) / max(len(late), 1)

    answered_by_task: dict[str, list[tuple[float, str]]] = {}
    for e in rated:
        if e["endpoint"] == "query" and e["status"] == 200:
            answered_by_task.setdefault(_queried_id(e), []).append((e["time"], _client(e)))
    detections: dict[str, float] = {}
    for task_id, end in ends.items():
        after = sorted(q for q in answered_by_task.get(task_id, []) if q[0] >= end)
        seen = next((t for t, who in after if who == "trigger"), None)
        if seen is not None:
            detections[task_id] = seen - end
    resumes = [resumed[t] - end for t, end in ends.items() if t in resumed]
    delays = list(detections.values())
    if delays:
        figures.detect_mean = sum(delays) / len(delays)
        figures.detect_median = median(delays)
        figures.detect_p95 = percentile(delays, 0.95)
    figures.resume_median = median(resumes)
    figures.resume_p95 = percentile(resumes, 0.95)
    # N / 2B with B the budget the triggerers may use together; then with what was really there:
    # n = the tasks still undetected (so still polled) when each task ended, and B = the rate the
    # triggerers' queries were answered at while tasks were being detected.
    if not figures.sweep:  # N / 2B is the model of per-task polling only
        figures.predicted = figures.n / (2 * figures.budget)
    if detections:
        seen_at = sorted(ends[t] + d for t, d in detections.items())
        first_end = min(ends[t] for t in detections)
        span = seen_at[-1] - first_end
        trigger_answers = sum(
            1
            for e in rated
            if e["status"] == 200 and _client(e) == "trigger" and first_end <= e["time"] <= seen_at[-1]
        )
        figures.budget_eff = trigger_answers / span if span > 0 else float("nan")
        waiting = [len(seen_at) - bisect.bisect_left(seen_at, ends[t]) for t in detections]
        if not figures.sweep:
            figures.predicted_eff = sum(waiting) / len(waiting) / (2 * figures.budget_eff)


def resume_times(dep: AirflowDeployment, run_id: str, n: int) -> dict[str, float]:
    """``asr_task_id -> when its Airflow task resumed on a worker`` (epoch s).

    The resume is the ``running`` event-log row that follows ``deferred``; the DashScope task id of
    each map index is its XCom return value.
    """
    from datetime import datetime

    rows: list[dict[str, Any]] = []
    while True:
        page = dep.api.get(
            "eventLogs",
            params={
                "dag_id": DAG_ID,
                "run_id": run_id,
                "task_id": TASK_ID,
                "event": "running",
                "order_by": "id",
                "limit": 100,
                "offset": len(rows),
            },
        )
        rows.extend(page["event_logs"])
        if not page["event_logs"] or len(rows) >= int(page["total_entries"]):
            break
    last_running = {r["map_index"]: datetime.fromisoformat(r["when"]).timestamp() for r in rows}
    resumed: dict[str, float] = {}
    for index in range(n):
        entry = dep.api.get(
            f"dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{TASK_ID}/xcomEntries/return_value",
            params={"map_index": index},
        )
        asr_task_id = str(entry["value"]).strip('"')
        if index in last_running:
            resumed[asr_task_id] = last_running[index]
    return resumed


# -- one deployment, several runs ----------------------------------------------------------------


def run_size(
    dep: AirflowDeployment, emulator: EmulatorProcess, n: int, args: argparse.Namespace, figures: RunFigures
) -> None:
    """Trigger one DAG run of ``n`` transcriptions (``figures`` names the intervals), wait, measure."""
    emulator.control("POST", "reset")
    # All N end together (spread over --spread s) once every submit is likely done.
    end_at = time.time() + args.lead + n / args.submit_rate
    began = time.monotonic()
    with TriggererSampler(dep) as sampler:
        run_id = dep.trigger(
            DAG_ID,
            conf={
                "count": n,
                "seed": n,
                "min_seconds": 0,
                "max_seconds": args.spread,
                "end_at": end_at,
                "poll_interval": figures.poll_interval,
                "max_poll_interval": figures.max_poll_interval,
            },
        )
        state = dep.wait_for_run(DAG_ID, run_id, timeout=args.run_timeout)
    figures.wall = time.monotonic() - began
    figures.triggerer_cpu = sampler.cpu_seconds
    figures.triggerer_rss = sampler.peak_rss
    if state != "success":
        figures.notes.append(f"run ended {state}")
    entries = emulator.control("GET", "requests")["requests"]
    ends = list_end_times(emulator.base_url)
    late_submits = sum(1 for e in entries if e["endpoint"] == "submit" and e["time"] > end_at)
    if late_submits:
        figures.notes.append(f"{late_submits} submits after end_at (raise --lead or lower --submit-rate)")
    figures.succeeded = len(ends)
    analyse(entries, ends, resume_times(dep, run_id, n), figures)


def run_deployment(
    triggerers: int,
    sweep: bool,
    sizes: Sequence[int],
    intervals: Sequence[tuple[float, float]],
    args: argparse.Namespace,
) -> list[RunFigures]:
    """Start one deployment with ``triggerers`` triggerers and ``extra.status_sweep`` = ``sweep``;
    run every size with every poll interval."""
    results: list[RunFigures] = []
    extra: dict[str, object] = {"status_sweep": sweep}
    if args.query_qps:
        extra["query_qps"] = args.query_qps
    if args.expected_processes:
        extra["expected_processes"] = args.expected_processes
    per_process = (args.query_qps or 15.0) / (args.expected_processes or 1)
    budget = min(args.quota, per_process * triggerers)
    with (
        tempfile.TemporaryDirectory(prefix="qwenasr-scale-out-") as base,
        EmulatorProcess(args.quota) as emulator,
    ):
        dags = Path(base) / "dags"
        dags.mkdir()
        (dags / DAG_FILE.name).write_text(DAG_FILE.read_text())
        dep = AirflowDeployment(
            Path(base) / "deployment",
            dags_folder=dags,
            executor="CeleryExecutor",
            database="postgres",
            triggerers=triggerers,
            celery_workers=2,
            celery_concurrency=args.concurrency,
            start_timeout=300.0,
            env={"AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url, extra)},
        )
        try:
            dep.start()
            dep.unpause(DAG_ID, timeout=180)
            for n in sizes:
                for first, longest in intervals:
                    figures = RunFigures(
                        triggerers=triggerers,
                        n=n,
                        quota=args.quota,
                        budget=budget,
                        poll_interval=first,
                        max_poll_interval=longest,
                        sweep=sweep,
                    )
                    print(
                        f"... {triggerers} triggerer(s), N={n}, polls {first:g} s -> {longest:g} s, "
                        f"status sweep {_on_off(sweep)}",
                        flush=True,
                    )
                    run_size(dep, emulator, n, args, figures)
                    results.append(figures)
                    print(json.dumps(asdict(figures)), flush=True)
        finally:
            dep.stop()
    return results


def _on_off(sweep: bool) -> str:
    return "on" if sweep else "off"


def _parse_sweeps(text: str) -> list[bool]:
    """``off,on`` -> ``[False, True]``."""
    values = {"off": False, "on": True}
    sweeps = []
    for word in (w.strip().lower() for w in text.split(",")):
        if not word:
            continue
        if word not in values:
            raise argparse.ArgumentTypeError(f"--status-sweep takes off and/or on, not {word!r}")
        sweeps.append(values[word])
    return sweeps


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options, run every (triggerers, sweep, size, intervals) combination, print the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="200", help="comma-separated N (e.g. 200,1000)")
    parser.add_argument("--triggerers", default="1,2", help="comma-separated triggerer counts")
    parser.add_argument("--quota", type=float, default=20.0, help="the emulator's per-account query quota")
    parser.add_argument("--query-qps", type=float, default=0.0, help="connection query_qps (0: the default)")
    parser.add_argument("--expected-processes", type=int, default=0, help="connection expected_processes")
    parser.add_argument(
        "--status-sweep",
        type=_parse_sweeps,
        default=[True],
        help="comma-separated off/on: connection extra.status_sweep (off: per-task polling; default on)",
    )
    parser.add_argument(
        "--intervals",
        default="5:30,1:5",
        help="comma-separated FIRST:LONGEST poll intervals, s (5:30 is the operators' default)",
    )
    parser.add_argument("--spread", type=float, default=20.0, help="tasks end over this many seconds")
    parser.add_argument("--submit-rate", type=float, default=1.0, help="expected submits/s (sets end_at)")
    parser.add_argument("--lead", type=float, default=30.0, help="seconds added to end_at")
    parser.add_argument("--concurrency", type=int, default=2, help="task processes per Celery worker")
    parser.add_argument("--run-timeout", type=float, default=3600.0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    counts = [int(s) for s in args.triggerers.split(",") if s]
    intervals = [(float(i.split(":")[0]), float(i.split(":")[1])) for i in args.intervals.split(",") if i]

    print(machine_summary(), flush=True)
    results: list[RunFigures] = []
    for count in counts:
        for sweep in args.status_sweep:
            results.extend(run_deployment(count, sweep, sizes, intervals, args))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    print_table(
        [
            "triggerers",
            "N",
            "polls s",
            "sweep",
            "sent q/s",
            "peak q/s (10 s)",
            "quota",
            "429 %",
            "429 % after 10 s",
            "list calls/s",
            "list 429s",
            "list 429 %",
            "q/task",
            "wall s",
        ],
        [
            [
                r.triggerers,
                r.n,
                f"{r.poll_interval:g}→{r.max_poll_interval:g}",
                _on_off(r.sweep),
                r.sent_qps,
                r.peak_qps,
                r.quota,
                100 * r.throttled_share,
                100 * r.throttled_share_settled,
                r.list_qps,
                r.list_throttled,
                100 * r.list_throttled_share,
                r.queries_per_task,
                r.wall,
            ]
            for r in results
        ],
        title="Queries (GET /tasks/{id}) against the quota, list calls (GET /tasks) against theirs; "
        "q/task = triggerer queries / succeeded",
    )
    print_table(
        [
            "triggerers",
            "N",
            "polls s",
            "sweep",
            "B",
            "detect mean",
            "median",
            "p95",
            "N/2B",
            "B_eff",
            "n/2B_eff",
            "sweep period",
            "period/2",
            "resume median",
            "p95",
        ],
        [
            [
                r.triggerers,
                r.n,
                f"{r.poll_interval:g}→{r.max_poll_interval:g}",
                _on_off(r.sweep),
                r.budget,
                r.detect_mean,
                r.detect_median,
                r.detect_p95,
                r.predicted,
                r.budget_eff,
                r.predicted_eff,
                r.sweep_period,
                r.predicted_sweep,
                r.resume_median,
                r.resume_p95,
            ]
            for r in results
        ],
        title="Delay from SUCCEEDED to detection (triggerer) and to the resumed task (worker), seconds",
    )
    print_table(
        [
            "triggerers",
            "N",
            "polls s",
            "sweep",
            "succeeded",
            "submits",
            "triggerer queries",
            "of them 429",
            "q/task",
            "worker queries",
            "list calls",
            "list 429s",
            "triggerer CPU s",
            "peak RSS MiB",
            "notes",
        ],
        [
            [
                r.triggerers,
                r.n,
                f"{r.poll_interval:g}→{r.max_poll_interval:g}",
                _on_off(r.sweep),
                r.succeeded,
                r.submits,
                r.trigger_queries,
                r.trigger_throttled,
                r.queries_per_task,
                r.worker_queries,
                r.list_calls,
                r.list_throttled,
                r.triggerer_cpu,
                r.triggerer_rss,
                "; ".join(r.notes),
            ]
            for r in results
        ],
        title="Triggerer cost (all triggerer processes together)",
    )


if __name__ == "__main__":
    main()
