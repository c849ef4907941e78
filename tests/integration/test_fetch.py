"""QwenASRFetchTranscriptionOperator against the emulator over 127.0.0.1, writing to file://.

Tasks finish by advancing the emulator's clock, never by sleeping; downloads retry with tiny delays.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_qwenasr.exceptions import (
    QwenASRResultError,
    QwenASRTaskExpiredError,
    QwenASRTaskFailedError,
)
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.operators.fetch import QwenASRFetchTranscriptionOperator
from airflow_provider_qwenasr.results.parse import scan_result

#: Fast retries: the tests check what happens, not how long it takes.
HOOK_PARAMS = {"retry_base_delay": 0.001, "retry_max_delay": 0.01, "max_retries": 2}
AUDIO = "https://audio.test/calls"


def submit(emulator: Any, model: str, urls: list[str], **parameters: Any) -> str:
    """Submit a task, let it finish (clock advanced), and return its id."""
    hook = QwenASRHook(**HOOK_PARAMS)
    if model.startswith("qwen3"):
        task = hook.submit_transcription(model, file_url=urls[0], parameters=parameters)
    else:
        task = hook.submit_transcription(model, file_urls=urls, parameters=parameters)
    emulator.backend.clock.advance(60)
    return task.task_id


def fetch(asr_task_id: str, **kwargs: Any) -> dict[str, Any]:
    """Run the operator's execute as a worker would, without a DAG."""
    operator = QwenASRFetchTranscriptionOperator(
        task_id="fetch", asr_task_id=asr_task_id, hook_params=HOOK_PARAMS, **kwargs
    )
    return operator.execute(context={})  # type: ignore[arg-type]


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def signatures(asr_task_id: str) -> list[str]:
    """The signatures of the task's result URLs (the emulator's own log redacts them)."""
    from urllib.parse import parse_qs, urlsplit

    task = QwenASRHook(**HOOK_PARAMS).get_task(asr_task_id)
    found = [
        parse_qs(urlsplit(f.transcription_url).query)["Signature"][0]
        for f in task.files
        if f.transcription_url
    ]
    assert found
    return found


