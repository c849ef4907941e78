""":class:`QwenASRTaskTrigger` run under pytest-asyncio against the emulator.

Each terminal state gives exactly one event with the right ``status``; injected 429s, 5xx and
dropped connections are ridden out; the deadline gives a ``timeout``; a bad key gives ``error``.
``serialize()`` re-creates an equal trigger, and no event carries a URL with a query string.
"""

from __future__ import annotations

import importlib
import json
import re
import time
import uuid
from typing import Any

import pytest

from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.triggers.qwen_asr import QwenASRTaskTrigger, TerminationReason
from airflow_provider_qwenasr.waiting import error_from_event
from tests.conftest import EMULATOR_API_KEY, connection_json

pytestmark = pytest.mark.usefixtures("fast_polls", "_close_clients")

QWEN3 = "qwen3-asr-flash-filetrans"
SLOW_AUDIO = "https://example.com/slow.wav?pending_seconds=60"
#: A URL followed by a query; ``?…`` (the provider's redaction marker, JSON-escaped) is allowed.
URL_WITH_QUERY = re.compile(r"https?://[^\s\"'?]*\?(?!\\u2026|…)")


@pytest.fixture
def qwen_conn(qwen_conn: str, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """These tests are about polling each task: the status board is off here (on, and tested, in
    test_status_sweep.py)."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_QWEN_ASR_DEFAULT", connection_json(emulator.base_url, query_qps=200, status_sweep=False)
    )
    return qwen_conn


def trigger_for(
    task_id: str, conn_id: str = "qwen_asr_default", *, deadline_in: float | None = 20.0
) -> QwenASRTaskTrigger:
    return QwenASRTaskTrigger(
        asr_task_id=task_id,
        qwen_asr_conn_id=conn_id,
        poll_interval=0.05,
        max_poll_interval=0.15,
        deadline=None if deadline_in is None else time.time() + deadline_in,
    )


async def run_to_end(trigger: QwenASRTaskTrigger) -> dict[str, Any]:
    """Run the trigger to its end and return its only event's payload (asserting there is one)."""
    events = [event async for event in trigger.run()]
    assert len(events) == 1, events
    payload = events[0].payload
    assert json.loads(json.dumps(payload)) == payload  # JSON-safe
    text = json.dumps(payload)
    assert not URL_WITH_QUERY.search(text), text
    assert "Signature" not in text
    assert EMULATOR_API_KEY not in text
    return payload


@pytest.mark.parametrize(
    ("model", "audio", "reason", "code"),
    [
        pytest.param(QWEN3, "https://example.com/a.wav", TerminationReason.SUCCESS, None, id="qwen3-success"),
        pytest.param(
            "fun-asr", "https://example.com/a.wav", TerminationReason.SUCCESS, None, id="funasr-success"
        ),
        pytest.param(
            QWEN3,
            "https://example.com/a.wav?fail=FILE_403_FORBIDDEN",
            TerminationReason.FAILED,
            "FILE_403_FORBIDDEN",
            id="qwen3-failed",
        ),
        pytest.param(
            "fun-asr",
            "https://example.com/a.wav?fail=InvalidFile.DownloadFailed",
            TerminationReason.FAILED,
            "InvalidFile.DownloadFailed",
            id="funasr-failed",
        ),
    ],
)
async def test_terminal_states(
    hook: QwenASRHook, model: str, audio: str, reason: TerminationReason, code: str | None
) -> None:
    task = hook.submit_transcription(model, file_url=audio)
    payload = await run_to_end(trigger_for(task.task_id))
    assert payload["status"] == reason.value
    assert payload["asr_task_id"] == task.task_id
    assert payload["code"] == code
    assert payload["request_id"]
    assert payload["task"]["asr_task_id"] == task.task_id
    error = error_from_event(payload)
    if reason is TerminationReason.SUCCESS:
        assert error is None
    else:
        assert error is not None
        assert code in str(error)
        assert task.task_id in str(error)


async def test_funasr_every_file_failed_reported_succeeded(
    hook: QwenASRHook, emulator: EmulatorServer
) -> None:
    """One documentation example shows SUCCEEDED with every file failed: that is a failure."""
    emulator.backend.update_config({"funasr_all_failed_status": "SUCCEEDED"})
    task = hook.submit_transcription(
        "fun-asr", file_urls=["https://example.com/a.wav?fail=InvalidFile.DecodeFailed"]
    )
    payload = await run_to_end(trigger_for(task.task_id))
    assert payload["status"] == TerminationReason.FAILED.value
    assert payload["task_status"] == "SUCCEEDED"
    assert "InvalidFile.DecodeFailed" in str(error_from_event(payload))


async def test_canceled(hook: QwenASRHook) -> None:
    task = hook.submit_transcription(QWEN3, file_url=SLOW_AUDIO)
    assert hook.cancel_task(task.task_id)
    payload = await run_to_end(trigger_for(task.task_id))
    assert payload["status"] == TerminationReason.CANCELED.value


async def test_unknown_task_is_expired(qwen_conn: str) -> None:
    task_id = str(uuid.uuid4())
    payload = await run_to_end(trigger_for(task_id, qwen_conn))
    assert (payload["status"], payload["task_status"]) == (TerminationReason.EXPIRED.value, "UNKNOWN")
    assert task_id in str(error_from_event(payload))


async def test_task_past_retention_is_expired(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    task = hook.submit_transcription(QWEN3, file_url="https://example.com/a.wav")
    emulator.backend.clock.advance(26 * 3600)
    payload = await run_to_end(trigger_for(task.task_id))
    assert payload["status"] == TerminationReason.EXPIRED.value


async def test_deadline_gives_timeout_with_last_status(hook: QwenASRHook) -> None:
    task = hook.submit_transcription(QWEN3, file_url=SLOW_AUDIO)
    payload = await run_to_end(trigger_for(task.task_id, deadline_in=0.3))
    assert payload["status"] == TerminationReason.TIMEOUT.value
    assert payload["task_status"] == "PENDING"
    assert "PENDING" in payload["message"]


async def test_deadline_already_past_polls_once_then_times_out(
    hook: QwenASRHook, emulator: EmulatorServer
) -> None:
    """A trigger re-created after its deadline (a triggerer restart) checks the task once, then gives up."""
    task = hook.submit_transcription(QWEN3, file_url=SLOW_AUDIO)
    payload = await run_to_end(trigger_for(task.task_id, deadline_in=-5))
    assert payload["status"] == TerminationReason.TIMEOUT.value
    assert len(emulator.backend.requests.entries("query")) == 1


async def test_wrong_key_is_an_error_event(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "sk-wrong-trigger-key-0123456789abcdef"
    monkeypatch.setenv("AIRFLOW_CONN_QWEN_WRONG", connection_json(emulator.base_url, wrong))
    payload = await run_to_end(trigger_for("some-task", "qwen_wrong"))
    assert payload["status"] == TerminationReason.ERROR.value
    assert payload["error"]["code"] == "InvalidApiKey"
    assert payload["error"]["request_id"]
    assert wrong not in json.dumps(payload)
    assert len(emulator.backend.requests.entries("query")) == 1  # a permanent error is not retried


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"kind": "status", "status": 429}, id="429"),
        pytest.param({"kind": "status", "status": 429, "retry_after": 0.1}, id="429-retry-after"),
        pytest.param({"kind": "status", "status": 500}, id="500"),
        pytest.param({"kind": "status", "status": 502}, id="502"),
        pytest.param({"kind": "status", "status": 503}, id="503"),
        pytest.param({"kind": "drop"}, id="dropped"),
        pytest.param({"kind": "reset"}, id="reset"),
        pytest.param({"kind": "truncate"}, id="truncated"),
        pytest.param({"kind": "invalid_json"}, id="invalid-json"),
    ],
)
async def test_transient_query_failures_are_ridden_out(
    hook: QwenASRHook, emulator: EmulatorServer, fault: dict[str, Any]
) -> None:
    """Regression guard: ``except Exception`` must not turn a 503 or a dropped connection into a failure."""
    task = hook.submit_transcription(QWEN3, file_url="https://example.com/a.wav")
    emulator.backend.faults.add("query", count=3, **fault)
    payload = await run_to_end(trigger_for(task.task_id))
    assert payload["status"] == TerminationReason.SUCCESS.value
    faulted = [r for r in emulator.backend.requests.entries("query") if r["fault"]]
    assert len(faulted) == 3


