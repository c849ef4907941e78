"""N concurrent waits in one process: the official SDK's threads, a naive trigger, and ours.

Run ``python benchmarks/trigger_scale.py`` (``--help`` for the options). For every size N it
submits N tasks that finish at random times, then waits for all of them with one variant at a time,
each in a *fresh* child process (so peak RSS and CPU are that variant's alone), against one emulator
running in *another* process (its CPU is not counted):

(a) ``sdk``: ``dashscope.audio.qwen_asr.QwenTranscription.wait``, one thread per task, as a worker
    pool or a PythonOperator would run it (it opens a new ``requests.Session`` per poll);
(b) ``naive``: an async trigger that opens a new ``httpx.AsyncClient`` per poll and has no rate
    budget (what the dbt provider's trigger does);
(c) ``ours``: :class:`~airflow_provider_qwenasr.triggers.qwen_asr.QwenASRTaskTrigger`, every
    ``run()`` a task in one event loop, as the triggerer runs them, each polling its own task
    (``extra.status_sweep`` false);
(d) ``sweep``: the same triggers on the status board (``extra.status_sweep`` true,
    :mod:`airflow_provider_qwenasr.triggers.board`); ``sweep-foreign`` adds ``--foreign`` open tasks
    of other programs on the key (half submitted before ours, half after), ``sweep-lag`` makes the
    emulator's list trail the query by ``--list-lag`` seconds, ``sweep-down`` makes the list answer
    503 throughout (the board falls back to (c)).

Two scenarios (see docs/benchmarks.md for why):

* ``lifted``: the emulator's query quota is lifted, so the SDK (which gives up on the first 429)
  survives; all three poll on the SDK's cadence (1 s, growing to 5 s); ours holds to a budget of
  ``--budget-qps`` (an account with a raised quota). This compares the cost of a poll.
* ``quota``: the emulator enforces DashScope's 20 queries/s per key; ours uses its default budget
  (15/s), or ``--quota-budget-qps``. This shows what each variant does to the account's quota.

Our triggers are given the model, as the submit operator gives it, so the board filters the list by
it; the foreign tasks of ``sweep-foreign`` share that model unless ``--foreign-model`` names another.

It prints figures; it never passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    API_KEY,
    REPO,
    EmulatorProcess,
    connection_json,
    cpu_seconds,
    machine_summary,
    median,
    peak_rss_mb,
    percentile,
    print_table,
    raise_nofile_limit,
    rss_mb,
)

from airflow_provider_qwenasr._api.settings import SERVICE_TZ

MODEL = "qwen3-asr-flash-filetrans"
#: The official SDK's cadence (dashscope/client/base_api.py ``wait``): 1 s, doubling every third
#: poll, capped at 5 s. The naive trigger and ours are given the same first and longest interval.
SDK_FIRST_INTERVAL = 1.0
SDK_MAX_INTERVAL = 5.0
_TICK = 0.05
#: The variants that run our trigger: per-task polling, and the status board with its set-ups.
OURS = ("ours", "sweep", "sweep-foreign", "sweep-lag", "sweep-down")


# -- the variants (run inside the worker process) ------------------------------------------------


@dataclass
class Outcome:
    """What one wait ended with: its status and when it learned of it (epoch seconds)."""

    status: str
    seen_at: float
    end_time: float | None


def _beijing_epoch(value: object) -> float | None:
    """Epoch seconds of DashScope's zone-less ``YYYY-MM-DD HH:MM:SS.mmm`` (UTC+8)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=SERVICE_TZ).timestamp()
    except ValueError:
        return None


def _status(task_status: object) -> str:
    """Our event's status names for a terminal DashScope status (SUCCEEDED -> success)."""
    return "success" if task_status == "SUCCEEDED" else str(task_status).lower()


