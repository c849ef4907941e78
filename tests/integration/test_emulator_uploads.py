"""The temporary-file upload: policy, OSS form POST, and submits with ``oss://`` URLs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.emulator.testing import dashscope_headers, running_emulator, shape_differences

WIRE = Path(__file__).resolve().parents[3] / "shared" / "wire-examples"
QWEN3 = "qwen3-asr-flash-filetrans"


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with running_emulator(
        api_keys=("sk-emulator", "sk-other"), pending_seconds=0, running_seconds=1
    ) as server:
        yield server


def policy(server: EmulatorServer, model: str = QWEN3, key: str = "sk-emulator") -> dict[str, Any]:
    answer = requests.get(
        f"{server.base_url}/uploads",
        params={"action": "getPolicy", "model": model},
        headers=dashscope_headers(key),
    )
    assert answer.status_code == 200
    return answer.json()


def form(data: dict[str, Any], name: str = "meeting.wav", **override: str) -> dict[str, str]:
    """The form fields of ``uploads-oss-post.form.json``, in order."""
    fields = {
        "OSSAccessKeyId": data["oss_access_key_id"],
        "Signature": data["signature"],
        "policy": data["policy"],
        "key": f"{data['upload_dir']}/{name}",
        "x-oss-object-acl": data["x_oss_object_acl"],
        "x-oss-forbid-overwrite": data["x_oss_forbid_overwrite"],
        "success_action_status": "200",
        "x-oss-content-type": "audio/wav",
    }
    fields.update(override)
    return fields


def upload(data: dict[str, Any], **override: str) -> requests.Response:
    return requests.post(
        data["upload_host"], data=form(data, **override), files={"file": b"RIFF....WAVEfmt "}
    )


def submit_oss(
    server: EmulatorServer, url: str, resolve: bool = True, key: str = "sk-emulator"
) -> dict[str, Any]:
    headers = dashscope_headers(key, submit=True)
    if resolve:
        headers["X-DashScope-OssResourceResolve"] = "enable"
    body = {"model": QWEN3, "input": {"file_url": url}, "parameters": {}}
    answer = requests.post(f"{server.base_url}/services/audio/asr/transcription", json=body, headers=headers)
    assert answer.status_code == 200
    server.backend.clock.advance(2)
    task_id = answer.json()["output"]["task_id"]
    return requests.get(f"{server.base_url}/tasks/{task_id}", headers=dashscope_headers(key)).json()["output"]


def test_policy_matches_example(emulator: EmulatorServer) -> None:
    answer = policy(emulator)
    example = json.loads((WIRE / "uploads-getpolicy.response.json").read_text())["body"]
    assert not shape_differences(answer, example)
    assert answer["data"]["upload_host"] == emulator.root_url + "/oss"
    assert answer["data"]["expire_in_seconds"] == 300


def test_policy_needs_a_key_and_a_model(emulator: EmulatorServer) -> None:
    assert (
        requests.get(
            f"{emulator.base_url}/uploads", params={"action": "getPolicy", "model": QWEN3}
        ).status_code
        == 401
    )
    no_model = requests.get(
        f"{emulator.base_url}/uploads", params={"action": "getPolicy"}, headers=dashscope_headers()
    )
    assert no_model.status_code == 400


def test_round_trip(emulator: EmulatorServer) -> None:
    data = policy(emulator)["data"]
    answer = upload(data)
    assert answer.status_code == 200
    output = submit_oss(emulator, f"oss://{data['upload_dir']}/meeting.wav")
    assert output["task_status"] == "SUCCEEDED"
    result = requests.get(output["result"]["transcription_url"]).json()
    assert result["file_url"] == f"oss://{data['upload_dir']}/meeting.wav"
    [recorded] = emulator.backend.requests.entries("upload")
    assert recorded["body"].startswith("<multipart form")


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("bad-signature", 403, "SignatureDoesNotMatch"),
        ("outside-upload-dir", 403, "AccessDenied"),
        ("expired-policy", 403, "AccessDenied"),
    ],
)
def test_bad_uploads_get_oss_errors(emulator: EmulatorServer, case: str, status: int, code: str) -> None:
    data = policy(emulator)["data"]
    if case == "bad-signature":
        answer = upload(data, Signature="AAAA" + data["signature"][4:])
    elif case == "outside-upload-dir":
        answer = upload(data, key="dashscope-instant/someone-else/x.wav")
    else:
        emulator.backend.clock.advance(301)
        answer = upload(data)
    assert answer.status_code == status
    assert answer.headers["Content-Type"] == "application/xml"
    assert f"<Code>{code}</Code>" in answer.text


def test_overwrite_is_forbidden(emulator: EmulatorServer) -> None:
    data = policy(emulator)["data"]
    assert upload(data).status_code == 200
    second = upload(data)
    assert second.status_code == 409
    assert "<Code>FileAlreadyExists</Code>" in second.text


@pytest.mark.parametrize(
    "case", ["no-resolve-header", "other-account", "never-uploaded", "other-model", "older-than-48h"]
)
def test_unresolvable_oss_url_fails_the_task(emulator: EmulatorServer, case: str) -> None:
    data = policy(emulator, model="fun-asr" if case == "other-model" else QWEN3)["data"]
    assert upload(data).status_code == 200
    url = f"oss://{data['upload_dir']}/meeting.wav"
    if case == "never-uploaded":
        url = f"oss://{data['upload_dir']}/other.wav"
    if case == "older-than-48h":
        emulator.backend.clock.advance(48 * 3600 + 1)
    output = submit_oss(
        emulator,
        url,
        resolve=case != "no-resolve-header",
        key="sk-other" if case == "other-account" else "sk-emulator",
    )
    assert output["task_status"] == "FAILED"
    assert output["code"] == "FILE_DOWNLOAD_FAILED"