async def test_a_long_outage_ends_in_timeout_not_error(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    task = hook.submit_transcription(QWEN3, file_url="https://example.com/a.wav")
    emulator.backend.faults.add("query", "status", status=503, count=-1)
    payload = await run_to_end(trigger_for(task.task_id, deadline_in=1.0))
    assert payload["status"] == TerminationReason.TIMEOUT.value
    assert payload["task_status"] is None
    assert len(emulator.backend.requests.entries("query")) >= 2


async def test_polls_back_off(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    """The interval stretches while the status does not change: few polls over a long PENDING."""
    task = hook.submit_transcription(QWEN3, file_url=SLOW_AUDIO)
    trigger = QwenASRTaskTrigger(
        task.task_id, poll_interval=0.02, max_poll_interval=1.0, deadline=time.time() + 0.6
    )
    payload = await run_to_end(trigger)
    assert payload["status"] == TerminationReason.TIMEOUT.value
    # A fixed 20 ms interval would poll ~30 times in 0.6 s; growing by 1.5x gives about 8.
    assert len(emulator.backend.requests.entries("query")) <= 12


async def test_intervals_below_the_floor_are_stretched_to_it(
    hook: QwenASRHook, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trigger row asking for 0 s polls (written by other code) still polls at most once a second."""
    from airflow_provider_qwenasr import waiting

    monkeypatch.setattr(waiting, "MIN_POLL_INTERVAL", 1.0)
    task = hook.submit_transcription(QWEN3, file_url=SLOW_AUDIO)
    trigger = QwenASRTaskTrigger(
        task.task_id, poll_interval=0, max_poll_interval=0, deadline=time.time() + 2.5
    )
    payload = await run_to_end(trigger)
    assert payload["status"] == TerminationReason.TIMEOUT.value
    # Unfloored, a 0 s interval polls as fast as the rate budget lets it: hundreds of queries.
    assert 1 <= len(emulator.backend.requests.entries("query")) <= 4


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"asr_task_id": "t-1"}, id="defaults"),
        pytest.param(
            {
                "asr_task_id": "t-2",
                "qwen_asr_conn_id": "other",
                "poll_interval": 2,
                "max_poll_interval": 9,
                "deadline": 1.7e9,
                "model": "fun-asr",
            },
            id="everything",
        ),
        pytest.param(
            {"asr_task_id": "t-3", "poll_interval": 50, "max_poll_interval": 10}, id="max-below-interval"
        ),
    ],
)
def test_serialize_round_trip(kwargs: dict[str, Any]) -> None:
    """A triggerer that restarts re-creates the trigger from ``serialize()``: it must come back equal."""
    trigger = QwenASRTaskTrigger(**kwargs)
    classpath, stored = trigger.serialize()
    module_name, _, class_name = classpath.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    again = cls(**json.loads(json.dumps(stored)))
    assert type(again) is QwenASRTaskTrigger
    assert again.serialize() == (classpath, stored)
    assert {k: getattr(again, k) for k in stored} == {k: getattr(trigger, k) for k in stored}
    assert set(stored) == {
        "asr_task_id",
        "qwen_asr_conn_id",
        "poll_interval",
        "max_poll_interval",
        "deadline",
        "model",
    }
