"""``audio_path``: private audio made downloadable for DashScope, against real HTTP servers.

S3 objects get a pre-signed URL (moto's S3 server on 127.0.0.1); local files go through DashScope's
temporary upload on the emulator and are submitted as ``oss://`` with the resolve header.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from airflow_provider_qwenasr.audio import audio_url
from airflow_provider_qwenasr.exceptions import QwenASRInputError
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.models import TaskStatus
from tests.conftest import S3Server

QWEN3 = "qwen3-asr-flash-filetrans"


def _wait(hook: QwenASRHook, task_id: str, emulator: Any) -> TaskStatus:
    emulator.backend.clock.advance(5)
    return hook.get_task(task_id).status


def test_s3_object_gets_a_presigned_url(
    emulator: Any, qwen_conn: str, s3_server: S3Server, caplog: pytest.LogCaptureFixture
) -> None:
    """The submit carries a V4 pre-signed GET URL of the object, and nothing logs its signature."""
    s3_server.client.create_bucket(Bucket="calls")  # type: ignore[attr-defined]
    s3_server.client.put_object(Bucket="calls", Key="2026/0001.wav", Body=b"RIFF....WAVE")  # type: ignore[attr-defined]
    hook = QwenASRHook()
    # DEBUG for the provider and Airflow (the S3 hook), not botocore: its own debug log of the request
    # headers it signs is not the provider's output (see tests/security/secret_scan.py).
    with (
        caplog.at_level(logging.DEBUG, "airflow_provider_qwenasr"),
        caplog.at_level(logging.DEBUG, "airflow"),
    ):
        url = audio_url("s3://calls/2026/0001.wav", hook=hook, model=QWEN3, conn_id=s3_server.conn_id)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == s3_server.endpoint
    assert parts.path == "/calls/2026/0001.wav"
    query = parse_qs(parts.query)
    # botocore signs V4 or, for some endpoints, V2; both expire after the default 24 h.
    if "X-Amz-Signature" in query:
        signature = query["X-Amz-Signature"][0]
        assert query["X-Amz-Expires"] == ["86400"]
    else:
        signature = query["Signature"][0]
        assert abs(int(query["Expires"][0]) - time.time() - 86400) < 600
    assert requests.get(url, timeout=10).content == b"RIFF....WAVE"  # it really downloads
    assert signature not in caplog.text
    task = hook.submit_transcription(QWEN3, file_url=url)
    assert _wait(hook, task.task_id, emulator) is TaskStatus.SUCCEEDED


@pytest.mark.parametrize("scheme", ["file://", "local://", ""], ids=["file", "local", "bare-path"])
def test_local_file_is_uploaded_and_resolved(
    emulator: Any, qwen_conn: str, tmp_path: Path, scheme: str
) -> None:
    """A local file becomes an oss:// URL that the emulator resolves for the same key and model.

    Regression (bare path): audio.py knew ``file`` and ``local`` but not the empty protocol that
    the fetch's storage already counted as local, so ``/dir/a.wav`` was refused as unsignable.
    """
    audio = tmp_path / "voicemail.wav"
    audio.write_bytes(b"RIFF" + b"\0" * 1000)
    hook = QwenASRHook()
    url = audio_url(f"{scheme}{audio}", hook=hook, model=QWEN3)
    assert url.startswith("oss://")
    assert url.endswith("/voicemail.wav")
    task = hook.submit_transcription(QWEN3, file_url=url)
    assert _wait(hook, task.task_id, emulator) is TaskStatus.SUCCEEDED
    [submit] = [r for r in emulator.backend.requests.entries("submit")]
    headers = {k.lower(): v for k, v in submit["headers"].items()}
    assert headers["x-dashscope-ossresourceresolve"] == "enable"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("file:///nonexistent/audio.wav", "does not exist", id="missing-file"),
        pytest.param("nosuchscheme://bucket/a.wav", "not an object storage path", id="unknown-scheme"),
    ],
)
def test_bad_audio_path_is_refused_before_any_submit(
    emulator: Any, qwen_conn: str, path: str, message: str
) -> None:
    with pytest.raises(QwenASRInputError, match=message):
        audio_url(path, hook=QwenASRHook(), model=QWEN3)
    assert emulator.backend.requests.entries("submit") == []
