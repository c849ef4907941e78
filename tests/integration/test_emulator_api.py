"""The emulator's DashScope endpoints against the documented and recorded wire examples."""

from __future__ import annotations

import calendar
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_qwenasr.emulator import EmulatorConfig, EmulatorServer
from airflow_provider_qwenasr.emulator.clock import Clock
from airflow_provider_qwenasr.emulator.testing import dashscope_headers, running_emulator, shape_differences

WIRE = Path(__file__).resolve().parents[3] / "shared" / "wire-examples"
QWEN3 = "qwen3-asr-flash-filetrans"
TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def example(name: str) -> dict[str, Any]:
    """The body of a ``*.response.json`` wire example."""
    return json.loads((WIRE / name).read_text(encoding="utf-8"))["body"]


def assert_shape(actual: Any, example_name: str) -> None:
    problems = shape_differences(actual, example(example_name))
    assert not problems, f"differs from {example_name}: {problems}"


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with running_emulator(pending_seconds=10, running_seconds=20) as server:
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def submit(
    http: requests.Session, server: EmulatorServer, body: dict[str, Any], **headers: str
) -> requests.Response:
    return http.post(
        f"{server.base_url}/services/audio/asr/transcription",
        json=body,
        headers={**dashscope_headers(submit=True), **headers},
    )


def qwen3_body(url: str = "https://example.com/a.wav", **parameters: Any) -> dict[str, Any]:
    return {"model": QWEN3, "input": {"file_url": url}, "parameters": parameters}


def funasr_body(*urls: str, model: str = "fun-asr", **parameters: Any) -> dict[str, Any]:
    return {"model": model, "input": {"file_urls": list(urls)}, "parameters": parameters}


def query(http: requests.Session, server: EmulatorServer, task_id: str, key: str = "sk-emulator") -> Any:
    answer = http.get(f"{server.base_url}/tasks/{task_id}", headers=dashscope_headers(key))
    assert answer.status_code == 200
    return answer.json()


def test_submit_qwen3_matches_example(http: requests.Session, emulator: EmulatorServer) -> None:
    answer = submit(http, emulator, qwen3_body(enable_words=True))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert_shape(answer.json(), "submit-qwen3-filetrans.response.json")
    assert answer.json()["output"]["task_status"] == "PENDING"
    assert UUID.match(answer.json()["request_id"])


def test_submit_funasr_matches_example(http: requests.Session, emulator: EmulatorServer) -> None:
    answer = submit(
        http, emulator, funasr_body("https://example.com/b.wav"), **{"X-DashScope-WorkSpace": "ws-1"}
    )
    assert answer.status_code == 200
    assert_shape(answer.json(), "submit-funasr.response.json")


@pytest.mark.parametrize(
    ("family", "body"),
    [("qwen3", qwen3_body()), ("funasr", funasr_body("https://example.com/a.wav"))],
    ids=["qwen3", "funasr"],
)
def test_lifecycle_follows_the_clock(
    http: requests.Session, emulator: EmulatorServer, family: str, body: dict[str, Any]
) -> None:
    task_id = submit(http, emulator, body).json()["output"]["task_id"]
    pending = query(http, emulator, task_id)
    assert pending["output"]["task_status"] == "PENDING"
    assert_shape(pending, f"query-{family}-pending.response.json")
    assert TIME.match(pending["output"]["submit_time"])

    emulator.backend.clock.advance(11)
    running = query(http, emulator, task_id)
    assert running["output"]["task_status"] == "RUNNING"
    assert_shape(running, f"query-{family}-running.response.json")

    emulator.backend.clock.advance(20)
    done = query(http, emulator, task_id)
    assert done["output"]["task_status"] == "SUCCEEDED"
    assert_shape(done, f"query-{family}-succeeded.response.json")
    assert TIME.match(done["output"]["end_time"])
    assert done["output"]["submit_time"] <= done["output"]["scheduled_time"] < done["output"]["end_time"]