def _iso_epoch(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


class NaiveTrigger:
    """A trigger as many providers write it: a new ``httpx.AsyncClient`` per poll, no rate budget.

    Same cadence and jitter as ours, and 429/5xx/connection errors are retried, so the only
    differences are the client per poll and the missing budget.
    """

    def __init__(self, task_id: str, base_url: str, api_key: str, poll_interval: float, max_poll: float):
        self.task_id = task_id
        self.url = f"{base_url}/tasks/{task_id}"
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.poll_interval = poll_interval
        self.max_poll = max_poll

    async def run(self) -> Outcome:
        """Poll until the task ends."""
        import httpx

        interval = self.poll_interval
        while True:
            try:
                async with httpx.AsyncClient(timeout=60.0) as client:
                    response = await client.get(self.url, headers=self.headers)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code == 200:
                output = response.json().get("output") or {}
                if output.get("task_status") in ("SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"):
                    seen = time.time()
                    return Outcome(
                        _status(output["task_status"]), seen, _beijing_epoch(output.get("end_time"))
                    )
            await asyncio.sleep(interval * random.uniform(0.9, 1.1))
            interval = min(self.max_poll, interval * 1.5)


async def _run_ours(task_ids: list[str], sink: list[Outcome]) -> None:
    from airflow_provider_qwenasr.hooks.pool import close_shared_clients
    from airflow_provider_qwenasr.triggers.qwen_asr import QwenASRTaskTrigger

    async def one(task_id: str) -> None:
        # As the submit operator defers: with the model (the board's list filter).
        trigger = QwenASRTaskTrigger(
            task_id, poll_interval=SDK_FIRST_INTERVAL, max_poll_interval=SDK_MAX_INTERVAL, model=MODEL
        )
        events = [e async for e in trigger.run()]
        seen = time.time()
        payload = events[-1].payload
        task = payload.get("task") or {}
        status = str(payload["status"]) if len(events) == 1 else f"{len(events)} events"
        sink.append(Outcome(status, seen, _iso_epoch(task.get("end_time"))))

    try:
        await asyncio.gather(*(one(t) for t in task_ids))
    finally:
        await close_shared_clients()


async def _run_naive(task_ids: list[str], base_url: str, sink: list[Outcome]) -> None:
    async def one(trigger: NaiveTrigger) -> None:
        sink.append(await trigger.run())

    triggers = [NaiveTrigger(t, base_url, API_KEY, SDK_FIRST_INTERVAL, SDK_MAX_INTERVAL) for t in task_ids]
    await asyncio.gather(*(one(t) for t in triggers))


async def _run_sdk(task_ids: list[str], base_url: str, sink: list[Outcome]) -> None:
    """One thread per task, each blocked in the SDK's ``wait()``; the loop only waits for them."""
    import dashscope
    from dashscope.audio.qwen_asr import QwenTranscription

    dashscope.base_http_api_url = base_url
    dashscope.api_key = API_KEY

    def wait(task_id: str) -> None:
        try:
            response = QwenTranscription.wait(task=task_id, api_key=API_KEY)
        except Exception as error:  # count it; the benchmark goes on
            sink.append(Outcome(f"error: {type(error).__name__}", time.time(), None))
            return
        seen = time.time()
        output = response.output
        if response.status_code != 200 or output is None:
            sink.append(Outcome(f"gave up: HTTP {response.status_code}", seen, None))
            return
        status = output.get("task_status")
        sink.append(Outcome(_status(status), seen, _beijing_epoch(output.get("end_time"))))

    threads = [threading.Thread(target=wait, args=(t,), daemon=True) for t in task_ids]
    for thread in threads:
        thread.start()
    for thread in threads:  # joined off the loop, so the loop's ticker keeps measuring
        await asyncio.to_thread(thread.join)


async def _measure_loop(work: Awaitable[None], time_limit: float) -> list[float]:
    """Run ``work`` beside a ticker that records how late each 50 ms sleep wakes up (seconds).

    ``work`` is abandoned after ``time_limit`` seconds (the waits not done by then count as such).
    """
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        while not done.is_set():
            start = loop.time()
            await asyncio.sleep(_TICK)
            lags.append(max(0.0, loop.time() - start - _TICK))

    tick = asyncio.create_task(ticker())
    try:
        await asyncio.wait_for(work, time_limit)
    except asyncio.TimeoutError:
        pass
    finally:
        done.set()
        await tick
    return lags


def _submit_all(
    client: Any, base_url: str, durations: list[float], lead: float, model: str = MODEL
) -> list[str]:
    """Submit one task per duration so that task i ends about ``lead + durations[i]`` from now."""
    started = time.time()
    ids = []
    headers = {"Authorization": f"Bearer {API_KEY}", "X-DashScope-Async": "enable"}
    for index, duration in enumerate(durations):
        # Tasks submitted later start their clock later: shift them so all share one time origin.
        pending = max(0.0, lead - (time.time() - started)) + 0.3 * duration
        hints = f"pending_seconds={pending:.3f}&running_seconds={0.7 * duration:.3f}"
        url = f"https://audio.example/b{index}.wav?{hints}"
        response = client.post(
            f"{base_url}/services/audio/asr/transcription",
            headers=headers,
            # Qwen3 takes one file_url; Fun-ASR, Paraformer and SenseVoice take file_urls.
            json={"model": model, "input": _audio_input(model, url), "parameters": {}},
        )
        response.raise_for_status()
        ids.append(response.json()["output"]["task_id"])
    return ids


def _audio_input(model: str, url: str) -> dict[str, Any]:
    # The request builder's own rule (the model's family names the field), not a second one here.
    from airflow_provider_qwenasr._api.catalog import likely_family
    from airflow_provider_qwenasr._api.validate import _audio_input as audio_input

    return audio_input(model, likely_family(model), [url])


def aimd_worker(args: argparse.Namespace) -> dict[str, Any]:
    """Keep ``args.n`` endless waits polling for ``args.time_limit`` s; sample the budget each second."""
    import httpx

    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRAsyncHook
    from airflow_provider_qwenasr.rate import budget_for

    durations = [10_000.0] * args.n  # never end within the window: the budget is always the limit
    with httpx.Client(timeout=60.0) as client:
        task_ids = _submit_all(client, args.base_url, durations, 0.0)
    samples: list[dict[str, float]] = []

    async def main() -> None:
        settings = await QwenASRAsyncHook().get_settings()
        budget = budget_for(settings.host, settings.key_fingerprint, settings.rate_ceiling)
        sink: list[Outcome] = []
        work = asyncio.ensure_future(_run_ours(task_ids, sink))
        start = time.monotonic()
        while time.monotonic() - start < args.time_limit:
            await asyncio.sleep(1.0)
            samples.append(
                {
                    "t": time.monotonic() - start,
                    "rate": budget.rate,
                    "granted": budget.counters.granted,
                    "throttled": budget.counters.throttled,
                    "cuts": budget.counters.cuts,
                }
            )
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work

    asyncio.run(main())
    return {"variant": "aimd", "n": args.n, "samples": samples}


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """Run one variant for one N in this (fresh) process and return its figures."""
    import httpx

    raise_nofile_limit()
    # Import everything the variant needs before measuring: a triggerer has it loaded already.
    if args.worker in OURS:
        import airflow_provider_qwenasr.hooks.qwen_asr
        import airflow_provider_qwenasr.triggers.board
        import airflow_provider_qwenasr.triggers.qwen_asr  # noqa: F401

        # A running triggerer has read a connection before: pay the one-time secrets-backend setup now.
        from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRAsyncHook

        asyncio.run(QwenASRAsyncHook().get_settings())
    elif args.worker == "sdk":
        import dashscope.audio.qwen_asr  # noqa: F401
    rng = random.Random(args.seed)
    durations = [rng.uniform(args.min_duration, args.max_duration) for _ in range(args.n)]
    lead = 1.0 + args.n * 0.0015
    root = args.base_url.rsplit("/api/v1", 1)[0]
    foreign = args.foreign if args.worker == "sweep-foreign" else 0
    with httpx.Client(timeout=60.0) as control:
        # Other programs' tasks on the key stay open throughout: the list's worst case.
        _submit_all(control, args.base_url, [1e6] * (foreign // 2), 0.0, args.foreign_model)
        task_ids = _submit_all(control, args.base_url, durations, lead)
        _submit_all(control, args.base_url, [1e6] * (foreign - foreign // 2), 0.0, args.foreign_model)
        before = control.get(f"{root}/emulator-api/stats").json()
        idle_rss = rss_mb()
        cpu0, wall0 = cpu_seconds(), time.monotonic()
        outcomes: list[Outcome] = []
        if args.worker in OURS:
            work: Callable[[], Awaitable[None]] = lambda: _run_ours(task_ids, outcomes)  # noqa: E731
        elif args.worker == "naive":
            work = lambda: _run_naive(task_ids, args.base_url, outcomes)  # noqa: E731
        else:
            work = lambda: _run_sdk(task_ids, args.base_url, outcomes)  # noqa: E731

        async def main() -> list[float]:
            return await _measure_loop(work(), args.time_limit)

        lags = asyncio.run(main())
        elapsed = time.monotonic() - wall0
        cpu = cpu_seconds() - cpu0
        after = control.get(f"{root}/emulator-api/stats").json()

    def spent(kind: str, endpoint: str) -> int:
        return int(after[kind].get(endpoint, 0) - before[kind].get(endpoint, 0))

    queries, throttled = spent("requests", "query"), spent("throttled", "query")
    delays = [o.seen_at - o.end_time for o in outcomes if o.status == "success" and o.end_time is not None]
    statuses: dict[str, int] = {"unfinished": args.n - len(outcomes)} if len(outcomes) < args.n else {}
    for outcome in outcomes:
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
    return {
        "variant": args.worker,
        "n": args.n,
        "elapsed": elapsed,
        "cpu": cpu,
        "queries": queries,
        "throttled": throttled,
        "lists": spent("requests", "list"),
        "lists_throttled": spent("throttled", "list"),
        # The stats request of "after" opens no connection: this client keeps one alive.
        "connections": after["connections_opened"] - before["connections_opened"],
        "idle_rss": idle_rss,
        "peak_rss": peak_rss_mb(),
        "lag_max": max(lags, default=float("nan")),
        "lag_p99": percentile(lags, 0.99),
        "delay_median": median(delays),
        "delay_p95": percentile(delays, 0.95),
        "statuses": statuses,
    }


# -- the driver -----------------------------------------------------------------------------------


def _run_worker(
    variant: str, n: int, emulator: EmulatorProcess, budget_qps: float | None, args: argparse.Namespace
) -> dict[str, Any]:
    extra: dict[str, object] = {"query_qps": budget_qps} if budget_qps else {}
    if variant in OURS:
        extra["status_sweep"] = variant != "ours"
    home = tempfile.mkdtemp(prefix="qwenasr-bench-home-")
    child_env = {
        **os.environ,
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url, extra),
        "PYTHONPATH": str(REPO),
    }
    command = [
        sys.executable,
        __file__,
        "--worker",
        variant,
        "--n",
        str(n),
        "--base-url",
        emulator.base_url,
        "--budget-qps",
        str(budget_qps or 0),
        "--seed",
        str(args.seed + n),
        "--min-duration",
        str(args.min_duration),
        "--max-duration",
        str(args.max_duration),
        "--time-limit",
        str(args.time_limit),
        "--foreign",
        str(args.foreign),
        "--foreign-model",
        args.foreign_model,
    ]
    emulator.control("POST", "reset")
    emulator.control("POST", "config", {"list_lag_seconds": args.list_lag if variant == "sweep-lag" else 0})
    if variant == "sweep-down":
        emulator.control("POST", "faults", {"endpoint": "list", "kind": "status", "status": 503, "count": -1})
    emulator_cpu0 = emulator.cpu_seconds()
    done = subprocess.run(command, env=child_env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"  {variant} N={n} failed:\n{done.stderr[-3000:]}", file=sys.stderr)
        return {"variant": variant, "n": n, "failed": True}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["emulator_cpu"] = emulator.cpu_seconds() - emulator_cpu0
    result["budget"] = budget_qps
    print(f"  {variant:5} N={n:>6}: {json.dumps(result)}", file=sys.stderr, flush=True)
    return result


_LABELS = {
    "sdk": "(a) dashscope SDK wait(), thread/task",
    "naive": "(b) naive trigger",
    "ours": "(c) ours, per-task polling",
    "sweep": "(d) ours, status sweep",
    "sweep-foreign": "(d2) sweep + foreign tasks",
    "sweep-lag": "(d3) sweep, list lagging",
    "sweep-down": "(d4) sweep, list down",
}
_HEADERS = [
    "N",
    "variant",
    "done ok",
    "wall s",
    "loop lag max ms",
    "lag p99 ms",
    "CPU s / 1k polls",
    "peak RSS MiB",
    "RSS Δ MiB",
    "TCP conns",
    "polls",
    "q/s sent",
    "budget q/s",
    "429s",
    "delay med s",
    "delay p95 s",
    "lists",
    "list 429s",
    "queries / task",
    "CPU ms / wait",
]


def _row(result: dict[str, Any]) -> list[object]:
    if result.get("failed") or result.get("skipped"):
        reason = result.get("skipped") or "failed (see stderr)"
        return [result["n"], _LABELS[result["variant"]], reason, *["n/a"] * (len(_HEADERS) - 3)]
    ok = result["statuses"].get("success", 0)
    queries = max(1, result["queries"])
    return [
        result["n"],
        _LABELS[result["variant"]],
        f"{ok}/{result['n']}",
        result["elapsed"],
        result["lag_max"] * 1000,
        result["lag_p99"] * 1000,
        result["cpu"] / queries * 1000,
        result["peak_rss"],
        result["peak_rss"] - result["idle_rss"],
        result["connections"],
        result["queries"],
        result["queries"] / result["elapsed"],
        "none" if not result["budget"] or result["variant"] not in OURS else float(result["budget"]),
        result["throttled"],
        result["delay_median"],
        result["delay_p95"],
        result.get("lists", 0),
        result.get("lists_throttled", 0),
        result["queries"] / max(1, ok),
        result["cpu"] / result["n"] * 1000,
    ]


def _ratios(results: list[dict[str, Any]]) -> list[list[object]]:
    """(a) and (b) against (c) and (c'): how many times more the other costs (> 1: ours is cheaper)."""
    rows: list[list[object]] = []
    by = {(r["n"], r["variant"]): r for r in results if not r.get("failed") and not r.get("skipped")}

    def per_poll(r: dict[str, Any]) -> float:
        return float(r["cpu"]) / max(1, r["queries"])

    for n in sorted({r["n"] for r in results}):
        for mine in ("ours", "sweep"):
            ours = by.get((n, mine))
            if ours is None:
                continue
            for other in ("sdk", "naive", "ours"):
                if other == mine:
                    continue
                theirs = by.get((n, other))
                if theirs is None:
                    continue
                rows.append(
                    [
                        n,
                        f"{_LABELS[other][:3]} / {_LABELS[mine][:3]}",
                        per_poll(theirs) / per_poll(ours),
                        theirs["peak_rss"] / ours["peak_rss"],
                        theirs["connections"] / max(1, ours["connections"]),
                        theirs["lag_max"] / max(1e-6, ours["lag_max"]),
                        theirs["delay_median"] / max(1e-6, ours["delay_median"]),
                    ]
                )
    return rows


def driver(args: argparse.Namespace) -> None:
    """Run every scenario, size and variant; print the tables."""
    raise_nofile_limit()
    print(f"Machine: {machine_summary()}")
    print(
        f"Tasks end uniformly {args.min_duration:g}-{args.max_duration:g} s after the waits start; "
        f"ours and (b) poll from {SDK_FIRST_INTERVAL:g} s growing to {SDK_MAX_INTERVAL:g} s, as the SDK."
    )
    variants = [v for v in args.variants.split(",") if v]
    scenarios = []
    if args.sizes:
        scenarios.append(("lifted", [int(s) for s in args.sizes.split(",")], 0.0, args.budget_qps))
    if args.quota_sizes:
        scenarios.append(
            ("quota", [int(s) for s in args.quota_sizes.split(",")], 20.0, args.quota_budget_qps)
        )
    for name, sizes, emulator_qps, budget in scenarios:
        results: list[dict[str, Any]] = []
        with EmulatorProcess(query_qps=emulator_qps) as emulator:
            for n in sizes:
                for variant in variants:
                    if variant == "sdk" and n > args.sdk_max_threads:
                        results.append(
                            {
                                "variant": variant,
                                "n": n,
                                "skipped": f"skipped: > {args.sdk_max_threads} threads",
                            }
                        )
                        continue
                    results.append(_run_worker(variant, n, emulator, budget, args))
        quota = "no quota" if not emulator_qps else f"quota {emulator_qps:g} q/s per key"
        ours_budget = f"ours at {budget:g} q/s" if budget else "ours at its default budget (15 q/s)"
        print_table(
            _HEADERS, [_row(r) for r in results], title=f"Scenario '{name}': emulator {quota}, {ours_budget}"
        )
        ratio_rows = _ratios(results)
        if ratio_rows:
            print_table(
                ["N", "ratio", "CPU/poll", "peak RSS", "TCP conns", "loop lag max", "delay median"],
                ratio_rows,
                title=f"Ratios, scenario '{name}' (other / ours; > 1: ours is cheaper or faster)",
            )


def aimd_driver(args: argparse.Namespace, processes: int = 2, per_process_qps: float = 15.0) -> None:
    """Two triggerer-like processes, each with a budget of 15/s, share one key with a 20/s quota."""
    print(f"Machine: {machine_summary()}")
    with EmulatorProcess(query_qps=20.0) as emulator:
        env = {
            **os.environ,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(
                emulator.base_url, {"query_qps": per_process_qps}
            ),
            "PYTHONPATH": str(REPO),
        }
        command = [
            sys.executable,
            __file__,
            "--worker",
            "aimd",
            "--n",
            "300",
            "--base-url",
            emulator.base_url,
        ]
        command += ["--time-limit", str(args.aimd)]
        children = [
            subprocess.Popen(
                command,
                env={**env, "AIRFLOW_HOME": tempfile.mkdtemp(prefix="qwenasr-bench-home-")},
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for _ in range(processes)
        ]
        outputs = [child.communicate()[0] for child in children]
        stats = emulator.control("GET", "stats")
    results = [json.loads(out.strip().splitlines()[-1]) for out in outputs]
    rows: list[list[object]] = []
    for index, result in enumerate(results, 1):
        samples = result["samples"]
        late = [s for s in samples if s["t"] > args.aimd / 2]
        sent_late = (late[-1]["granted"] - late[0]["granted"]) / max(1e-9, late[-1]["t"] - late[0]["t"])
        after10 = [s for s in samples if s["t"] >= 10]
        rows.append(
            [
                f"process {index}",
                per_process_qps,
                samples[-1]["granted"],
                samples[-1]["throttled"],
                after10[-1]["throttled"] - after10[0]["throttled"] if after10 else "n/a",
                samples[-1]["cuts"],
                min(s["rate"] for s in samples),
                median([s["rate"] for s in late]),
                sent_late,
            ]
        )
    queries = stats["requests"].get("query", 0)
    throttled = stats["throttled"].get("query", 0)
    print_table(
        [
            "process",
            "ceiling q/s",
            "queries",
            "429s",
            "429s after 10 s",
            "cuts",
            "lowest rate",
            "median rate, 2nd half",
            "sent q/s, 2nd half",
        ],
        rows,
        title=f"AIMD: {processes} processes x {per_process_qps:g} q/s, one key, quota 20/s, {args.aimd:g} s",
    )
    print(
        f"Emulator: {queries} queries, {throttled} throttled ({100 * throttled / max(1, queries):.1f} %), "
        f"{queries / args.aimd:.1f} q/s on average"
    )
    for index, result in enumerate(results, 1):
        trace = ", ".join(
            f"{s['rate']:.1f}" for s in result["samples"][:: max(1, len(result["samples"]) // 20)]
        )
        print(f"process {index} rate every few seconds: {trace}")


def main(argv: list[str] | None = None) -> None:
    """Parse the options; run as the driver, or as one worker when ``--worker`` is given."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000", help="N for the 'lifted' scenario ('' skips it)")
    parser.add_argument("--quota-sizes", default="100,1000", help="N for the 'quota' scenario ('' skips it)")
    parser.add_argument(
        "--variants",
        default="sdk,naive,ours",
        help="comma-separated: sdk, naive, ours, sweep, sweep-foreign, sweep-lag, sweep-down",
    )
    parser.add_argument("--foreign", type=int, default=5000, help="open tasks of others (sweep-foreign)")
    parser.add_argument(
        "--foreign-model",
        default=MODEL,
        help="the foreign tasks' model (ours' by default: the board's model filter cannot skip them)",
    )
    parser.add_argument("--list-lag", type=float, default=10.0, help="seconds the list trails (sweep-lag)")
    parser.add_argument("--budget-qps", type=float, default=1000.0, help="ours' query_qps, 'lifted' scenario")
    parser.add_argument(
        "--quota-budget-qps",
        type=float,
        default=0.0,
        help="ours' query_qps, 'quota' scenario (0: the default)",
    )
    parser.add_argument("--min-duration", type=float, default=5.0, help="shortest task, seconds")
    parser.add_argument("--max-duration", type=float, default=60.0, help="longest task, seconds")
    parser.add_argument("--sdk-max-threads", type=int, default=10000, help="skip the SDK above this N")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--time-limit", type=float, default=240.0, help="abandon a variant after this long, s"
    )
    parser.add_argument(
        "--aimd",
        type=float,
        default=0.0,
        help="instead: run two processes at query_qps=15 against a 20 q/s quota for this many seconds",
    )
    parser.add_argument("--worker", choices=("sdk", "naive", *OURS, "aimd"), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        with contextlib.redirect_stdout(sys.stderr):
            result = aimd_worker(args) if args.worker == "aimd" else worker(args)
        print(json.dumps(result), flush=True)
    elif args.aimd:
        aimd_driver(args)
    else:
        driver(args)


if __name__ == "__main__":
    main()
