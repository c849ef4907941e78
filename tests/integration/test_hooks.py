"""Both hooks against the emulator over 127.0.0.1: the documented outcomes of issue 2.

Submit, poll, download and parse for both model families; a FAILED task, an UNKNOWN task, a 401,
a 429 burst and an expired signed URL; cancel of a PENDING task and of a finished one; the task
list; the temporary upload round trip; and the async hook's reads, sharing one client.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.exceptions import (
    QwenASRAuthError,
    QwenASRConnectionError,
    QwenASRResultError,
    QwenASRTaskExpiredError,
    QwenASRTaskFailedError,
)
from airflow_provider_qwenasr.hooks.pool import close_shared_clients, host_pool
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRAsyncHook, QwenASRHook
from airflow_provider_qwenasr.models import AsrTask, TaskStatus, Transcription
from airflow_provider_qwenasr.waiting import outcome_error, poll_until_done
from tests.conftest import EMULATOR_API_KEY, connection_json

QWEN3 = "qwen3-asr-flash-filetrans"
FAST = {"max_retries": 4, "retry_base_delay": 0.01, "retry_max_delay": 0.05, "timeout": (2.0, 5.0)}
#: An audio URL the emulator keeps PENDING for a minute: long enough to cancel it.
SLOW_AUDIO = "https://example.com/slow.wav?pending_seconds=60"
log = logging.getLogger(__name__)

pytestmark = pytest.mark.usefixtures("fast_polls")


@pytest.fixture
def hook(qwen_conn: str) -> Iterator[QwenASRHook]:
    hook = QwenASRHook(qwen_conn, **FAST)  # type: ignore[arg-type]
    yield hook
    hook.close()


@pytest.fixture
async def async_hook(qwen_conn: str) -> Iterator[QwenASRAsyncHook]:
    yield QwenASRAsyncHook(qwen_conn, **FAST)  # type: ignore[arg-type]
    await close_shared_clients()


def wait_done(hook: QwenASRHook, task_id: str) -> AsrTask:
    return poll_until_done(
        hook, task_id, poll_interval=0.05, max_poll_interval=0.1, deadline=time.time() + 15, log=log
    )


def download_json(hook: QwenASRHook, url: str) -> Transcription:
    sink = io.BytesIO()
    hook.download_result(url, sink)
    return Transcription.from_dict(json.loads(sink.getvalue()))


def submits(emulator: EmulatorServer) -> int:
    return len(emulator.backend.requests.entries("submit"))


# -- full round trips ----------------------------------------------------------------------------


def test_qwen3_submit_poll_download_parse(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    url = "https://example.com/meeting.wav?audio_seconds=12&language=en"
    task = hook.submit_transcription(QWEN3, file_url=url, parameters={"enable_words": True})
    assert task.status is TaskStatus.PENDING
    done = wait_done(hook, task.task_id)
    assert done.status is TaskStatus.SUCCEEDED
    assert outcome_error(done) is None
    assert done.usage_seconds == 12
    assert done.submit_time is not None
    assert done.end_time is not None
    assert done.end_time >= done.submit_time
    (file,) = done.succeeded_files
    transcription = download_json(hook, file.transcription_url or "")
    assert transcription.family == "qwen3"
    assert transcription.file_url == url
    assert transcription.text
    assert transcription.languages == ["en"]
    assert all(s.words for s in transcription.sentences)
    assert submits(emulator) == 1


def test_funasr_multi_file_with_one_failure(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    urls = [
        "https://example.com/a.wav",
        "https://example.com/b.mp3",
        "https://example.com/c.wav?fail=InvalidFile.DecodeFailed",
    ]
    task = hook.submit_transcription(
        "fun-asr", file_urls=urls, parameters={"diarization_enabled": True, "speaker_count": 2}
    )
    done = wait_done(hook, task.task_id)
    assert done.status is TaskStatus.SUCCEEDED
    assert [f.status for f in done.files] == [TaskStatus.SUCCEEDED, TaskStatus.SUCCEEDED, TaskStatus.FAILED]
    assert done.failed_files[0].code == "InvalidFile.DecodeFailed"
    assert outcome_error(done) is None
    partial = outcome_error(done, allow_partial_failure=False)
    assert isinstance(partial, QwenASRTaskFailedError)
    assert partial.failed_files[0]["code"] == "InvalidFile.DecodeFailed"
    for file in done.succeeded_files:
        transcription = download_json(hook, file.transcription_url or "")
        assert transcription.family == "funasr"
        assert transcription.file_url == file.file_url
        assert transcription.speakers
    assert "Signature" not in json.dumps(done.summary())


def test_failed_task(hook: QwenASRHook) -> None:
    task = hook.submit_transcription(QWEN3, file_url="https://example.com/a.wav?fail=FILE_404_NOT_FOUND")
    done = wait_done(hook, task.task_id)
    assert (done.status, done.code) == (TaskStatus.FAILED, "FILE_404_NOT_FOUND")
    error = outcome_error(done)
    assert isinstance(error, QwenASRTaskFailedError)
    assert task.task_id in str(error)
    assert "FILE_404_NOT_FOUND" in str(error)
    assert error.hint
    assert "download" in error.hint


def test_unknown_task(hook: QwenASRHook) -> None:
    task_id = str(uuid.uuid4())
    task = hook.get_task(task_id)
    assert task.status is TaskStatus.UNKNOWN
    assert task.is_terminal
    error = outcome_error(task)
    assert isinstance(error, QwenASRTaskExpiredError)
    assert task_id in str(error)


def test_wrong_key_is_an_auth_error_without_the_key(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "sk-wrong-key-abcdefghijklmnopqrstuvwxyz"
    monkeypatch.setenv("AIRFLOW_CONN_QWEN_WRONG", connection_json(emulator.base_url, wrong))
    hook = QwenASRHook("qwen_wrong", **FAST)  # type: ignore[arg-type]
    with pytest.raises(QwenASRAuthError) as caught:
        hook.get_task("some-task")
    assert caught.value.code == "InvalidApiKey"
    assert caught.value.request_id
    assert wrong not in str(caught.value)
    assert len(emulator.backend.requests.entries("query")) == 1  # not retried
    good, message = hook.test_connection()
    assert not good
    assert "InvalidApiKey" in message
    assert wrong not in message


def test_query_burst_over_the_quota_is_absorbed(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    """Twenty queries at once against a 10/s quota: some get 429, every call still succeeds."""
    emulator.backend.update_config({"query_qps": 10})
    hook.max_retries = 10
    task = hook.submit_transcription(QWEN3, file_url="https://example.com/a.wav")
    statuses = {hook.get_task(task.task_id).status for _ in range(20)}
    assert statuses <= {TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.SUCCEEDED}
    answered = [r["status"] for r in emulator.backend.requests.entries("query")]
    assert answered.count(200) == 20
    assert 429 in answered
    budget = hook._budget(hook.settings)
    assert budget.counters.throttled >= 1
    assert budget.rate < budget.ceiling


def test_expired_result_link(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    """After 24 h the signed URL answers 403 and the task is UNKNOWN: the error says the result is gone."""
    task = hook.submit_transcription(QWEN3, file_url="https://example.com/a.wav")
    done = wait_done(hook, task.task_id)
    url = done.files[0].transcription_url or ""
    emulator.backend.clock.advance(25 * 3600)
    with pytest.raises(QwenASRResultError) as caught:
        hook.download_result(url, io.BytesIO())
    assert caught.value.code == "AccessDenied"
    assert caught.value.hint
    assert "expire" in caught.value.hint
    assert "Signature=" not in str(caught.value)
    assert task.task_id in str(caught.value)  # the result path names the task
    assert len(emulator.backend.requests.entries("result")) == 1
    assert hook.get_task(task.task_id).status is TaskStatus.UNKNOWN


def test_tampered_result_link(hook: QwenASRHook) -> None:
    task = hook.submit_transcription(QWEN3, file_url="https://example.com/a.wav")
    url = wait_done(hook, task.task_id).files[0].transcription_url or ""
    with pytest.raises(QwenASRResultError) as caught:
        hook.download_result(url.replace("Expires=", "Expires=1"), io.BytesIO())
    assert caught.value.code == "SignatureDoesNotMatch"


# -- cancel and list -------------------------------------------------------------------------------


def test_cancel_pending_task(hook: QwenASRHook) -> None:
    task = hook.submit_transcription(QWEN3, file_url=SLOW_AUDIO)
    assert hook.cancel_task(task.task_id) is True
    assert hook.get_task(task.task_id).status is TaskStatus.CANCELED
    assert hook.cancel_task(task.task_id) is True  # idempotent: it is canceled


def test_cancel_finished_task_is_refused_quietly(hook: QwenASRHook) -> None:
    task = hook.submit_transcription(QWEN3, file_url="https://example.com/a.wav")
    wait_done(hook, task.task_id)
    assert hook.cancel_task(task.task_id) is False
    assert hook.get_task(task.task_id).status is TaskStatus.SUCCEEDED


def test_list_tasks(hook: QwenASRHook) -> None:
    first = hook.submit_transcription(QWEN3, file_url="https://example.com/a.wav")
    second = hook.submit_transcription("paraformer-v2", file_url="https://example.com/b.wav")
    page = hook.list_tasks()
    assert {i.task_id for i in page.items} == {first.task_id, second.task_id}
    only = hook.list_tasks(model_name="paraformer-v2")
    assert [i.task_id for i in only.items] == [second.task_id]
    assert all(i.created_ms for i in page.items)
    paged = list(hook.iter_tasks(page_size=1))
    assert len(paged) == 2


def test_upload_file_round_trip(hook: QwenASRHook, emulator: EmulatorServer, tmp_path: Path) -> None:
    audio = tmp_path / "meeting.wav"
    audio.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(64))
    oss_url = hook.upload_file(audio, model=QWEN3)
    assert oss_url.startswith("oss://")
    assert oss_url.endswith("/meeting.wav")
    task = hook.submit_transcription(QWEN3, file_url=oss_url)
    assert wait_done(hook, task.task_id).status is TaskStatus.SUCCEEDED
    (submit,) = emulator.backend.requests.entries("submit")
    assert submit["headers"].get("X-DashScope-OssResourceResolve") == "enable"


# -- the async hook ---------------------------------------------------------------------------------


async def test_async_get_task_through_its_lifecycle(async_hook: QwenASRAsyncHook, hook: QwenASRHook) -> None:
    task = hook.submit_transcription("fun-asr", file_urls=["https://example.com/a.wav"])
    seen = []
    for _ in range(200):
        current = await async_hook.get_task(task.task_id)
        if not seen or seen[-1] is not current.status:
            seen.append(current.status)
        if current.is_terminal:
            break
        await asyncio.sleep(0.02)  # the emulator's clock is real time; keep polls few
    assert seen[-1] is TaskStatus.SUCCEEDED
    assert set(seen) <= {TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.SUCCEEDED}


async def test_async_unknown_and_auth(
    async_hook: QwenASRAsyncHook, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await async_hook.get_task("no-such-task")).status is TaskStatus.UNKNOWN
    monkeypatch.setenv(
        "AIRFLOW_CONN_QWEN_WRONG", connection_json(emulator.base_url, "sk-not-a-valid-key-1234567890")
    )
    with pytest.raises(QwenASRAuthError, match="InvalidApiKey"):
        await QwenASRAsyncHook("qwen_wrong", **FAST).get_task("t")  # type: ignore[arg-type]


async def test_async_cancel(async_hook: QwenASRAsyncHook, hook: QwenASRHook) -> None:
    pending = hook.submit_transcription(QWEN3, file_url=SLOW_AUDIO)
    assert await async_hook.cancel_task(pending.task_id) is True
    assert await async_hook.cancel_task(pending.task_id) is True  # idempotent: it is canceled
    assert (await async_hook.get_task(pending.task_id)).status is TaskStatus.CANCELED


async def test_async_retries_429_and_5xx(async_hook: QwenASRAsyncHook, emulator: EmulatorServer) -> None:
    emulator.backend.faults.add("query", "status", status=429, count=1)
    emulator.backend.faults.add("query", "status", status=503, count=1)
    emulator.backend.faults.add("query", "drop", count=1)
    assert (await async_hook.get_task("t-1")).status is TaskStatus.UNKNOWN
    assert [r["status"] for r in emulator.backend.requests.entries("query")] == [429, 503, None, 200]


async def test_async_hooks_share_one_client_per_host(qwen_conn: str, emulator: EmulatorServer) -> None:
    """Thousands of triggers in one loop must not open a connection each."""
    hooks = [QwenASRAsyncHook(qwen_conn, **FAST) for _ in range(10)]  # type: ignore[arg-type]
    for h in hooks:
        await h.get_task("t-1")
    settings = await hooks[0].get_settings()
    assert host_pool(settings.host, (2.0, 5.0)) is host_pool(settings.host, (2.0, 5.0))
    assert emulator.backend.stats.connections_opened == 1
    await close_shared_clients()


def test_sync_hook_keeps_one_connection(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    for _ in range(5):
        hook.get_task("t-1")
    assert emulator.backend.stats.connections_opened == 1


def test_api_key_reaches_the_emulator_redacted_in_its_log(
    hook: QwenASRHook, emulator: EmulatorServer
) -> None:
    hook.get_task("t-1")
    (entry,) = emulator.backend.requests.entries("query")
    assert EMULATOR_API_KEY not in json.dumps(entry)


async def test_connection_read_timeout_applies_per_connection(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``extra.read_timeout`` bounds each request of both hooks; another connection to the same host
    (sharing the loop's client) keeps its own default."""
    monkeypatch.setenv("AIRFLOW_CONN_QWEN_QUICK", connection_json(emulator.base_url, read_timeout=0.3))
    monkeypatch.setenv("AIRFLOW_CONN_QWEN_PATIENT", connection_json(emulator.base_url))
    retries = {"max_retries": 0, "retry_base_delay": 0.01, "retry_max_delay": 0.05}
    quick, patient = QwenASRAsyncHook("qwen_quick", **retries), QwenASRAsyncHook("qwen_patient", **retries)  # type: ignore[arg-type]
    try:
        emulator.backend.faults.add("query", "latency", delay_seconds=1.5, count=-1)
        assert (await patient.get_task("no-such-task")).status is TaskStatus.UNKNOWN
        with pytest.raises(QwenASRConnectionError):
            await quick.get_task("no-such-task")
        with pytest.raises(QwenASRConnectionError):
            QwenASRHook("qwen_quick", **retries).get_task("no-such-task")  # type: ignore[arg-type]
        assert (await patient.get_task("no-such-task")).status is TaskStatus.UNKNOWN
    finally:
        emulator.backend.faults.clear()
        await close_shared_clients()
