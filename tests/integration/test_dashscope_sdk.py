"""The official ``dashscope`` SDK, unchanged, pointed at the emulator.

If these pass, the emulator answers what the SDK sends and the SDK parses what the emulator answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.emulator.testing import running_emulator

dashscope = pytest.importorskip("dashscope")
from dashscope.audio.asr import Transcription  # noqa: E402 - after the importorskip
from dashscope.audio.qwen_asr import QwenTranscription  # noqa: E402
from dashscope.utils.oss_utils import OssUtils, check_and_upload_local  # noqa: E402

QWEN3 = "qwen3-asr-flash-filetrans"
KEY = "sk-emulator"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    # The SDK reads both module globals at call time; monkeypatch puts them back afterwards.
    with running_emulator(api_keys=(KEY,), pending_seconds=0, running_seconds=0) as server:
        monkeypatch.setattr(dashscope, "base_http_api_url", server.base_url)
        monkeypatch.setattr(dashscope, "api_key", KEY)
        yield server


def test_qwen_transcription_async_call_wait_and_result(emulator: EmulatorServer) -> None:
    submitted = QwenTranscription.async_call(
        model=QWEN3, file_url="https://example.com/interview.wav?audio_seconds=20", enable_words=True
    )
    assert submitted.status_code == HTTPStatus.OK
    assert submitted.output.task_status == "PENDING"
    done = QwenTranscription.wait(task=submitted.output.task_id)
    assert done.status_code == HTTPStatus.OK
    assert done.output.task_status == "SUCCEEDED"
    assert done.usage.seconds == 20
    document = requests.get(done.output.result["transcription_url"]).json()
    assert document["transcripts"][0]["sentences"][0]["words"]
    [submit] = emulator.backend.requests.entries("submit")
    assert submit["body"] == {
        "model": QWEN3,
        "parameters": {"enable_words": True},
        "input": {"file_url": "https://example.com/interview.wav?audio_seconds=20"},
    }
    assert submit["headers"]["X-DashScope-Async"] == "enable"


def test_wait_polls_through_running(emulator: EmulatorServer) -> None:
    emulator.backend.update_config({"running_seconds": 0.3})
    submitted = QwenTranscription.async_call(model=QWEN3, file_url="https://example.com/a.wav")
    done = QwenTranscription.wait(task=submitted)
    assert done.output.task_status == "SUCCEEDED"
    assert len(emulator.backend.requests.entries("query")) >= 2


def test_qwen_transcription_failure(emulator: EmulatorServer) -> None:
    submitted = QwenTranscription.async_call(
        model=QWEN3, file_url="https://example.com/a.wav?fail=FILE_403_FORBIDDEN"
    )
    done = QwenTranscription.wait(task=submitted)
    assert done.output.task_status == "FAILED"
    assert done.output.code == "FILE_403_FORBIDDEN"


def test_transcription_fun_asr_multi_file(emulator: EmulatorServer) -> None:
    urls = ["https://example.com/a.wav", "https://example.com/b.wav?fail=FILE_404_NOT_FOUND"]
    submitted = Transcription.async_call(
        model="fun-asr", file_urls=urls, diarization_enabled=True, speaker_count=2, workspace="ws-123"
    )
    assert submitted.status_code == HTTPStatus.OK
    done = Transcription.wait(task=submitted)
    assert done.output.task_status == "SUCCEEDED"
    ok, failed = done.output.results
    assert ok["subtask_status"] == "SUCCEEDED"
    assert failed["code"] == "FILE_404_NOT_FOUND"
    document = requests.get(ok["transcription_url"]).json()
    assert {s["speaker_id"] for s in document["transcripts"][0]["sentences"]} <= {0, 1}
    [submit] = emulator.backend.requests.entries("submit")
    assert submit["headers"]["X-DashScope-WorkSpace"] == "ws-123"


def test_fetch_cancel_and_list(emulator: EmulatorServer) -> None:
    emulator.backend.update_config({"pending_seconds": 60})
    submitted = Transcription.async_call(model="paraformer-v2", file_urls=["https://example.com/a.wav"])
    task_id = submitted.output.task_id
    fetched = Transcription.fetch(task=task_id)
    assert fetched.output.task_status == "PENDING"
    canceled = Transcription.cancel(task_id)
    assert canceled.status_code == HTTPStatus.OK
    assert Transcription.fetch(task=task_id).output.task_status == "CANCELED"
    refused = Transcription.cancel(task_id)
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert refused.code == "UnsupportedOperation"
    listed = Transcription.list(model_name="paraformer-v2", page_size=5)
    assert listed.status_code == HTTPStatus.OK
    assert listed.output["total"] == 1
    assert listed.output["data"][0]["status"] == "CANCELED"


def test_unknown_task_stops_wait(emulator: EmulatorServer) -> None:
    assert QwenTranscription.wait(task="no-such-task").output.task_status == "UNKNOWN"


def test_sdk_reports_error_codes(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashscope, "api_key", "sk-wrong")
    answer = QwenTranscription.async_call(model=QWEN3, file_url="https://example.com/a.wav")
    assert answer.status_code == HTTPStatus.UNAUTHORIZED
    assert answer.code == "InvalidApiKey"
    assert answer.request_id


def test_sdk_sees_throttling(emulator: EmulatorServer) -> None:
    emulator.backend.faults.add(endpoint="query", kind="status", status=429)
    answer = Transcription.fetch(task="x")
    assert answer.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert answer.code == "Throttling.RateQuota"


def test_sdk_upload_then_oss_submit(emulator: EmulatorServer, tmp_path: Path) -> None:
    audio = tmp_path / "local meeting.wav"
    audio.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt ")
    oss_url, certificate = OssUtils.upload(model=QWEN3, file_path=str(audio), api_key=KEY)
    assert oss_url.startswith("oss://dashscope-instant/")
    assert certificate["upload_host"] == emulator.root_url + "/oss"
    submitted = QwenTranscription.async_call(
        model=QWEN3, file_url=oss_url, headers={"X-DashScope-OssResourceResolve": "enable"}
    )
    done = QwenTranscription.wait(task=submitted)
    assert done.output.task_status == "SUCCEEDED"
    [submit] = emulator.backend.requests.entries("submit")
    assert submit["headers"]["X-DashScope-OssResourceResolve"] == "enable"


def test_sdk_check_and_upload_local(emulator: EmulatorServer, tmp_path: Path) -> None:
    audio = tmp_path / "clip.mp3"
    audio.write_bytes(b"ID3")
    uploaded, url, _ = check_and_upload_local(QWEN3, f"file://{audio}", KEY)
    assert uploaded
    assert url.endswith("/clip.mp3")
    without_header = QwenTranscription.wait(task=QwenTranscription.async_call(model=QWEN3, file_url=url))
    assert without_header.output.task_status == "FAILED"  # oss:// needs the resolve header


# -- hot-word tables and the 2.x client ------------------------------------------------------------

WORDS = [{"text": "Qwen-ASR", "weight": 4, "lang": "en"}]


@pytest.fixture
def client(emulator: EmulatorServer) -> Any:
    """The SDK 2.x client, pointed at the emulator by ``base_url`` (no retries: answers are seen as sent)."""
    sdk = dashscope.Client(api_key=KEY, base_url=emulator.base_url, max_retries=0)
    with pytest.warns(FutureWarning, match="preview"):  # 2.0.2 mounts its audio API as a preview
        sdk.audio  # noqa: B018 - the first access mounts it
    return sdk


def test_v2_vocabularies_create_list_get_update_delete(emulator: EmulatorServer, client: Any) -> None:
    vocabularies = client.audio.vocabularies
    created = vocabularies.create(target_model="fun-asr", prefix="holdout", vocabulary=WORDS)
    assert created.vocabulary_id.startswith("vocab-holdout-")
    listed = vocabularies.list(prefix="holdout")
    assert [item["vocabulary_id"] for item in listed.vocabularies] == [created.vocabulary_id]
    assert listed.vocabularies[0]["status"] == "OK"
    got = vocabularies.get(created.vocabulary_id)
    assert got.vocabulary == WORDS
    assert got.target_model == "fun-asr"
    new_words = [{"text": "DashScope", "weight": 2}]
    assert vocabularies.update(created.vocabulary_id, vocabulary=new_words).status_code == 200
    assert vocabularies.get(created.vocabulary_id).vocabulary == new_words
    assert vocabularies.delete(created.vocabulary_id).status_code == 200
    with pytest.raises(dashscope.v2.errors.BadRequestError) as refused:
        vocabularies.get(created.vocabulary_id)
    assert refused.value.code == "InvalidParameter"
    assert vocabularies.list().vocabularies == []
    sent = emulator.backend.requests.entries("customization")
    assert [entry["body"]["input"]["action"] for entry in sent] == [
        "create_vocabulary",
        "list_vocabulary",
        "query_vocabulary",
        "update_vocabulary",
        "query_vocabulary",
        "delete_vocabulary",
        "query_vocabulary",
        "list_vocabulary",
    ]
    assert all(entry["body"]["model"] == "speech-biasing" for entry in sent)


def test_v2_transcribe_with_its_default_model(emulator: EmulatorServer, client: Any) -> None:
    job = client.audio.asr.transcribe(["https://example.com/a.wav?audio_seconds=12"], poll_interval=0.05)
    assert job.status == "SUCCEEDED"
    [result] = job.results
    assert result.subtask_status == "SUCCEEDED"
    document = requests.get(result.transcription_url).json()
    assert document["transcripts"][0]["sentences"][0]["emotion"]  # a Qwen3-style document
    [submit] = emulator.backend.requests.entries("submit")
    assert submit["body"]["model"] == "qwen-audio-3.1-asr-flash-filetrans"
    assert submit["body"]["parameters"] == {}


def test_v2_transcribe_with_a_table(emulator: EmulatorServer, client: Any) -> None:
    table = client.audio.vocabularies.create(target_model="fun-asr", prefix="calls", vocabulary=WORDS)
    job = client.audio.asr.transcribe(
        ["https://example.com/a.wav"],
        model="fun-asr",
        parameters={"vocabulary_id": table.vocabulary_id},
        poll_interval=0.05,
    )
    assert job.status == "SUCCEEDED"
    with pytest.raises(dashscope.v2.errors.DashScopeError) as failed:
        client.audio.asr.transcribe(
            ["https://example.com/a.wav"],
            model="paraformer-v2",  # the table is for fun-asr
            parameters={"vocabulary_id": table.vocabulary_id},
            poll_interval=0.05,
        )
    assert table.vocabulary_id in str(failed.value)


def test_v1_vocabulary_service(emulator: EmulatorServer) -> None:
    from dashscope.audio.asr import VocabularyService, VocabularyServiceException

    service = VocabularyService()
    vocabulary_id = service.create_vocabulary(target_model="paraformer-v2", prefix="v1", vocabulary=WORDS)
    assert vocabulary_id.startswith("vocab-v1-")
    [listed] = service.list_vocabularies(prefix="v1")
    assert listed["vocabulary_id"] == vocabulary_id
    queried = service.query_vocabulary(vocabulary_id)
    assert queried["vocabulary"] == WORDS
    assert queried["target_model"] == "paraformer-v2"
    service.update_vocabulary(vocabulary_id, [{"text": "Paraformer", "weight": 3, "lang": "en"}])
    assert service.query_vocabulary(vocabulary_id)["vocabulary"][0]["text"] == "Paraformer"
    service.delete_vocabulary(vocabulary_id)
    assert service.list_vocabularies() == []
    with pytest.raises(VocabularyServiceException, match="InvalidParameter"):
        service.query_vocabulary(vocabulary_id)
    with pytest.raises(VocabularyServiceException, match="InvalidParameter"):
        service.create_vocabulary(target_model="qwen3-asr-flash-filetrans", prefix="v1", vocabulary=WORDS)
    done = Transcription.wait(
        task=Transcription.async_call(
            model="paraformer-v2", file_urls=["https://example.com/a.wav"], vocabulary_id=vocabulary_id
        )
    )
    assert done.output.task_status == "FAILED"  # deleted: the task fails, the submit did not
    assert done.output.code == "InvalidParameter"
