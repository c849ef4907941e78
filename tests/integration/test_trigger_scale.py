"""A thousand :class:`QwenASRTaskTrigger` in one event loop share one pool and keep to the budget.

Issue 3's "Done when": 1,000 triggers in one event loop against the emulator share one connection
pool and stay within the rate budget. The proof is counted, not timed: the emulator's stats give
the TCP connections it accepted and the 429s it sent, and its request log gives the query rate it
saw (queries over the span between the first and the last query).

The emulator's quota here is 100 queries/s and the connection's budget 80/s, not DashScope's 20
and 15: each trigger needs at least one query, so at 15/s a thousand of them take more than a
minute however short the tasks. The ratio of budget to quota is what the test is about, and the
emulator's token bucket is the same code at any rate.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_qwenasr.emulator import EmulatorConfig, EmulatorServer
from airflow_provider_qwenasr.hooks.pool import MAX_CONNECTIONS_PER_HOST, close_shared_clients
from airflow_provider_qwenasr.rate import reset_budgets
from airflow_provider_qwenasr.triggers.qwen_asr import QwenASRTaskTrigger, TerminationReason
from tests.conftest import EMULATOR_API_KEY, connection_json

TRIGGERS = 1000
QUOTA_QPS = 100.0
BUDGET_QPS = 80.0
#: The budget spaces queries exactly 1/rate apart; a few ms of loop jitter at either end is all
#: that can push the measured average over it.
RATE_TOLERANCE = 1.05
QWEN3 = "qwen3-asr-flash-filetrans"

pytestmark = pytest.mark.usefixtures("fast_polls")


@pytest.fixture
def scale_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """An emulator enforcing a query quota, and the default connection pointed at it."""
    reset_budgets()
    config = EmulatorConfig(api_keys=(EMULATOR_API_KEY,), query_qps=QUOTA_QPS)
    server = EmulatorServer(config, host="127.0.0.1", port=0).start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_QWEN_ASR_DEFAULT", connection_json(server.base_url, query_qps=BUDGET_QPS)
    )
    try:
        yield server
    finally:
        server.stop()
        reset_budgets()


def _submit(client: httpx.Client, base_url: str, count: int) -> list[str]:
    """Submit ``count`` tasks that end at random times within about three seconds."""
    rng = random.Random(3)
    ids = []
    for index in range(count):
        hints = f"pending_seconds={rng.uniform(0, 1):.3f}&running_seconds={rng.uniform(0.2, 2):.3f}"
        response = client.post(
            f"{base_url}/services/audio/asr/transcription",
            headers={"Authorization": f"Bearer {EMULATOR_API_KEY}", "X-DashScope-Async": "enable"},
            json={
                "model": QWEN3,
                "input": {"file_url": f"https://example.com/s{index}.wav?{hints}"},
                "parameters": {},
            },
        )
        response.raise_for_status()
        ids.append(response.json()["output"]["task_id"])
    return ids


async def _wait_all(task_ids: list[str]) -> list[list[dict[str, object]]]:
    """Run one trigger per task in this loop, as the triggerer does; return each one's events."""

    async def wait(task_id: str) -> list[dict[str, object]]:
        trigger = QwenASRTaskTrigger(task_id, poll_interval=0.5, max_poll_interval=2.0)
        return [event.payload async for event in trigger.run()]

    try:
        return await asyncio.wait_for(asyncio.gather(*(wait(t) for t in task_ids)), timeout=120)
    finally:
        await close_shared_clients()


def test_thousand_triggers_share_one_pool_and_keep_to_the_budget(scale_emulator: EmulatorServer) -> None:
    """Regression: each trigger once opened its own client, and nothing paced the queries."""
    backend = scale_emulator.backend  # read in process: the readings open no connection
    with httpx.Client(timeout=30.0) as client:
        task_ids = _submit(client, scale_emulator.base_url, TRIGGERS)
    backend.requests.clear()
    before = backend.stats.snapshot(0)

    events = asyncio.run(_wait_all(task_ids))

    after = backend.stats.snapshot(0)
    assert all(len(e) == 1 for e in events), "every trigger fires exactly one event"
    assert {e[0]["status"] for e in events} == {TerminationReason.SUCCESS.value}
    assert sorted(str(e[0]["asr_task_id"]) for e in events) == sorted(task_ids)

    connections = after["connections_opened"] - before["connections_opened"]
    assert connections <= MAX_CONNECTIONS_PER_HOST + 1, (
        f"{connections} TCP connections for {TRIGGERS} triggers"
    )

    throttled = after["throttled"].get("query", 0) - before["throttled"].get("query", 0)
    assert throttled == 0, f"{throttled} queries were throttled under a budget below the quota"

    times = sorted(float(entry["time"]) for entry in backend.requests.entries("query"))
    assert len(times) >= TRIGGERS
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate <= BUDGET_QPS * RATE_TOLERANCE, f"{rate:.1f} queries/s against a budget of {BUDGET_QPS}"