def test_times_are_beijing_time_without_zone(http: requests.Session) -> None:
    # 2025-10-27 05:57:45 UTC is 13:57:45 in Beijing; the seconds left in the minute absorb the test's run.
    clock = Clock(start=calendar.timegm((2025, 10, 27, 5, 57, 45)))
    with EmulatorServer(EmulatorConfig(), clock=clock).start() as server:
        task_id = submit(http, server, qwen3_body()).json()["output"]["task_id"]
        assert query(http, server, task_id)["output"]["submit_time"].startswith("2025-10-27 13:57:")
        item = _list(http, server).json()["data"][0]
        assert item["gmt_create"] // 1000 in range(int(clock.now()) - 5, int(clock.now()) + 1)


def test_query_accepts_post_and_needs_no_async_header(
    http: requests.Session, emulator: EmulatorServer
) -> None:
    task_id = submit(http, emulator, qwen3_body()).json()["output"]["task_id"]
    answer = http.post(f"{emulator.base_url}/tasks/{task_id}", headers=dashscope_headers())
    assert answer.status_code == 200
    assert answer.json()["output"]["task_id"] == task_id


def test_qwen3_failure_has_code_and_message(http: requests.Session, emulator: EmulatorServer) -> None:
    task_id = submit(http, emulator, qwen3_body("https://example.com/a.wav?fail=FILE_403_FORBIDDEN")).json()
    emulator.backend.clock.advance(31)
    failed = query(http, emulator, task_id["output"]["task_id"])
    assert_shape(failed, "query-qwen3-failed.response.json")
    assert failed["output"]["task_status"] == "FAILED"
    assert failed["output"]["code"] == failed["output"]["message"] == "FILE_403_FORBIDDEN"


def test_funasr_partial_failure_succeeds(http: requests.Session, emulator: EmulatorServer) -> None:
    body = funasr_body(
        "https://example.com/ok.mp3", "https://example.com/x.wav?fail=InvalidFile.DownloadFailed"
    )
    task_id = submit(http, emulator, body).json()["output"]["task_id"]
    emulator.backend.clock.advance(31)
    done = query(http, emulator, task_id)
    problems = shape_differences(
        done["output"], example("query-funasr-partial-failure.response.json")["output"]
    )
    assert not problems
    assert done["output"]["task_status"] == "SUCCEEDED"
    assert done["output"]["task_metrics"] == {"TOTAL": 2, "SUCCEEDED": 1, "FAILED": 1}
    assert done["output"]["results"][1]["message"] == "The audio file cannot be downloaded."
    assert done["usage"]["duration"] > 0


def test_funasr_all_failed_is_failed_by_default(http: requests.Session, emulator: EmulatorServer) -> None:
    body = funasr_body("https://example.com/x.wav?fail=InvalidFile.DownloadFailed")
    task_id = submit(http, emulator, body).json()["output"]["task_id"]
    emulator.backend.clock.advance(31)
    done = query(http, emulator, task_id)
    assert done["output"]["task_status"] == "FAILED"
    assert done["output"]["code"] == "InvalidFile.DownloadFailed"
    assert done["output"]["task_metrics"] == {"TOTAL": 1, "SUCCEEDED": 0, "FAILED": 1}


def test_funasr_all_failed_can_mimic_the_docs(http: requests.Session, emulator: EmulatorServer) -> None:
    emulator.backend.update_config({"funasr_all_failed_status": "SUCCEEDED"})
    body = funasr_body("https://example.com/x.wav?fail=InvalidFile.DownloadFailed")
    task_id = submit(http, emulator, body).json()["output"]["task_id"]
    emulator.backend.clock.advance(31)
    done = query(http, emulator, task_id)
    assert_shape(done, "query-funasr-all-subtasks-failed.response.json")
    assert done["output"]["task_status"] == "SUCCEEDED"


def test_url_hints_override_the_lifecycle(http: requests.Session, emulator: EmulatorServer) -> None:
    url = "https://example.com/a.wav?pending_seconds=0&running_seconds=1"
    task_id = submit(http, emulator, qwen3_body(url)).json()["output"]["task_id"]
    assert query(http, emulator, task_id)["output"]["task_status"] == "RUNNING"
    emulator.backend.clock.advance(1)
    assert query(http, emulator, task_id)["output"]["task_status"] == "SUCCEEDED"


