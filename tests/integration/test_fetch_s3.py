"""QwenASRFetchTranscriptionOperator writing to s3:// on a local moto server (127.0.0.1), through an aws
connection."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_qwenasr.exceptions import QwenASRResultError
from tests.conftest import S3Server
from tests.integration.test_fetch import AUDIO, fetch, submit

BUCKET = "transcripts"


@pytest.fixture(scope="module")
def s3(s3_server: S3Server) -> S3Server:
    """A moto S3 server (tests/conftest.py) with this module's bucket."""
    s3_server.client.create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
    return s3_server


def keys(client: Any, prefix: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def body(client: Any, key: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_funasr_to_s3_and_rerun(emulator: Any, qwen_conn: str, s3: S3Server) -> None:
    """Each file's outputs land under s3://bucket/prefix/{task}/; a re-run overwrites the same keys."""
    urls = [f"{AUDIO}/east.wav?audio_seconds=40", f"{AUDIO}/west.wav?audio_seconds=20"]
    asr_task_id = submit(emulator, "fun-asr", urls, diarization_enabled=True)
    kwargs = {
        "output_path": f"s3://{BUCKET}/daily/2025-01-01",
        "output_conn_id": s3.conn_id,
        "output_formats": ["json", "txt", "vtt"],
    }
    manifest = fetch(asr_task_id, **kwargs)
    prefix = f"daily/2025-01-01/{asr_task_id}/"
    expected = sorted(f"{prefix}{name}.{ext}" for name in ("east", "west") for ext in ("json", "txt", "vtt"))
    assert keys(s3.client, prefix) == expected
    assert manifest["outputs"] == [
        f"s3://{BUCKET}/{prefix}{name}.{ext}" for name in ("east", "west") for ext in ("json", "txt", "vtt")
    ]
    assert manifest["output_conn_id"] == s3.conn_id
    assert json.loads(body(s3.client, f"{prefix}east.json"))["file_url"].startswith(f"{AUDIO}/east.wav")
    assert body(s3.client, f"{prefix}west.vtt").startswith(b"WEBVTT")
    before = {key: body(s3.client, key) for key in expected}
    assert fetch(asr_task_id, **kwargs) == manifest
    assert keys(s3.client, prefix) == expected
    assert {key: body(s3.client, key) for key in expected} == before


def test_a_result_that_never_arrives_leaves_no_object(emulator: Any, qwen_conn: str, s3: S3Server) -> None:
    """Persistently invalid JSON: the error, and nothing under the task's prefix."""
    asr_task_id = submit(emulator, "qwen3-asr-flash-filetrans", [f"{AUDIO}/q.wav?audio_seconds=20"])
    emulator.backend.faults.add(endpoint="result", kind="invalid_json", count=-1)
    with pytest.raises(QwenASRResultError, match="not valid JSON"):
        fetch(asr_task_id, output_path=f"s3://{BUCKET}/broken", output_conn_id=s3.conn_id)
    assert keys(s3.client, f"broken/{asr_task_id}/") == []


def test_a_large_result_goes_up_in_parts_whole(emulator: Any, qwen_conn: str, s3: S3Server) -> None:
    """A result over the single-PUT size is uploaded as a multipart upload and arrives byte for byte.

    Byte for byte but for the audio URL's query, which the json output never keeps.
    """
    import hashlib
    import tempfile

    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook

    asr_task_id = submit(
        emulator, "qwen3-asr-flash-filetrans", [f"{AUDIO}/long.wav?audio_seconds=110000"], enable_words=True
    )
    manifest = fetch(
        asr_task_id, output_path=f"s3://{BUCKET}/large", output_conn_id=s3.conn_id, output_formats=["json"]
    )
    assert manifest["files"][0]["result_bytes"] > 17 * 2**20  # over two 8 MiB parts
    task = QwenASRHook().get_task(asr_task_id)
    with tempfile.TemporaryFile() as original:
        QwenASRHook().download_result(str(task.files[0].transcription_url), original)
        original.seek(0)
        served = original.read()
    audio = f'"{AUDIO}/long.wav?audio_seconds=110000"'.encode()
    assert served.count(audio) == 1
    expected = hashlib.sha256(served.replace(audio, f'"{AUDIO}/long.wav?…"'.encode())).hexdigest()
    uploaded = hashlib.sha256(body(s3.client, f"large/{asr_task_id}/long.json")).hexdigest()
    assert uploaded == expected
    assert keys(s3.client, f"large/{asr_task_id}/") == [f"large/{asr_task_id}/long.json"]
