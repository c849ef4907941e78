"""The emulator's task list as a status sweep reads it: paging, shifts, its own quota, lag, outage.

Everything goes over HTTP; the clock is advanced by hand, so nothing depends on how fast this runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.emulator.testing import dashscope_headers, running_emulator

QWEN3 = "qwen3-asr-flash-filetrans"


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with running_emulator(pending_seconds=10, running_seconds=20, query_qps=0) as server:
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def _submit(http: requests.Session, server: EmulatorServer, url: str = "https://example.com/a.wav") -> str:
    body = {"model": QWEN3, "input": {"file_url": url}, "parameters": {}}
    url_ = f"{server.base_url}/services/audio/asr/transcription"
    answer = http.post(url_, json=body, headers=dashscope_headers(submit=True))
    assert answer.status_code == 200
    return str(answer.json()["output"]["task_id"])


def _list(http: requests.Session, server: EmulatorServer, **params: Any) -> requests.Response:
    return http.get(f"{server.base_url}/tasks", params=params, headers=dashscope_headers())


def _ids(answer: requests.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["task_id"] for item in answer.json()["data"]]


def _control(http: requests.Session, server: EmulatorServer, resource: str, **body: Any) -> Any:
    answer = http.post(f"{server.root_url}/emulator-api/{resource}", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_pages_are_newest_first_with_totals(http: requests.Session, emulator: EmulatorServer) -> None:
    created = []
    for _ in range(7):
        created.append(_submit(http, emulator))
        emulator.backend.clock.advance(0.01)  # distinct creation times
    pages = [_list(http, emulator, page_size=3, page_no=n).json() for n in (1, 2, 3, 4)]
    assert [(p["total"], p["total_page"], p["page_no"]) for p in pages] == [(7, 3, n) for n in (1, 2, 3, 4)]
    assert [item["task_id"] for p in pages for item in p["data"]] == created[::-1]
    assert pages[3]["data"] == []  # past the last page: empty, not an error
    assert _list(http, emulator, page_size=101).status_code == 400


def test_a_task_created_between_pages_shifts_the_later_pages_down(
    http: requests.Session, emulator: EmulatorServer
) -> None:
    """Regression for a sweep reading a live list: nothing is skipped, one task is seen twice."""
    for _ in range(4):
        _submit(http, emulator)
        emulator.backend.clock.advance(0.01)
    first = _ids(_list(http, emulator, status="PENDING", page_size=2, page_no=1))
    _submit(http, emulator)
    second = _ids(_list(http, emulator, status="PENDING", page_size=2, page_no=2))
    assert second[0] == first[1]
    assert _list(http, emulator, status="PENDING", page_size=2).json()["total"] == 5


def test_a_task_ending_between_pages_shifts_the_later_pages_up(
    http: requests.Session, emulator: EmulatorServer
) -> None:
    """With a status filter, a task that ends between two pages makes the next page skip one."""
    ids = []
    for _ in range(4):
        ids.append(_submit(http, emulator))
        emulator.backend.clock.advance(0.01)
    newest_first = ids[::-1]
    first = _ids(_list(http, emulator, status="PENDING", page_size=2, page_no=1))
    assert first == newest_first[:2]
    http.post(f"{emulator.base_url}/tasks/{newest_first[0]}/cancel", headers=dashscope_headers())
    second = _ids(_list(http, emulator, status="PENDING", page_size=2, page_no=2))
    assert second == newest_first[3:]  # newest_first[2] moved up to page 1: this sweep missed it


def test_the_list_trails_the_query_by_the_lag(http: requests.Session, emulator: EmulatorServer) -> None:
    _control(http, emulator, "config", list_lag_seconds=5)
    task_id = _submit(http, emulator)
    assert _ids(_list(http, emulator)) == []  # younger than the lag: not listed yet
    emulator.backend.clock.advance(6)
    assert _ids(_list(http, emulator, status="PENDING")) == [task_id]
    emulator.backend.clock.advance(7)  # 13 s: RUNNING for the query, still PENDING for the list
    query = http.get(f"{emulator.base_url}/tasks/{task_id}", headers=dashscope_headers()).json()
    assert query["output"]["task_status"] == "RUNNING"
    assert _ids(_list(http, emulator, status="PENDING")) == [task_id]
    emulator.backend.clock.advance(20)  # 33 s: ended 3 s ago; the list still shows it running
    item = _list(http, emulator).json()["data"][0]
    assert (item["status"], "end_time" in item) == ("RUNNING", False)
    emulator.backend.clock.advance(3)
    assert _list(http, emulator).json()["data"][0]["status"] == "SUCCEEDED"
    assert _control(http, emulator, "config", list_lag_seconds=0)["list_lag_seconds"] == 0


def test_a_canceled_task_is_listed_pending_until_the_lag_has_passed(
    http: requests.Session, emulator: EmulatorServer
) -> None:
    task_id = _submit(http, emulator)
    emulator.backend.clock.advance(2)
    _control(http, emulator, "config", list_lag_seconds=1)
    http.post(f"{emulator.base_url}/tasks/{task_id}/cancel", headers=dashscope_headers())
    assert _ids(_list(http, emulator, status="PENDING")) == [task_id]
    emulator.backend.clock.advance(1.5)
    assert _ids(_list(http, emulator, status="CANCELED")) == [task_id]


def test_the_list_has_a_quota_of_its_own() -> None:
    with running_emulator(query_qps=3, list_qps=2) as server, requests.Session() as http:
        lists = [_list(http, server).status_code for _ in range(4)]
        query_url = f"{server.base_url}/tasks/t-1"
        queries = [http.get(query_url, headers=dashscope_headers()).status_code for _ in range(4)]
        assert lists.count(429) >= 2  # a burst of 2, then about 2 a second
        assert queries[:3] == [200, 200, 200]  # the list's 429s took nothing from the query's bucket
        assert http.get(f"{server.root_url}/emulator-api/config").json()["list_qps"] == 2


def test_a_list_outage_is_a_fault_on_the_list_alone(http: requests.Session, emulator: EmulatorServer) -> None:
    task_id = _submit(http, emulator)
    _control(http, emulator, "faults", endpoint="list", kind="status", status=503, count=-1)
    for _ in range(3):
        answer = _list(http, emulator)
        assert (answer.status_code, answer.json()["code"]) == (503, "ModelUnavailable")
    query = http.get(f"{emulator.base_url}/tasks/{task_id}", headers=dashscope_headers())
    assert query.status_code == 200
    assert http.delete(f"{emulator.root_url}/emulator-api/faults").status_code == 200
    assert _ids(_list(http, emulator)) == [task_id]
