"""Hot-word tables (``POST /services/audio/asr/customization``): actions, limits, and tasks using one."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.emulator.testing import dashscope_headers, running_emulator

WIRE = Path(__file__).resolve().parents[3] / "shared" / "wire-examples"
KEYS = ("sk-a", "sk-b")
TABLE_ID = re.compile(r"^vocab-[a-z0-9]{1,10}-[0-9a-f]{32}$")
GMT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
WORDS = [{"text": "Qwen-ASR", "weight": 4, "lang": "en"}, {"text": "阙里人家", "weight": 5}]


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    # No rate limit here: one test below sets one.
    with running_emulator(api_keys=KEYS, pending_seconds=1, running_seconds=1, query_qps=0) as server:
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def customize(
    http: requests.Session, server: EmulatorServer, action: str, key: str = "sk-a", **fields: Any
) -> requests.Response:
    """One customization request as the SDK sends it: no async header."""
    body = {"model": "speech-biasing", "input": {**fields, "action": action}}
    return http.post(
        f"{server.base_url}/services/audio/asr/customization", json=body, headers=dashscope_headers(key)
    )


def create(
    http: requests.Session,
    server: EmulatorServer,
    key: str = "sk-a",
    prefix: str = "meetings",
    target: str = "fun-asr",
) -> str:
    answer = customize(
        http, server, "create_vocabulary", key, target_model=target, prefix=prefix, vocabulary=WORDS
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["output"]["vocabulary_id"])


def bad(answer: requests.Response, code: str = "InvalidParameter") -> str:
    """The message of a 400 DashScope error with ``code``."""
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert set(body) == {"code", "message", "request_id"}
    assert body["code"] == code
    assert answer.headers["X-Request-ID"] == body["request_id"]
    return str(body["message"])


def test_the_recorded_sdk_requests_are_answered(http: requests.Session, emulator: EmulatorServer) -> None:
    for name in ("vocabulary-create.sdk-request.json", "vocabulary-list.sdk-request.json"):
        recorded = json.loads((WIRE / name).read_text(encoding="utf-8"))
        headers = {k: v for k, v in recorded["headers"].items() if k != "Authorization"}
        answer = http.post(
            emulator.root_url + recorded["path"],
            json=recorded["body"],
            headers={**headers, **dashscope_headers("sk-a")},
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["X-Request-ID"] == answer.json()["request_id"]
    listed = answer.json()["output"]["vocabulary_list"]
    assert [item["vocabulary_id"].split("-")[1] for item in listed] == ["holdout"]


def test_create_answers_a_realistic_id_in_the_envelope(
    http: requests.Session, emulator: EmulatorServer
) -> None:
    answer = customize(
        http, emulator, "create_vocabulary", target_model="fun-asr", prefix="abc1", vocabulary=WORDS
    )
    body = answer.json()
    assert set(body) == {"request_id", "output", "usage"}
    assert body["usage"] == {"count": 1}
    assert set(body["output"]) == {"vocabulary_id"}
    assert TABLE_ID.match(body["output"]["vocabulary_id"])
    assert body["output"]["vocabulary_id"].startswith("vocab-abc1-")
    assert create(http, emulator, prefix="abc1") != body["output"]["vocabulary_id"]


def test_query_update_and_delete(http: requests.Session, emulator: EmulatorServer) -> None:
    table = create(http, emulator, target="fun-asr-2025-11-07")
    queried = customize(http, emulator, "query_vocabulary", vocabulary_id=table).json()
    assert queried["usage"] == {"count": 1}
    output = queried["output"]
    assert set(output) == {"vocabulary", "target_model", "gmt_create", "gmt_modified", "status"}
    assert output["vocabulary"] == WORDS
    assert output["target_model"] == "fun-asr-2025-11-07"
    assert output["status"] == "OK"
    assert GMT.match(output["gmt_create"])
    assert output["gmt_create"] == output["gmt_modified"]

    emulator.backend.clock.advance(3600)
    new_words = [{"text": "Fun-ASR", "weight": 1, "lang": "en"}]
    updated = customize(http, emulator, "update_vocabulary", vocabulary_id=table, vocabulary=new_words)
    assert updated.status_code == 200
    assert set(updated.json()) == {"request_id", "output", "usage"}
    after = customize(http, emulator, "query_vocabulary", vocabulary_id=table).json()["output"]
    assert after["vocabulary"] == new_words  # replaced, not merged
    assert after["gmt_create"] == output["gmt_create"]
    assert after["gmt_modified"] > output["gmt_modified"]

    assert customize(http, emulator, "delete_vocabulary", vocabulary_id=table).status_code == 200
    for action in ("query_vocabulary", "delete_vocabulary"):
        assert table in bad(customize(http, emulator, action, vocabulary_id=table))
    assert customize(http, emulator, "list_vocabulary").json()["output"]["vocabulary_list"] == []


def test_list_filters_by_prefix_and_pages(http: requests.Session, emulator: EmulatorServer) -> None:
    mine = [create(http, emulator, prefix="alpha") for _ in range(3)]
    other = create(http, emulator, prefix="beta")
    everything = customize(http, emulator, "list_vocabulary").json()
    assert everything["usage"] == {"count": 1}
    items = everything["output"]["vocabulary_list"]
    assert {item["vocabulary_id"] for item in items} == {*mine, other}
    for item in items:
        assert set(item) == {"vocabulary_id", "gmt_create", "gmt_modified", "status"}
        assert item["status"] == "OK"
        assert GMT.match(item["gmt_create"])
    alpha = customize(http, emulator, "list_vocabulary", prefix="alpha").json()["output"]["vocabulary_list"]
    assert {item["vocabulary_id"] for item in alpha} == set(mine)
    pages = [
        customize(http, emulator, "list_vocabulary", page_index=index, page_size=2).json()["output"]
        for index in range(3)
    ]
    assert [len(page["vocabulary_list"]) for page in pages] == [2, 2, 0]
    paged = {item["vocabulary_id"] for page in pages for item in page["vocabulary_list"]}
    assert paged == {*mine, other}
    # The default page is 10 tables, newest first.
    emulator.backend.update_config({"max_vocabularies_per_key": 20})
    created = [create(http, emulator, prefix="many") for _ in range(12)]
    first = customize(http, emulator, "list_vocabulary").json()["output"]["vocabulary_list"]
    assert [item["vocabulary_id"] for item in first] == created[::-1][:10]
    for page in ({"page_index": -1}, {"page_size": 0}, {"page_size": 101}, {"page_size": "10"}):
        bad(customize(http, emulator, "list_vocabulary", **page))


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"prefix": "abc", "vocabulary": WORDS}, "target_model"),
        ({"target_model": "whisper-9", "prefix": "abc", "vocabulary": WORDS}, "target_model"),
        ({"target_model": "qwen3-asr-flash-filetrans", "prefix": "abc", "vocabulary": WORDS}, "fun-asr"),
        (
            {"target_model": "qwen-audio-3.1-asr-flash-filetrans", "prefix": "abc", "vocabulary": WORDS},
            "fun-asr",
        ),
        ({"target_model": "Fun-ASR", "prefix": "abc", "vocabulary": WORDS}, "target_model"),
        ({"target_model": "fun-asr", "vocabulary": WORDS}, "prefix"),
        ({"target_model": "fun-asr", "prefix": "elevenchars", "vocabulary": WORDS}, "prefix"),
        ({"target_model": "fun-asr", "prefix": "Upper", "vocabulary": WORDS}, "prefix"),
        ({"target_model": "fun-asr", "prefix": "dash-ed", "vocabulary": WORDS}, "prefix"),
        ({"target_model": "fun-asr", "prefix": "", "vocabulary": WORDS}, "prefix"),
        ({"target_model": "fun-asr", "prefix": "abc"}, "vocabulary"),
        ({"target_model": "fun-asr", "prefix": "abc", "vocabulary": []}, "vocabulary"),
        ({"target_model": "fun-asr", "prefix": "abc", "vocabulary": {"Qwen": 4}}, "vocabulary"),
        ({"target_model": "fun-asr", "prefix": "abc", "vocabulary": ["Qwen"]}, "vocabulary[0]"),
        ({"target_model": "fun-asr", "prefix": "abc", "vocabulary": [{"weight": 4}]}, "text"),
        ({"target_model": "fun-asr", "prefix": "abc", "vocabulary": [{"text": " ", "weight": 4}]}, "text"),
        ({"target_model": "fun-asr", "prefix": "abc", "vocabulary": [{"text": "a"}]}, "weight"),
        ({"target_model": "fun-asr", "prefix": "abc", "vocabulary": [{"text": "a", "weight": 0}]}, "weight"),
        ({"target_model": "fun-asr", "prefix": "abc", "vocabulary": [{"text": "a", "weight": 6}]}, "weight"),
        (
            {"target_model": "fun-asr", "prefix": "abc", "vocabulary": [{"text": "a", "weight": 4.5}]},
            "weight",
        ),
        (
            {"target_model": "fun-asr", "prefix": "abc", "vocabulary": [{"text": "a", "weight": True}]},
            "weight",
        ),
        (
            {
                "target_model": "fun-asr",
                "prefix": "abc",
                "vocabulary": [{"text": "a", "weight": 4, "lang": 1}],
            },
            "lang",
        ),
        (
            {"target_model": "fun-asr", "prefix": "abc", "vocabulary": [{"text": "a", "weight": 4}] * 501},
            "500",
        ),
    ],
    ids=[
        "no-target",
        "unknown-target",
        "qwen3-takes-no-table",
        "qwen-audio-takes-no-table",
        "target-case",
        "no-prefix",
        "long-prefix",
        "upper-prefix",
        "dash-prefix",
        "empty-prefix",
        "no-words",
        "empty-words",
        "words-not-a-list",
        "word-not-an-object",
        "no-text",
        "blank-text",
        "no-weight",
        "weight-0",
        "weight-6",
        "weight-float",
        "weight-bool",
        "lang-not-a-string",
        "too-many-words",
    ],
)
def test_create_checks_its_input(
    http: requests.Session, emulator: EmulatorServer, fields: dict[str, Any], fragment: str
) -> None:
    assert fragment in bad(customize(http, emulator, "create_vocabulary", **fields))
    assert customize(http, emulator, "list_vocabulary").json()["output"]["vocabulary_list"] == []


def test_every_model_that_takes_a_table_can_be_a_target(
    http: requests.Session, emulator: EmulatorServer
) -> None:
    from airflow_provider_qwenasr._api.catalog import FAMILIES

    emulator.backend.update_config({"max_vocabularies_per_key": 100})
    targets = [m for f in FAMILIES if f.takes_vocabulary_table for m in f.models] + ["fun-asr-mtl-2025-08-25"]
    assert "paraformer-v2" in targets
    for target in targets:
        create(http, emulator, target=target)


def test_update_checks_its_words(http: requests.Session, emulator: EmulatorServer) -> None:
    table = create(http, emulator)
    assert "vocabulary" in bad(customize(http, emulator, "update_vocabulary", vocabulary_id=table))
    assert "weight" in bad(
        customize(
            http, emulator, "update_vocabulary", vocabulary_id=table, vocabulary=[{"text": "a", "weight": 9}]
        )
    )
    assert (
        customize(http, emulator, "query_vocabulary", vocabulary_id=table).json()["output"]["vocabulary"]
        == WORDS
    )
    for action in ("query_vocabulary", "update_vocabulary", "delete_vocabulary"):
        assert "vocabulary_id" in bad(customize(http, emulator, action, vocabulary=WORDS))
        assert "vocab-nope" in bad(
            customize(http, emulator, action, vocabulary_id="vocab-nope", vocabulary=WORDS)
        )


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        ({"input": {"action": "list_vocabulary"}}, "BadRequest.EmptyModel", "model"),
        (
            {"model": "paraformer-v2", "input": {"action": "list_vocabulary"}},
            "InvalidParameter",
            "Model not exist",
        ),
        ({"model": "speech-biasing"}, "BadRequest.EmptyInput", "input"),
        ({"model": "speech-biasing", "input": {"prefix": "a"}}, "InvalidParameter", "action"),
        (
            {"model": "speech-biasing", "input": {"action": "create_voice"}},
            "InvalidParameter",
            "create_voice",
        ),
        ({"model": "speech-biasing", "input": "list_vocabulary"}, "InvalidParameter", "input"),
        ([], "InvalidParameter", "object"),
    ],
    ids=[
        "no-model",
        "wrong-model",
        "no-input",
        "no-action",
        "unknown-action",
        "input-not-object",
        "not-object",
    ],
)
def test_the_envelope_is_checked(
    http: requests.Session, emulator: EmulatorServer, body: Any, code: str, fragment: str
) -> None:
    answer = http.post(
        f"{emulator.base_url}/services/audio/asr/customization", json=body, headers=dashscope_headers("sk-a")
    )
    assert fragment in bad(answer, code)


def test_a_body_that_is_not_json_is_400_and_no_content_type_is_needed(
    http: requests.Session, emulator: EmulatorServer
) -> None:
    url = f"{emulator.base_url}/services/audio/asr/customization"
    assert "JSON" in bad(http.post(url, data=b"{nope", headers=dashscope_headers("sk-a")))
    plain = json.dumps({"model": "speech-biasing", "input": {"action": "list_vocabulary"}})
    assert http.post(url, data=plain, headers=dashscope_headers("sk-a")).status_code == 200
    unauthorized = http.post(url, data=plain, headers={"Authorization": "Bearer sk-wrong"})
    assert (unauthorized.status_code, unauthorized.json()["code"]) == (401, "InvalidApiKey")


def test_tables_are_per_key(http: requests.Session, emulator: EmulatorServer) -> None:
    table = create(http, emulator, "sk-a")
    assert customize(http, emulator, "list_vocabulary", "sk-b").json()["output"]["vocabulary_list"] == []
    for action in ("query_vocabulary", "update_vocabulary", "delete_vocabulary"):
        message = bad(customize(http, emulator, action, "sk-b", vocabulary_id=table, vocabulary=WORDS))
        assert message == f"The vocabulary {table} does not exist."  # as for a table that does not exist
    assert (
        customize(http, emulator, "query_vocabulary", "sk-a", vocabulary_id=table).json()["output"][
            "vocabulary"
        ]
        == WORDS
    )
    # A task of the other key cannot use it either.
    task = submit(http, emulator, {"vocabulary_id": table}, key="sk-b")
    assert finished(http, emulator, task, key="sk-b")["output"]["task_status"] == "FAILED"


def test_the_number_of_tables_per_key_is_capped(http: requests.Session, emulator: EmulatorServer) -> None:
    tables = [create(http, emulator, prefix=f"t{n}") for n in range(10)]  # the assumed default: 10
    message = bad(
        customize(http, emulator, "create_vocabulary", target_model="fun-asr", prefix="x", vocabulary=WORDS)
    )
    assert "10" in message
    create(http, emulator, "sk-b")  # per key
    customize(http, emulator, "delete_vocabulary", vocabulary_id=tables[0])
    create(http, emulator)
    emulator.backend.update_config({"max_vocabularies_per_key": 11})
    create(http, emulator)
    assert requests.get(f"{emulator.root_url}/emulator-api/config").json()["max_vocabularies_per_key"] == 11


def test_customization_is_logged_faulted_throttled_and_reset(
    http: requests.Session, emulator: EmulatorServer
) -> None:
    create(http, emulator)
    [entry] = emulator.backend.requests.entries("customization")
    assert entry["body"]["input"]["action"] == "create_vocabulary"
    assert entry["headers"]["Authorization"].endswith("(redacted)")
    assert entry["status"] == 200

    requests.post(
        f"{emulator.root_url}/emulator-api/faults",
        json={"endpoint": "customization", "kind": "status", "status": 503, "retry_after": 1},
    )
    faulted = customize(
        http, emulator, "create_vocabulary", target_model="fun-asr", prefix="f", vocabulary=WORDS
    )
    assert (faulted.status_code, faulted.json()["code"], faulted.headers["Retry-After"]) == (
        503,
        "ModelUnavailable",
        "1",
    )
    # A faulted write is not processed: no table was made.
    assert len(customize(http, emulator, "list_vocabulary").json()["output"]["vocabulary_list"]) == 1
    emulator.backend.faults.add(endpoint="customization", kind="drop")
    with pytest.raises(requests.ConnectionError):
        customize(requests.Session(), emulator, "list_vocabulary")

    emulator.backend.update_config({"query_qps": 3})
    statuses = [customize(http, emulator, "list_vocabulary").status_code for _ in range(10)]
    assert 429 in statuses
    throttled = customize(http, emulator, "list_vocabulary")
    if throttled.status_code == 429:
        assert throttled.json()["code"] == "Throttling.RateQuota"
    # Its own budget: the query still answers.
    assert http.get(f"{emulator.base_url}/tasks/x", headers=dashscope_headers("sk-a")).status_code == 200
    stats = requests.get(f"{emulator.root_url}/emulator-api/stats").json()
    assert stats["throttled"]["customization"] == statuses.count(429) + (throttled.status_code == 429)

    requests.post(f"{emulator.root_url}/emulator-api/reset")
    assert customize(http, emulator, "list_vocabulary").json()["output"]["vocabulary_list"] == []


# -- tasks that use a table ------------------------------------------------------------------------


def submit(
    http: requests.Session,
    server: EmulatorServer,
    parameters: dict[str, Any],
    model: str = "fun-asr",
    key: str = "sk-a",
    urls: tuple[str, ...] = ("https://example.com/a.wav",),
) -> str:
    answer = http.post(
        f"{server.base_url}/services/audio/asr/transcription",
        json={"model": model, "input": {"file_urls": list(urls)}, "parameters": parameters},
        headers=dashscope_headers(key, submit=True),
    )
    assert answer.status_code == 200, answer.text  # accepted: the table is checked while the task runs
    return str(answer.json()["output"]["task_id"])


def finished(
    http: requests.Session, server: EmulatorServer, task_id: str, key: str = "sk-a"
) -> dict[str, Any]:
    server.backend.clock.advance(3)
    answer = http.get(f"{server.base_url}/tasks/{task_id}", headers=dashscope_headers(key))
    return dict(answer.json())


@pytest.mark.parametrize(
    ("target", "model"),
    [
        ("fun-asr", "fun-asr"),
        ("fun-asr", "fun-asr-2025-11-07"),
        ("fun-asr-2025-11-07", "fun-asr"),
        ("paraformer-v2", "paraformer-v2"),
    ],
    ids=["same", "dated-task", "dated-table", "paraformer"],
)
def test_a_task_with_a_matching_table_succeeds(
    http: requests.Session, emulator: EmulatorServer, target: str, model: str
) -> None:
    table = create(http, emulator, target=target)
    done = finished(http, emulator, submit(http, emulator, {"vocabulary_id": table}, model=model))
    assert done["output"]["task_status"] == "SUCCEEDED"
    assert done["output"]["results"][0]["subtask_status"] == "SUCCEEDED"


def test_a_task_naming_a_missing_table_fails(http: requests.Session, emulator: EmulatorServer) -> None:
    urls = ("https://example.com/a.wav", "https://example.com/b.wav")
    done = finished(http, emulator, submit(http, emulator, {"vocabulary_id": "vocab-gone-0"}, urls=urls))
    output = done["output"]
    assert output["task_status"] == "FAILED"
    assert output["code"] == "InvalidParameter"
    assert output["message"] == "The vocabulary vocab-gone-0 does not exist."
    assert output["task_metrics"] == {"TOTAL": 2, "SUCCEEDED": 0, "FAILED": 2}
    assert [r["subtask_status"] for r in output["results"]] == ["FAILED", "FAILED"]
    assert {r["code"] for r in output["results"]} == {"InvalidParameter"}
    assert done["usage"] == {"duration": 0}


def test_a_table_for_another_model_fails_the_task(http: requests.Session, emulator: EmulatorServer) -> None:
    emulator.backend.update_config(
        {"funasr_all_failed_status": "SUCCEEDED"}
    )  # a task-level failure all the same
    table = create(http, emulator, target="paraformer-v2")
    done = finished(http, emulator, submit(http, emulator, {"vocabulary_id": table}, model="fun-asr-mtl"))
    assert done["output"]["task_status"] == "FAILED"
    assert done["output"]["code"] == "InvalidParameter"
    assert table in done["output"]["message"]
    assert "paraformer-v2" in done["output"]["message"]


def test_a_deleted_table_fails_later_tasks(http: requests.Session, emulator: EmulatorServer) -> None:
    table = create(http, emulator)
    before = submit(http, emulator, {"vocabulary_id": table})
    customize(http, emulator, "delete_vocabulary", vocabulary_id=table)
    after = submit(http, emulator, {"vocabulary_id": table})
    assert finished(http, emulator, before)["output"]["task_status"] == "SUCCEEDED"
    assert finished(http, emulator, after)["output"]["task_status"] == "FAILED"


def test_a_vocabulary_id_that_is_not_a_string_is_refused(
    http: requests.Session, emulator: EmulatorServer
) -> None:
    answer = http.post(
        f"{emulator.base_url}/services/audio/asr/transcription",
        json={
            "model": "fun-asr",
            "input": {"file_urls": ["https://e.com/a.wav"]},
            "parameters": {"vocabulary_id": 7},
        },
        headers=dashscope_headers("sk-a", submit=True),
    )
    assert "vocabulary_id" in bad(answer)


def test_families_without_tables_ignore_vocabulary_id(
    http: requests.Session, emulator: EmulatorServer
) -> None:
    """Qwen3 and qwen-audio take no table: the parameter passes through, as unknown ones do."""
    qwen3 = http.post(
        f"{emulator.base_url}/services/audio/asr/transcription",
        json={
            "model": "qwen3-asr-flash-filetrans",
            "input": {"file_url": "https://e.com/a.wav"},
            "parameters": {"vocabulary_id": "vocab-x-1"},
        },
        headers=dashscope_headers("sk-a", submit=True),
    ).json()["output"]["task_id"]
    audio = submit(http, emulator, {"vocabulary_id": "vocab-x-1"}, model="qwen-audio-3.1-asr-flash-filetrans")
    assert finished(http, emulator, qwen3)["output"]["task_status"] == "SUCCEEDED"
    assert finished(http, emulator, audio)["output"]["task_status"] == "SUCCEEDED"