def test_usage_counts_audio_seconds_times_channels(http: requests.Session, emulator: EmulatorServer) -> None:
    url = "https://example.com/a.wav?audio_seconds=12.2"
    qwen = submit(http, emulator, qwen3_body(url, channel_id=[0, 1])).json()["output"]["task_id"]
    fun = submit(http, emulator, funasr_body(url, url + "&x=1")).json()["output"]["task_id"]
    emulator.backend.clock.advance(31)
    assert query(http, emulator, qwen)["usage"] == {"seconds": 26}
    assert query(http, emulator, fun)["usage"] == {"duration": 26}


@pytest.mark.parametrize(
    "task_id", ["1111", "00000000-0000-0000-0000-000000000000"], ids=["bogus", "well-formed-unknown"]
)
def test_unknown_task_is_200_unknown(http: requests.Session, emulator: EmulatorServer, task_id: str) -> None:
    answer = query(http, emulator, task_id)
    assert_shape(answer, "query-unknown.response.json")
    assert answer["output"] == {"task_id": task_id, "task_status": "UNKNOWN"}


def test_foreign_and_expired_tasks_are_unknown(http: requests.Session) -> None:
    with running_emulator(api_keys=("sk-a", "sk-b"), pending_seconds=0, running_seconds=1) as server:
        answer = http.post(
            f"{server.base_url}/services/audio/asr/transcription",
            json=qwen3_body(),
            headers=dashscope_headers("sk-a", submit=True),
        )
        task_id = answer.json()["output"]["task_id"]
        assert query(http, server, task_id, "sk-b")["output"]["task_status"] == "UNKNOWN"
        server.backend.clock.advance(2)
        assert query(http, server, task_id, "sk-a")["output"]["task_status"] == "SUCCEEDED"
        server.backend.clock.advance(24 * 3600 + 1)
        assert query(http, server, task_id, "sk-a")["output"]["task_status"] == "UNKNOWN"


def test_invalid_key_is_401(http: requests.Session, emulator: EmulatorServer) -> None:
    for headers in ({"Authorization": "Bearer sk-wrong"}, {}):
        answer = http.get(f"{emulator.base_url}/tasks/x", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["Content-Type"].startswith("application/json")
        assert_shape(answer.json(), "error-401-invalid-api-key.response.json")
        assert answer.json()["code"] == "InvalidApiKey"
        assert answer.json()["message"] == "Invalid API-key provided."
        assert answer.headers["X-Request-ID"] == answer.json()["request_id"]


def test_submit_without_async_header_is_403(http: requests.Session, emulator: EmulatorServer) -> None:
    answer = http.post(
        f"{emulator.base_url}/services/audio/asr/transcription",
        json=qwen3_body(),
        headers={"Authorization": "Bearer sk-emulator"},
    )
    assert answer.status_code == 403
    assert_shape(answer.json(), "error-403-async-header-missing.response.json")
    assert answer.json()["message"] == "current user api does not support synchronous calls"


def test_foreign_workspace_is_403(http: requests.Session) -> None:
    with running_emulator(workspace="ws-mine") as server:
        ok = submit(http, server, qwen3_body(), **{"X-DashScope-WorkSpace": "ws-mine"})
        assert ok.status_code == 200
        other = submit(http, server, qwen3_body(), **{"X-DashScope-WorkSpace": "ws-other"})
        assert other.status_code == 403
        assert other.json()["code"] == "Workspace.AccessDenied"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"input": {"file_url": "https://e.com/a.wav"}, "parameters": {}}, "BadRequest.EmptyModel"),
        ({"model": QWEN3, "parameters": {}}, "BadRequest.EmptyInput"),
        (
            {"model": QWEN3, "input": {"file_url": "https://e.com/a.wav"}, "parameters": "x"},
            "InvalidParameter",
        ),
        (
            {"model": "whisper-9", "input": {"file_url": "https://e.com/a.wav"}, "parameters": {}},
            "InvalidParameter",
        ),
        (
            {"model": QWEN3, "input": {"file_urls": ["https://e.com/a.wav"]}, "parameters": {}},
            "InvalidParameter",
        ),
        (
            {"model": "fun-asr", "input": {"file_url": "https://e.com/a.wav"}, "parameters": {}},
            "InvalidParameter",
        ),
        ({"model": QWEN3, "input": {"file_url": "ftp://e.com/a.wav"}, "parameters": {}}, "InvalidURL"),
        ({"model": QWEN3, "input": {"file_url": "a.wav"}, "parameters": {"channel_id": "0"}}, "InvalidURL"),
        (
            {"model": QWEN3, "input": {"file_url": "https://e.com/a"}, "parameters": {"channel_id": [-1]}},
            "InvalidParameter",
        ),
        (funasr_body(*["https://e.com/a.wav"] * 101), "InvalidParameter"),
    ],
    ids=[
        "no-model",
        "no-input",
        "parameters-not-an-object",
        "unknown-model",
        "qwen3-with-file_urls",
        "funasr-with-file_url",
        "ftp-url",
        "relative-url",
        "negative-channel",
        "too-many-files",
    ],
)
def test_submit_validation_is_400(
    http: requests.Session, emulator: EmulatorServer, body: dict[str, Any], code: str
) -> None:
    answer = submit(http, emulator, body)
    assert answer.status_code == 400
    assert_shape(answer.json(), "error-400-invalid-parameter.response.json")
    assert answer.json()["code"] == code
    assert answer.headers["X-Request-ID"] == answer.json()["request_id"]


