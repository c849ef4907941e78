"""Triggers on the status board against the emulator over HTTP: foreign tasks, a lagging list, an
outage of the list, and cancellation. No test asserts a duration."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.triggers import board as board_module
from airflow_provider_qwenasr.triggers.qwen_asr import QwenASRTaskTrigger, TerminationReason
from tests.conftest import connection_json

pytestmark = pytest.mark.usefixtures("fast_polls", "_close_clients")

QWEN3 = "qwen3-asr-flash-filetrans"
LIMIT = 60.0


@pytest.fixture
def qwen_conn(qwen_conn: str, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The default connection, with the board on and quick sweeps."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_QWEN_ASR_DEFAULT", connection_json(emulator.base_url, query_qps=15, status_sweep=True)
    )
    monkeypatch.setattr(board_module, "SWEEP_INTERVAL", 0.05)
    monkeypatch.setattr(board_module, "UNSEEN_GRACE", 0.3)
    monkeypatch.setattr(board_module, "FALSE_WAKE_PAUSE", 0.1)
    monkeypatch.setattr(board_module, "LIST_RETRY_SECONDS", 0.2)
    return qwen_conn


def _submit(hook: QwenASRHook, count: int, **hints: float) -> list[str]:
    query = "&".join(f"{name}={value}" for name, value in hints.items())
    return [
        hook.submit_transcription(QWEN3, file_url=f"https://example.com/{i}.wav?{query}").task_id
        for i in range(count)
    ]


def _trigger(task_id: str, model: str | None = None) -> QwenASRTaskTrigger:
    return QwenASRTaskTrigger(
        task_id, poll_interval=0.05, max_poll_interval=0.15, deadline=time.time() + LIMIT, model=model
    )


async def _run_all(task_ids: list[str], model: str | None = None) -> list[dict[str, Any]]:
    async def one(task_id: str) -> dict[str, Any]:
        events = [event async for event in _trigger(task_id, model).run()]
        assert len(events) == 1, events
        return dict(events[0].payload)

    return await asyncio.wait_for(asyncio.gather(*(one(t) for t in task_ids)), LIMIT)


def _board_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("qwenasr-board-")]


def _queried(emulator: EmulatorServer) -> list[str]:
    return [entry["path"].rsplit("/", 1)[-1] for entry in emulator.backend.requests.entries("query")]


async def test_every_wait_ends_among_foreign_tasks_with_about_one_query(
    hook: QwenASRHook, emulator: EmulatorServer
) -> None:
    """150 open tasks of other programs on the key fill the list's pages; none of them is queried."""
    foreign = set(_submit(hook, 150, pending_seconds=3600))
    ours = _submit(hook, 5, pending_seconds=0.5, running_seconds=0.5) + _submit(
        hook, 5, pending_seconds=1.0, running_seconds=1.5
    )
    payloads = await _run_all(ours)
    assert [p["status"] for p in payloads] == [TerminationReason.SUCCESS.value] * len(ours)
    queried = _queried(emulator)
    assert not foreign & set(queried)
    assert set(ours) <= set(queried)
    assert len(queried) <= 1.5 * len(ours)  # a confirmation each, give or take a page race
    pages = emulator.backend.requests.entries("list")
    assert any(entry["query"].get("page_no") == "2" for entry in pages)  # 150 + ours: two pages
    assert _board_tasks() == []


async def test_waits_that_name_their_model_are_swept_past_other_models_tasks(
    hook: QwenASRHook, emulator: EmulatorServer
) -> None:
    """250 open Fun-ASR tasks on the key, our waits on Qwen3 (as the submit operator defers, with the
    model): every list call asks for Qwen3 only, so one page a status covers ours."""
    foreign = {
        hook.submit_transcription(
            "fun-asr", file_urls=[f"https://example.com/f{i}.wav?pending_seconds=3600"]
        ).task_id
        for i in range(250)
    }
    ours = _submit(hook, 6, pending_seconds=0.3, running_seconds=0.7)
    payloads = await _run_all(ours, model=QWEN3)
    assert [p["status"] for p in payloads] == [TerminationReason.SUCCESS.value] * len(ours)
    pages = emulator.backend.requests.entries("list")
    assert pages
    assert {entry["query"].get("model_name") for entry in pages} == {QWEN3}
    assert {entry["query"].get("page_no") for entry in pages} == {"1"}  # unfiltered: three pages
    assert not foreign & set(_queried(emulator))
    assert hook.list_tasks(status="PENDING").total >= len(foreign)  # they were open throughout
    assert _board_tasks() == []


async def test_a_list_trailing_the_query_loses_no_wait(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    emulator.backend.update_config({"list_lag_seconds": 1.0})
    ours = _submit(hook, 8, pending_seconds=0.2, running_seconds=0.6)
    payloads = await _run_all(ours)
    assert [p["status"] for p in payloads] == [TerminationReason.SUCCESS.value] * len(ours)


async def test_a_list_outage_falls_back_to_polling_each_task(
    hook: QwenASRHook, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board_module, "FALLBACK_AFTER_SECONDS", 0.0)
    emulator.backend.faults.add("list", "status", status=503, count=-1)
    ours = _submit(hook, 6, pending_seconds=0.3, running_seconds=0.6)
    payloads = await _run_all(ours)
    assert [p["status"] for p in payloads] == [TerminationReason.SUCCESS.value] * len(ours)
    assert len(_queried(emulator)) > len(ours)  # polled on the schedule, as without a board


async def test_the_list_coming_back_resumes_the_sweeps(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    emulator.backend.faults.add("list", "status", status=403, count=2)
    ours = _submit(hook, 4, pending_seconds=1.5, running_seconds=1.0)
    payloads = await _run_all(ours)
    assert [p["status"] for p in payloads] == [TerminationReason.SUCCESS.value] * len(ours)
    answered = [e for e in emulator.backend.requests.entries("list") if not e["fault"]]
    assert answered  # swept again after the refusals


async def test_cancelled_triggers_leave_nothing_running(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    ours = _submit(hook, 5, pending_seconds=3600)

    async def run(task_id: str) -> None:
        async for _event in _trigger(task_id).run():
            pass

    tasks = [asyncio.create_task(run(t)) for t in ours]

    async def swept_twice() -> None:
        # The emulator's request log has no event to wait on: look again every few milliseconds.
        while len(emulator.backend.requests.entries("list")) < 4:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(swept_twice(), LIMIT)
    assert len(_board_tasks()) == 1
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0)
    assert _board_tasks() == []
    assert _queried(emulator) == []  # open the whole time: the sweeps alone watched them
