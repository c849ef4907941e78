"""The metrics that the hooks and the waits send, against the emulator over HTTP.

Both hooks count each call by its outcome (the async one as the trigger uses it, the sync one with its
retries); the trigger and the worker's blocking wait each count a transcription once, with the seconds
the emulator billed under the model they were given; a download counts the bytes the emulator served.
"""

from __future__ import annotations

import io
import logging
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from airflow_provider_qwenasr import metrics
from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.exceptions import QwenASRTimeoutError
from airflow_provider_qwenasr.hooks.pool import close_shared_clients
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRAsyncHook, QwenASRHook
from airflow_provider_qwenasr.models import AsrTask
from airflow_provider_qwenasr.triggers.qwen_asr import QwenASRTaskTrigger
from airflow_provider_qwenasr.waiting import poll_until_done
from tests.conftest import FAST_RETRIES
from tests.stats_recorder import Recorder, recording

pytestmark = pytest.mark.usefixtures("fast_polls")

QWEN3 = "qwen3-asr-flash-filetrans"
AUDIO = "https://example.com/a.wav?audio_seconds=12"
log = logging.getLogger(__name__)


@pytest.fixture
def stats(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    yield from recording(monkeypatch)


def _wait(hook: QwenASRHook, task_id: str, *, within: float, model: str | None = None) -> AsrTask:
    return poll_until_done(
        hook,
        task_id,
        poll_interval=0.05,
        max_poll_interval=0.1,
        deadline=time.time() + within,
        log=log,
        model=model,
    )


def _requests(stats: Recorder) -> Counter[tuple[str, str]]:
    return Counter((tags["endpoint"], tags["outcome"]) for _, tags in stats.named(metrics.REQUESTS))


async def test_the_async_hook_counts_each_try_by_outcome(
    stats: Recorder, qwen_conn: str, emulator: EmulatorServer
) -> None:
    emulator.backend.faults.add("query", "status", status=429, count=1)
    emulator.backend.faults.add("query", "status", status=503, count=1)
    emulator.backend.faults.add("query", "drop", count=1)
    await QwenASRAsyncHook(qwen_conn, **FAST_RETRIES).get_task("t-1")
    await close_shared_clients()
    assert _requests(stats) == {
        ("query", "throttled"): 1,
        ("query", "server_error"): 1,
        ("query", "transport_error"): 1,
        ("query", "ok"): 1,
    }
    rates = [value for value, _ in stats.named(metrics.BUDGET_RATE)]
    assert rates[:2] == [200.0, 100.0]  # the fixture's query_qps, then halved by the 429


async def test_the_trigger_counts_its_transcription_once(fast_hook: QwenASRHook, stats: Recorder) -> None:
    task = fast_hook.submit_transcription(QWEN3, file_url=AUDIO)
    trigger = QwenASRTaskTrigger(task.task_id, poll_interval=0.05, deadline=time.time() + 20, model=QWEN3)
    events = [event async for event in trigger.run()]
    await close_shared_clients()
    assert events[0].payload["status"] == "success"
    assert stats.named(metrics.TRANSCRIPTIONS) == [(1, {"outcome": "success", "waiter": "triggerer"})]
    assert stats.named(metrics.BILLED_AUDIO_SECONDS) == [(12, {"model": QWEN3})]
    assert len(stats.named(metrics.WAIT_DETECTION_DELAY)) == 1
    assert _requests(stats)[("submit", "ok")] == 1
    assert _requests(stats)[("query", "ok")] >= 1


def test_the_blocking_wait_and_the_download(fast_hook: QwenASRHook, stats: Recorder) -> None:
    task = fast_hook.submit_transcription(
        "fun-asr", file_urls=[AUDIO, "https://example.com/b.wav?fail=DECODE_ERROR"]
    )
    done = _wait(fast_hook, task.task_id, within=15, model="fun-asr")
    assert stats.named(metrics.TRANSCRIPTIONS) == [(1, {"outcome": "success", "waiter": "worker"})]
    assert stats.named(metrics.BILLED_AUDIO_SECONDS) == [(done.usage_seconds, {"model": "fun-asr"})]
    [file] = done.succeeded_files
    sink = io.BytesIO()
    size = fast_hook.download_result(file.transcription_url or "", sink)
    assert stats.named(metrics.RESULT_BYTES) == [(size, {})]
    assert size == len(sink.getvalue()) > 0


def test_a_wait_that_times_out(fast_hook: QwenASRHook, stats: Recorder) -> None:
    task = fast_hook.submit_transcription(QWEN3, file_url="https://example.com/slow.wav?pending_seconds=60")
    with pytest.raises(QwenASRTimeoutError):
        _wait(fast_hook, task.task_id, within=0.3)
    assert stats.named(metrics.TRANSCRIPTIONS) == [(1, {"outcome": "timeout", "waiter": "worker"})]
    assert stats.named(metrics.BILLED_AUDIO_SECONDS) == []