def test_unknown_model_message(http: requests.Session, emulator: EmulatorServer) -> None:
    answer = submit(
        http, emulator, {"model": "nope", "input": {"file_url": "https://e.com/a"}, "parameters": {}}
    )
    assert answer.json()["message"] == "Model not exist."


def test_empty_parameters_object_is_accepted_and_limits_are_per_model(
    http: requests.Session, emulator: EmulatorServer
) -> None:
    assert submit(http, emulator, funasr_body(*["https://e.com/a.wav"] * 100)).status_code == 200
    emulator.backend.update_config({"max_files_per_model": {"paraformer-v2": 1}})
    assert (
        submit(
            http, emulator, funasr_body("https://e.com/a", "https://e.com/b", model="paraformer-v2")
        ).status_code
        == 400
    )
    assert submit(http, emulator, funasr_body("https://e.com/a", "https://e.com/b")).status_code == 200


def test_submit_needs_json_content_type(http: requests.Session, emulator: EmulatorServer) -> None:
    answer = http.post(
        f"{emulator.base_url}/services/audio/asr/transcription",
        data=json.dumps(qwen3_body()),
        headers={
            "Authorization": "Bearer sk-emulator",
            "X-DashScope-Async": "enable",
            "Content-Type": "text/plain",
        },
    )
    assert answer.status_code == 400


def test_cancel_pending_then_not_pending(http: requests.Session, emulator: EmulatorServer) -> None:
    task_id = submit(http, emulator, qwen3_body()).json()["output"]["task_id"]
    cancel_url = f"{emulator.base_url}/tasks/{task_id}/cancel"
    answer = http.post(cancel_url, headers=dashscope_headers())
    assert answer.status_code == 200
    assert_shape(answer.json(), "cancel.response.json")
    canceled = query(http, emulator, task_id)["output"]
    assert canceled["task_status"] == "CANCELED"
    assert "end_time" in canceled
    again = http.post(cancel_url, headers=dashscope_headers())
    assert again.status_code == 400
    assert_shape(again.json(), "cancel-not-pending.response.json")
    assert again.json() | {"request_id": ""} == example("cancel-not-pending.response.json") | {
        "request_id": ""
    }