def test_qwen3_to_file(emulator: Any, qwen_conn: str, tmp_path: Path) -> None:
    """Qwen3: one file named from the result's file_url, every format, manifest without secrets."""
    asr_task_id = submit(
        emulator,
        "qwen3-asr-flash-filetrans",
        [f"{AUDIO}/board-meeting.wav?audio_seconds=90"],
        enable_words=True,
    )
    manifest = fetch(
        asr_task_id, output_path=tmp_path.as_uri(), output_formats=["json", "txt", "srt", "vtt", "jsonl"]
    )
    assert files_under(tmp_path) == [
        f"{asr_task_id}/board-meeting.{ext}" for ext in sorted(["json", "txt", "srt", "vtt", "jsonl"])
    ]
    record = manifest["files"][0]
    assert record["name"] == "board-meeting"
    assert record["status"] == "SUCCEEDED"
    assert record["file_url"] == f"{AUDIO}/board-meeting.wav?…"
    assert record["sentence_count"] > 5
    assert record["characters"] > 100
    assert record["emotions"]
    assert record["duration_ms"] <= 90_000
    stats = scan_result(tmp_path / asr_task_id / "board-meeting.json")
    assert stats.sentence_count == record["sentence_count"]
    lines = (tmp_path / asr_task_id / "board-meeting.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == record["sentence_count"]
    assert json.loads(lines[0])["words"]
    dumped = json.dumps(manifest)
    assert not any(sig in dumped for sig in signatures(asr_task_id))
    assert manifest["usage_seconds"] == 90


def test_funasr_files_diarized_with_one_failure(emulator: Any, qwen_conn: str, tmp_path: Path) -> None:
    """Fun-ASR: one output per file, duplicate stems take their index, the failed file is listed."""
    urls = [
        f"{AUDIO}/a/interview.wav?audio_seconds=40",
        f"{AUDIO}/b/interview.mp3?audio_seconds=30",
        f"{AUDIO}/lost.wav?fail=FILE_404_NOT_FOUND",
        f"{AUDIO}/standup.wav?audio_seconds=20",
    ]
    asr_task_id = submit(emulator, "fun-asr", urls, diarization_enabled=True, speaker_count=2)
    manifest = fetch(asr_task_id, output_path=str(tmp_path), output_formats="json,txt,srt")
    names = [f.get("name") for f in manifest["files"]]
    assert names == ["interview-0", "interview-1", None, "standup"]
    assert manifest["files"][2]["status"] == "FAILED"
    assert manifest["files"][2]["code"] == "FILE_404_NOT_FOUND"
    assert manifest["totals"]["succeeded"] == 3
    assert manifest["totals"]["failed"] == 1
    assert all(f["speakers"] for f in manifest["files"] if f["status"] == "SUCCEEDED")
    assert len(files_under(tmp_path)) == 9
    txt = (tmp_path / asr_task_id / "standup.txt").read_text(encoding="utf-8")
    assert txt.startswith("Speaker ")


def test_funasr_partial_failure_not_allowed(emulator: Any, qwen_conn: str, tmp_path: Path) -> None:
    """allow_partial_failure=False: the good file is written, then the task fails saying so."""
    urls = [f"{AUDIO}/good.wav?audio_seconds=10", f"{AUDIO}/bad.wav?fail=DECODE_ERROR"]
    asr_task_id = submit(emulator, "fun-asr", urls)
    with pytest.raises(QwenASRTaskFailedError) as raised:
        fetch(asr_task_id, output_path=str(tmp_path), allow_partial_failure=False)
    message = str(raised.value)
    assert "1 of 2 files" in message
    assert "DECODE_ERROR" in message
    assert (tmp_path / asr_task_id / "good.txt").as_uri() in message
    assert files_under(tmp_path) == [f"{asr_task_id}/good.json", f"{asr_task_id}/good.txt"]


def test_rerun_overwrites_the_same_keys(emulator: Any, qwen_conn: str, tmp_path: Path) -> None:
    """Fetching twice writes the same objects with the same content and leaves no temporary file."""
    asr_task_id = submit(emulator, "qwen3-asr-flash-filetrans", [f"{AUDIO}/x.wav?audio_seconds=30"])
    first = fetch(asr_task_id, output_path=str(tmp_path), output_formats=["json", "vtt"])
    contents = {p: (tmp_path / p).read_bytes() for p in files_under(tmp_path)}
    second = fetch(asr_task_id, output_path=str(tmp_path), output_formats=["json", "vtt"])
    assert first == second
    assert {p: (tmp_path / p).read_bytes() for p in files_under(tmp_path)} == contents


def test_empty_transcript(emulator: Any, qwen_conn: str, tmp_path: Path) -> None:
    """Silence: valid empty outputs and a manifest with zero sentences."""
    asr_task_id = submit(emulator, "qwen3-asr-flash-filetrans", [f"{AUDIO}/silence.wav?audio_seconds=0"])
    manifest = fetch(
        asr_task_id, output_path=str(tmp_path), output_formats=["json", "txt", "srt", "vtt", "jsonl"]
    )
    record = manifest["files"][0]
    assert (record["sentence_count"], record["characters"], record["duration_ms"]) == (0, 0, None)
    folder = tmp_path / asr_task_id
    assert (folder / "silence.txt").read_text() == ""
    assert (folder / "silence.srt").read_text() == ""
    assert (folder / "silence.vtt").read_text().startswith("WEBVTT")
    assert (folder / "silence.jsonl").read_text() == ""


def test_unknown_task(emulator: Any, qwen_conn: str) -> None:
    """An id the service does not know: the expired error, saying results are kept 24 h."""
    with pytest.raises(QwenASRTaskExpiredError, match="24 h"):
        fetch("8fab76d0-0eed-4d20-929f-0123456789ab")


def test_task_past_retention_is_unknown(emulator: Any, qwen_conn: str, tmp_path: Path) -> None:
    """25 h after the end the service answers UNKNOWN: the expired error, nothing written."""
    asr_task_id = submit(emulator, "qwen3-asr-flash-filetrans", [f"{AUDIO}/late.wav?audio_seconds=5"])
    emulator.backend.clock.advance(25 * 3600)
    with pytest.raises(QwenASRTaskExpiredError) as raised:
        fetch(asr_task_id, output_path=str(tmp_path))
    assert asr_task_id in str(raised.value)
    assert files_under(tmp_path) == []


def test_expired_result_url(emulator: Any, qwen_conn: str, tmp_path: Path) -> None:
    """A task still listed but with its link past 24 h: 403 explained, no signature shown."""
    emulator.backend.update_config({"retention_hours": 48})
    asr_task_id = submit(emulator, "qwen3-asr-flash-filetrans", [f"{AUDIO}/old.wav?audio_seconds=5"])
    emulator.backend.clock.advance(25 * 3600)
    with pytest.raises(QwenASRResultError) as raised:
        fetch(asr_task_id, output_path=str(tmp_path))
    error = raised.value
    assert error.http_status == 403
    assert error.task_id == asr_task_id
    assert "24 h" in str(error)
    assert "file 0" in str(error)
    assert not any(sig in str(error) for sig in signatures(asr_task_id))
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("kind", ["truncate", "invalid_json", "reset"])
def test_one_bad_download_is_retried(emulator: Any, qwen_conn: str, tmp_path: Path, kind: str) -> None:
    """A truncated, garbled or reset result download succeeds on the next try."""
    asr_task_id = submit(emulator, "qwen3-asr-flash-filetrans", [f"{AUDIO}/r.wav?audio_seconds=60"])
    emulator.backend.faults.add(endpoint="result", kind=kind, count=1)
    manifest = fetch(asr_task_id, output_path=str(tmp_path), output_formats=["json"])
    body = (tmp_path / asr_task_id / "r.json").read_bytes()
    assert len(body) == manifest["files"][0]["result_bytes"]
    json.loads(body)
    assert len(emulator.backend.requests.entries("result")) == 2


@pytest.mark.parametrize("kind", ["truncate", "invalid_json"])
def test_persistently_bad_downloads_fail_clearly(
    emulator: Any, qwen_conn: str, tmp_path: Path, kind: str
) -> None:
    """A result that never arrives whole: our error naming task and file, and no object."""
    asr_task_id = submit(emulator, "qwen3-asr-flash-filetrans", [f"{AUDIO}/r.wav?audio_seconds=60"])
    emulator.backend.faults.add(endpoint="result", kind=kind, count=-1)
    with pytest.raises(QwenASRResultError) as raised:
        fetch(asr_task_id, output_path=str(tmp_path))
    message = str(raised.value)
    assert asr_task_id in message
    assert "file 0" in message
    assert not any(sig in message for sig in signatures(asr_task_id))
    assert files_under(tmp_path) == []


def test_result_over_the_size_limit(emulator: Any, qwen_conn: str, tmp_path: Path) -> None:
    """max_result_bytes refuses a large result before it is written anywhere."""
    asr_task_id = submit(emulator, "qwen3-asr-flash-filetrans", [f"{AUDIO}/big.wav?audio_seconds=600"])
    with pytest.raises(QwenASRResultError, match="over the limit of 1,000"):
        fetch(asr_task_id, output_path=str(tmp_path), max_result_bytes=1000)
    assert files_under(tmp_path) == []


def test_failed_task(emulator: Any, qwen_conn: str) -> None:
    """A FAILED Qwen3 task: DashScope's code and message in our error."""
    asr_task_id = submit(emulator, "qwen3-asr-flash-filetrans", [f"{AUDIO}/f.wav?fail=FILE_403_FORBIDDEN"])
    with pytest.raises(QwenASRTaskFailedError) as raised:
        fetch(asr_task_id)
    assert raised.value.code == "FILE_403_FORBIDDEN"
    assert asr_task_id in str(raised.value)


def test_xcom_text_without_outputs(emulator: Any, qwen_conn: str) -> None:
    """No output_path: nothing written, the text in XCom when it fits, refused when it does not."""
    asr_task_id = submit(emulator, "qwen3-asr-flash-filetrans", [f"{AUDIO}/t.wav?audio_seconds=30"])
    manifest = fetch(asr_task_id, xcom_output="text")
    assert manifest["outputs"] == []
    assert len(manifest["files"][0]["text"]) == manifest["files"][0]["characters"]
    with pytest.raises(QwenASRResultError, match="max_xcom_bytes"):
        fetch(asr_task_id, xcom_output="text", max_xcom_bytes=200)


def test_asset_outlets_get_the_uris(emulator: Any, qwen_conn: str, tmp_path: Path) -> None:
    """An Asset outlet's event carries the written URIs; an AssetAlias gets one asset per URI."""
    from airflow.sdk import Asset, AssetAlias
    from airflow.sdk.execution_time.context import OutletEventAccessors

    asr_task_id = submit(emulator, "qwen3-asr-flash-filetrans", [f"{AUDIO}/o.wav?audio_seconds=10"])
    asset, alias = Asset("transcripts"), AssetAlias("transcript-files")
    operator = QwenASRFetchTranscriptionOperator(
        task_id="fetch",
        asr_task_id=asr_task_id,
        output_path=str(tmp_path),
        outlets=[asset, alias],
        hook_params=HOOK_PARAMS,
    )
    events = OutletEventAccessors()
    manifest = operator.execute(context={"outlet_events": events})  # type: ignore[arg-type]
    assert events[asset].extra["outputs"] == manifest["outputs"]
    assert events[asset].extra["asr_task_id"] == asr_task_id
    assert [e.dest_asset_key.uri for e in events[alias].asset_alias_events] == manifest["outputs"]


def test_bad_task_id_is_refused_before_any_call(emulator: Any, qwen_conn: str) -> None:
    """A templated id that rendered to nonsense fails before the service is asked."""
    from airflow_provider_qwenasr.exceptions import QwenASRInputError

    with pytest.raises(QwenASRInputError):
        fetch("None/../x")
    assert emulator.backend.requests.entries("query") == []
