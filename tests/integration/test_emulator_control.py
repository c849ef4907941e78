"""The control API, fault injection, the query quota, and connection handling."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests

from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.emulator.testing import dashscope_headers, running_emulator

QWEN3_BODY = {
    "model": "qwen3-asr-flash-filetrans",
    "input": {"file_url": "https://e.com/a.wav"},
    "parameters": {},
}


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with running_emulator(pending_seconds=5, running_seconds=5) as server:
        yield server


def control(server: EmulatorServer, method: str, resource: str, body: dict[str, Any] | None = None) -> Any:
    answer = requests.request(method, f"{server.root_url}/emulator-api/{resource}", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def submit(server: EmulatorServer, session: Any = requests) -> requests.Response:
    return session.post(
        f"{server.base_url}/services/audio/asr/transcription",
        json=QWEN3_BODY,
        headers=dashscope_headers(submit=True),
    )


def get_task(server: EmulatorServer, task_id: str = "t-1") -> requests.Response:
    return requests.get(f"{server.base_url}/tasks/{task_id}", headers=dashscope_headers())


def test_requests_are_recorded_with_the_key_redacted(emulator: EmulatorServer) -> None:
    submit(emulator)
    get_task(emulator)
    recorded = control(emulator, "GET", "requests")["requests"]
    assert [r["endpoint"] for r in recorded] == ["submit", "query"]
    first = recorded[0]
    assert {"method", "path", "query", "headers", "body", "endpoint", "status"} <= set(first)
    assert first["body"] == QWEN3_BODY
    assert first["status"] == 200
    assert first["headers"]["Authorization"] == "Bearer sk-e…(redacted)"
    assert "sk-emulator" not in json.dumps(recorded)
    assert control(emulator, "GET", "requests?endpoint=query")["requests"][0]["path"].startswith(
        "/api/v1/tasks/"
    )
    control(emulator, "DELETE", "requests")
    assert control(emulator, "GET", "requests")["requests"] == []


def test_result_signature_is_not_recorded(emulator: EmulatorServer) -> None:
    task_id = submit(emulator).json()["output"]["task_id"]
    emulator.backend.clock.advance(11)
    url = get_task(emulator, task_id).json()["output"]["result"]["transcription_url"]
    requests.get(url).raise_for_status()
    [result] = emulator.backend.requests.entries("result")
    assert result["query"]["Signature"] == "(redacted)"


def test_status_fault_with_retry_after(emulator: EmulatorServer) -> None:
    control(
        emulator,
        "POST",
        "faults",
        {"endpoint": "query", "kind": "status", "status": 429, "retry_after": 2, "count": 2},
    )
    for _ in range(2):
        answer = get_task(emulator)
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == "2"
        assert answer.json()["code"] == "Throttling.RateQuota"
        assert answer.headers["X-Request-ID"] == answer.json()["request_id"]
    assert get_task(emulator).status_code == 200
    assert control(emulator, "GET", "stats")["throttled"] == {"query": 2}


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, "InternalError"), (503, "ModelUnavailable"), (504, "GatewayTimeout"), (400, "InvalidParameter")],
)
def test_status_fault_default_codes(emulator: EmulatorServer, status: int, code: str) -> None:
    emulator.backend.faults.add(endpoint="any", kind="status", status=status)
    answer = submit(emulator)
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert emulator.backend.task_count() == 0  # a faulted write is not processed unless asked


def test_fault_can_let_the_submit_through(emulator: EmulatorServer) -> None:
    """The nasty case: the task exists but the client never hears of it."""
    emulator.backend.faults.add(endpoint="submit", kind="drop", process_request=True)
    with pytest.raises(requests.ConnectionError):
        submit(emulator)
    assert emulator.backend.task_count() == 1
    listed = requests.get(f"{emulator.base_url}/tasks", headers=dashscope_headers()).json()
    assert listed["total"] == 1


def test_drop_closes_without_an_answer(emulator: EmulatorServer) -> None:
    emulator.backend.faults.add(endpoint="query", kind="drop")
    with pytest.raises(requests.ConnectionError):
        get_task(emulator)
    assert get_task(emulator).status_code == 200
    [dropped, _] = emulator.backend.requests.entries("query")
    assert (dropped["status"], dropped["fault"]) == (None, "drop")


def test_reset_sends_part_then_resets(emulator: EmulatorServer) -> None:
    emulator.backend.faults.add(endpoint="query", kind="reset")
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        get_task(emulator).json()
    emulator.backend.faults.add(endpoint="query", kind="reset")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{emulator.base_url}/tasks/x", headers=dashscope_headers())


def test_truncate_announces_more_than_it_sends(emulator: EmulatorServer) -> None:
    task_id = submit(emulator).json()["output"]["task_id"]
    emulator.backend.clock.advance(11)
    url = get_task(emulator, task_id).json()["output"]["result"]["transcription_url"]
    emulator.backend.faults.add(endpoint="result", kind="truncate")
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        requests.get(url).content  # noqa: B018 - reading the body is the point
    full = requests.get(url)
    assert full.status_code == 200
    full.json()


def test_truncate_with_raw_socket_sees_short_body(emulator: EmulatorServer) -> None:
    emulator.backend.faults.add(endpoint="query", kind="truncate")
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port)
    connection.request("GET", "/api/v1/tasks/x", headers=dashscope_headers())
    response = connection.getresponse()
    assert response.status == 200
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    connection.close()


def test_invalid_json_is_200_with_a_non_json_body(emulator: EmulatorServer) -> None:
    emulator.backend.faults.add(endpoint="query", kind="invalid_json")
    answer = get_task(emulator)
    assert answer.status_code == 200
    with pytest.raises(ValueError, match="Expecting value"):
        answer.json()


def test_latency_delays_then_answers(emulator: EmulatorServer) -> None:
    emulator.backend.faults.add(endpoint="query", kind="latency", delay_seconds=0.3)
    with pytest.raises(requests.Timeout):
        requests.get(f"{emulator.base_url}/tasks/x", headers=dashscope_headers(), timeout=0.05)
    emulator.backend.faults.add(endpoint="query", kind="latency", delay_seconds=0.05)
    assert get_task(emulator).status_code == 200


def test_faults_until_cleared(emulator: EmulatorServer) -> None:
    control(emulator, "POST", "faults", {"endpoint": "any", "kind": "status", "status": 503, "count": -1})
    assert [get_task(emulator).status_code for _ in range(3)] == [503, 503, 503]
    assert len(control(emulator, "GET", "faults")["faults"]) == 1
    control(emulator, "DELETE", "faults")
    assert get_task(emulator).status_code == 200


def test_bad_fault_is_400(emulator: EmulatorServer) -> None:
    answer = requests.post(
        f"{emulator.root_url}/emulator-api/faults", json={"endpoint": "nope", "kind": "drop"}
    )
    assert answer.status_code == 400
    assert "unknown endpoint" in answer.json()["error"]


def test_query_quota_answers_429(emulator: EmulatorServer) -> None:
    control(emulator, "POST", "config", {"query_qps": 5})
    with requests.Session() as session:
        statuses = [
            session.get(f"{emulator.base_url}/tasks/x", headers=dashscope_headers()).status_code
            for _ in range(30)
        ]
        # The list has its own budget.
        assert session.get(f"{emulator.base_url}/tasks", headers=dashscope_headers()).status_code == 200
    assert statuses.count(429) > 0
    assert statuses[:5] == [200] * 5
    throttled = requests.get(f"{emulator.base_url}/tasks/x", headers=dashscope_headers())
    if throttled.status_code == 429:
        assert throttled.json()["message"] == "Requests rate limit exceeded, please try again later."
        assert "Retry-After" not in throttled.headers
    stats = control(emulator, "GET", "stats")
    assert stats["throttled"]["query"] >= statuses.count(429)


def test_quota_is_per_key() -> None:
    with running_emulator(api_keys=("sk-a", "sk-b"), query_qps=2) as server:
        for _ in range(3):
            requests.get(f"{server.base_url}/tasks/x", headers=dashscope_headers("sk-a"))
        assert (
            requests.get(f"{server.base_url}/tasks/x", headers=dashscope_headers("sk-b")).status_code == 200
        )


def test_clock_control(emulator: EmulatorServer) -> None:
    before = control(emulator, "GET", "clock")
    after = control(emulator, "POST", "clock", {"advance_seconds": 86400})
    assert after["now"] - before["now"] >= 86400
    assert control(emulator, "POST", "clock", {"speed": 60})["speed"] == 60


def test_speed_moves_the_lifecycle(emulator: EmulatorServer) -> None:
    task_id = submit(emulator).json()["output"]["task_id"]
    control(emulator, "POST", "clock", {"speed": 100000})
    status = None
    for _ in range(200):  # bounded; at this speed the 10 s lifecycle takes a fraction of a millisecond
        status = get_task(emulator, task_id).json()["output"]["task_status"]
        if status == "SUCCEEDED":
            break
    assert status == "SUCCEEDED"


def test_config_changes_live(emulator: EmulatorServer) -> None:
    changed = control(emulator, "POST", "config", {"pending_seconds": 0, "running_seconds": 0})
    assert changed["pending_seconds"] == 0
    task_id = submit(emulator).json()["output"]["task_id"]
    assert get_task(emulator, task_id).json()["output"]["task_status"] == "SUCCEEDED"
    bad = requests.post(f"{emulator.root_url}/emulator-api/config", json={"api_keys": ["x"]})
    assert bad.status_code == 400


def test_reset_forgets_everything(emulator: EmulatorServer) -> None:
    task_id = submit(emulator).json()["output"]["task_id"]
    emulator.backend.faults.add(endpoint="list", kind="drop", count=-1)
    control(emulator, "POST", "reset")
    assert control(emulator, "GET", "requests")["requests"] == []
    assert control(emulator, "GET", "faults")["faults"] == []
    stats = control(emulator, "GET", "stats")
    assert (stats["tasks"], stats["submits"], stats["requests"]) == (0, 0, {})
    assert get_task(emulator, task_id).json()["output"]["task_status"] == "UNKNOWN"


def test_stats_count_requests_and_submits(emulator: EmulatorServer) -> None:
    submit(emulator)
    submit(emulator)
    get_task(emulator)
    stats = control(emulator, "GET", "stats")
    assert stats["requests"] == {"submit": 2, "query": 1}
    assert (stats["submits"], stats["tasks"]) == (2, 2)


def test_keep_alive_reuses_one_connection(emulator: EmulatorServer) -> None:
    emulator.backend.update_config({"query_qps": 0})
    opened = control(emulator, "GET", "stats")["connections_opened"]
    with httpx.Client() as client:
        for _ in range(20):
            assert client.get(f"{emulator.base_url}/tasks/x", headers=dashscope_headers()).status_code == 200
    with requests.Session() as session:
        for _ in range(20):
            assert session.get(f"{emulator.base_url}/tasks/x", headers=dashscope_headers()).status_code == 200
    # One per client, plus the two control calls made with plain requests.
    assert control(emulator, "GET", "stats")["connections_opened"] - opened == 3


def test_many_concurrent_keep_alive_connections() -> None:
    with running_emulator(query_qps=0) as server:
        errors: list[BaseException] = []
        clients = [httpx.Client() for _ in range(50)]

        def poll(client: httpx.Client) -> None:
            try:
                for _ in range(4):
                    assert (
                        client.get(f"{server.base_url}/tasks/x", headers=dashscope_headers()).status_code
                        == 200
                    )
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=poll, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for client in clients:
            client.close()
        assert errors == []
        stats = server.backend.stats.snapshot(0)
        assert stats["requests"]["query"] == 200
        assert stats["connections_opened"] == 50


def test_stop_is_not_held_up_by_idle_connections() -> None:
    server = EmulatorServer().start()
    idle = socket.create_connection(("127.0.0.1", server.port))
    server.stop()  # returns although a client holds a connection open
    # Closed before it was even accepted, the connection is reset instead: also a goodbye.
    with contextlib.suppress(ConnectionResetError):
        assert idle.recv(1) == b""
    idle.close()


def test_control_api_is_not_recorded_or_faulted(emulator: EmulatorServer) -> None:
    emulator.backend.faults.add(endpoint="any", kind="drop", count=-1)
    assert control(emulator, "GET", "stats")["requests"] == {}
    assert emulator.backend.requests.entries() == []