def test_cancel_running_is_refused(http: requests.Session, emulator: EmulatorServer) -> None:
    task_id = submit(http, emulator, qwen3_body()).json()["output"]["task_id"]
    emulator.backend.clock.advance(11)
    answer = http.post(f"{emulator.base_url}/tasks/{task_id}/cancel", headers=dashscope_headers())
    assert answer.status_code == 400
    assert answer.json()["code"] == "UnsupportedOperation"
    assert query(http, emulator, task_id)["output"]["task_status"] == "RUNNING"


def _list(http: requests.Session, server: EmulatorServer, **params: Any) -> requests.Response:
    return http.get(f"{server.base_url}/tasks", params=params, headers=dashscope_headers())


def test_list_shape_and_end_time_presence(http: requests.Session, emulator: EmulatorServer) -> None:
    first = submit(http, emulator, qwen3_body()).json()["output"]["task_id"]
    emulator.backend.clock.advance(31)
    second = submit(http, emulator, funasr_body("https://e.com/a.wav")).json()["output"]["task_id"]
    answer = _list(http, emulator)
    assert answer.status_code == 200
    body = answer.json()
    assert_shape(body, "list-tasks.response.json")
    assert [item["task_id"] for item in body["data"]] == [second, first]
    assert "end_time" not in body["data"][0]
    assert isinstance(body["data"][1]["end_time"], int)
    assert body["data"][1]["gmt_create"] < body["data"][1]["end_time"]


def test_list_filters_and_pages(http: requests.Session, emulator: EmulatorServer) -> None:
    ids = [submit(http, emulator, qwen3_body()).json()["output"]["task_id"] for _ in range(5)]
    fun = submit(http, emulator, funasr_body("https://e.com/a.wav")).json()["output"]["task_id"]
    http.post(f"{emulator.base_url}/tasks/{ids[0]}/cancel", headers=dashscope_headers())

    page = _list(http, emulator, page_no=2, page_size=2).json()
    assert (page["total"], page["total_page"], page["page_no"], page["page_size"]) == (6, 3, 2, 2)
    assert len(page["data"]) == 2
    assert _list(http, emulator, model_name="fun-asr").json()["data"][0]["task_id"] == fun
    assert _list(http, emulator, model_name="fun-asr").json()["total"] == 1
    assert _list(http, emulator, status="CANCELED").json()["data"][0]["task_id"] == ids[0]
    assert _list(http, emulator, task_id=ids[3]).json()["total"] == 1
    assert _list(http, emulator, api_key_id="1", region="cn-beijing").json()["total"] == 6


def test_list_time_window(http: requests.Session, emulator: EmulatorServer) -> None:
    submit(http, emulator, qwen3_body())
    now = emulator.backend.clock.now()

    def beijing(epoch: float) -> str:
        return time.strftime("%Y%m%d%H%M%S", time.gmtime(epoch + 8 * 3600))

    assert (
        _list(http, emulator, start_time=beijing(now - 60), end_time=beijing(now + 60)).json()["total"] == 1
    )
    assert (
        _list(http, emulator, start_time=beijing(now - 3600), end_time=beijing(now - 60)).json()["total"] == 0
    )
    too_wide = _list(http, emulator, start_time=beijing(now - 2 * 86400), end_time=beijing(now))
    assert too_wide.status_code == 400
    assert too_wide.json()["code"] == "InvalidParameter"
    assert _list(http, emulator, start_time="yesterday").status_code == 400
    emulator.backend.clock.advance(86400 + 120)  # the default window is the last 24 h
    assert _list(http, emulator).json()["total"] == 0


def test_list_is_per_key(http: requests.Session) -> None:
    with running_emulator(api_keys=("sk-a", "sk-b")) as server:
        http.post(
            f"{server.base_url}/services/audio/asr/transcription",
            json=qwen3_body(),
            headers=dashscope_headers("sk-a", submit=True),
        )
        answer = http.get(f"{server.base_url}/tasks", headers=dashscope_headers("sk-b"))
        assert answer.json()["total"] == 0


def test_unknown_path_is_json_404(http: requests.Session, emulator: EmulatorServer) -> None:
    answer = http.get(f"{emulator.base_url}/nope", headers=dashscope_headers())
    assert answer.status_code == 404
    assert set(answer.json()) == {"code", "message", "request_id"}
