"""The sync hook's hot-word tables against the emulator over 127.0.0.1 (issue 15).

Create, list (page by page), query, update and delete; ``ensure_vocabulary`` creating, reusing and
updating without piling up tables; the table limit; bad input refused before any request; a Fun-ASR
task using a table, and tasks naming a deleted table or one for another model failing; and the API
key kept out of every log record. (Only the sync hook has these methods: the async hook, used by
triggers, has no hot-word table calls.)
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.exceptions import (
    QwenASRApiError,
    QwenASRConnectionError,
    QwenASRInputError,
    QwenASRThrottledError,
)
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.models import TaskStatus
from tests.conftest import EMULATOR_API_KEY, FAST_RETRIES

FUN_ASR = "fun-asr"
AUDIO = "https://example.com/meeting.wav"
WORDS: list[dict[str, Any]] = [
    {"text": "Qwen-ASR", "weight": 4, "lang": "en"},
    {"text": "阙里人家", "weight": 5},
]
OTHER_WORDS: list[dict[str, Any]] = [{"text": "DashScope", "weight": 3, "lang": "en"}]
#: The emulator's ids: ``vocab-<prefix>-<32 hex>`` (dashscope-api.md §8 names only ``vocabulary_id``).
TABLE_ID = re.compile(r"^vocab-meetings-[0-9a-f]{32}$")
FAST = FAST_RETRIES


@pytest.fixture
def hook(fast_hook: QwenASRHook) -> QwenASRHook:
    return fast_hook


def calls(emulator: EmulatorServer, action: str | None = None) -> list[dict[str, Any]]:
    """The customization requests the emulator received (optionally of one action), in order."""
    entries = emulator.backend.requests.entries("customization")
    return [e for e in entries if action is None or e["body"]["input"]["action"] == action]


def fault_on_request(emulator: EmulatorServer, n: int, kind: str, **options: Any) -> None:
    """Arm a fault for the ``n``-th next customization request (those before it are answered as usual:
    a fault of no latency uses each of them up)."""
    if n > 1:
        emulator.backend.faults.add("customization", "latency", delay_seconds=0, count=n - 1)
    emulator.backend.faults.add("customization", kind, **options)


def finish(hook: QwenASRHook, emulator: EmulatorServer, task_id: str) -> Any:
    """The task once the emulator's clock has run past its lifecycle."""
    emulator.backend.clock.advance(10)
    return hook.get_task(task_id)


# -- the five actions ----------------------------------------------------------------------------


def test_create_returns_a_prefixed_id(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    vocabulary_id = hook.create_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=WORDS)
    assert TABLE_ID.match(vocabulary_id), vocabulary_id
    (entry,) = calls(emulator)
    assert entry["status"] == 200
    assert entry["body"] == {
        "model": "speech-biasing",
        "input": {
            "action": "create_vocabulary",
            "target_model": FUN_ASR,
            "prefix": "meetings",
            "vocabulary": WORDS,
        },
    }
    assert "X-DashScope-Async" not in entry["headers"]  # the customization call is synchronous


def test_query_update_delete(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    vocabulary_id = hook.create_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=WORDS)
    table = hook.query_vocabulary(vocabulary_id)
    assert table.vocabulary_id == vocabulary_id
    assert table.target_model == FUN_ASR
    assert table.status == "OK"
    assert table.vocabulary == tuple(WORDS)
    assert table.to_dict()["words"] == 2

    hook.update_vocabulary(vocabulary_id, OTHER_WORDS)
    updated = hook.query_vocabulary(vocabulary_id)
    assert updated.vocabulary == tuple(OTHER_WORDS)  # replaced, not merged
    assert updated.gmt_create == table.gmt_create

    hook.delete_vocabulary(vocabulary_id)
    assert list(hook.list_vocabularies("meetings")) == []
    with pytest.raises(QwenASRApiError) as caught:
        hook.query_vocabulary(vocabulary_id)
    assert caught.value.code == "InvalidParameter"
    assert vocabulary_id in str(caught.value)
    assert not isinstance(caught.value, QwenASRInputError)


def test_list_pages_through_every_table(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    """23 tables of one prefix come back over three pages of 10; another prefix's are left out."""
    emulator.backend.update_config({"max_vocabularies_per_key": 30, "query_qps": 0})
    created = {
        hook.create_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=WORDS) for _ in range(23)
    }
    other = hook.create_vocabulary(target_model=FUN_ASR, prefix="calls", vocabulary=WORDS)
    listed = [t.vocabulary_id for t in hook.list_vocabularies("meetings")]
    assert len(listed) == 23
    assert set(listed) == created
    pages = [e["body"]["input"] for e in calls(emulator, "list_vocabulary")]
    assert [p["page_index"] for p in pages] == [0, 1, 2]
    assert all(p["prefix"] == "meetings" for p in pages)
    everything = {t.vocabulary_id for t in hook.list_vocabularies()}
    assert everything == created | {other}


def test_list_of_exactly_one_full_page(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    """Ten tables fill the first page: a second, empty page ends the listing."""
    ids = {
        hook.create_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=WORDS) for _ in range(10)
    }
    assert {t.vocabulary_id for t in hook.list_vocabularies("meetings")} == ids
    assert len(calls(emulator, "list_vocabulary")) == 2


# -- ensure_vocabulary -------------------------------------------------------------------------------


def test_ensure_creates_reuses_and_updates(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    vocabulary_id, done = hook.ensure_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=WORDS)
    assert done == "created"
    assert TABLE_ID.match(vocabulary_id)

    again, done = hook.ensure_vocabulary(
        target_model=FUN_ASR, prefix="meetings", vocabulary=list(reversed(WORDS))
    )
    assert (again, done) == (vocabulary_id, "reused")  # the same words in another order
    assert len(calls(emulator, "create_vocabulary")) == 1
    assert calls(emulator, "update_vocabulary") == []

    updated, done = hook.ensure_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=OTHER_WORDS)
    assert (updated, done) == (vocabulary_id, "updated")
    assert len(calls(emulator, "create_vocabulary")) == 1
    assert hook.query_vocabulary(vocabulary_id).vocabulary == tuple(OTHER_WORDS)
    assert [t.vocabulary_id for t in hook.list_vocabularies("meetings")] == [vocabulary_id]


def test_ensure_keeps_tables_of_other_models_apart(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    """Same prefix, another target model: a table of its own, and the first one is left as it was."""
    funasr_id, _ = hook.ensure_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=WORDS)
    paraformer_id, done = hook.ensure_vocabulary(
        target_model="paraformer-v2", prefix="meetings", vocabulary=OTHER_WORDS
    )
    assert done == "created"
    assert paraformer_id != funasr_id
    assert hook.query_vocabulary(funasr_id).vocabulary == tuple(WORDS)
    assert hook.ensure_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=WORDS) == (
        funasr_id,
        "reused",
    )
    assert len(calls(emulator, "create_vocabulary")) == 2
    assert calls(emulator, "update_vocabulary") == []


def test_ensure_after_a_lost_create_answer_makes_one_table(
    hook: QwenASRHook, emulator: EmulatorServer
) -> None:
    """The create is done but its answer is dropped: the tables are listed again, none is created
    twice, and what ensure reports is what it did: it created the table."""
    fault_on_request(emulator, 2, "drop", process_request=True)  # 1: the list, 2: the create
    vocabulary_id, done = hook.ensure_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=WORDS)
    actions = [e["body"]["input"]["action"] for e in calls(emulator)]
    assert actions[:3] == ["list_vocabulary", "create_vocabulary", "list_vocabulary"]
    assert [e["status"] for e in calls(emulator, "create_vocabulary")] == [None]  # dropped, not resent
    assert [t.vocabulary_id for t in hook.list_vocabularies("meetings")] == [vocabulary_id]
    assert done == "created"


# -- limits and refusals ---------------------------------------------------------------------------


def test_table_limit_is_a_clear_error(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    emulator.backend.update_config({"max_vocabularies_per_key": 2})
    hook.create_vocabulary(target_model=FUN_ASR, prefix="a", vocabulary=WORDS)
    hook.create_vocabulary(target_model=FUN_ASR, prefix="b", vocabulary=WORDS)
    with pytest.raises(QwenASRApiError) as caught:
        hook.create_vocabulary(target_model=FUN_ASR, prefix="c", vocabulary=WORDS)
    assert caught.value.code == "InvalidParameter"
    assert caught.value.http_status == 400
    assert "delete one" in str(caught.value)
    assert caught.value.request_id
    with pytest.raises(QwenASRApiError, match="delete one"):
        hook.ensure_vocabulary(target_model=FUN_ASR, prefix="c", vocabulary=WORDS)
    assert len(calls(emulator, "create_vocabulary")) == 4  # each refused create sent once, not retried
    assert len(list(hook.list_vocabularies())) == 2


def test_create_is_sent_again_after_a_429(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    """A 429 means the service did not take the create: it is safe to send again, and it is."""
    emulator.backend.faults.add("customization", "status", status=429, count=1)
    vocabulary_id = hook.create_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=WORDS)
    assert [e["status"] for e in calls(emulator, "create_vocabulary")] == [429, 200]
    assert [t.vocabulary_id for t in hook.list_vocabularies("meetings")] == [vocabulary_id]


def test_create_is_not_sent_again_after_a_lost_answer(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    """An unknown outcome (no answer) is not retried blindly by a bare create: one table, one request."""
    emulator.backend.faults.add("customization", "drop", count=1, process_request=True)
    with pytest.raises(QwenASRConnectionError) as caught:
        hook.create_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=WORDS)
    assert caught.value.request_sent  # it reached the service: the outcome is unknown
    assert len(calls(emulator, "create_vocabulary")) == 1
    assert len(list(hook.list_vocabularies("meetings"))) == 1


REFUSED: list[Any] = [
    pytest.param({"prefix": "Meetings"}, "prefix", id="prefix-upper-case"),
    pytest.param({"prefix": "meetings-01"}, "prefix", id="prefix-dash"),
    pytest.param({"prefix": "abcdefghijk"}, "1 to 10 characters", id="prefix-eleven"),
    pytest.param({"prefix": ""}, "prefix", id="prefix-empty"),
    pytest.param({"vocabulary": [{"text": "Qwen", "weight": 0}]}, "from 1 to 5", id="weight-0"),
    pytest.param({"vocabulary": [{"text": "Qwen", "weight": 6}]}, "from 1 to 5", id="weight-6"),
    pytest.param({"vocabulary": [{"text": "Qwen", "weight": 50}]}, "from 1 to 5", id="weight-50"),
    pytest.param({"vocabulary": [{"text": "Qwen", "weight": "3"}]}, "from 1 to 5", id="weight-string"),
    pytest.param({"vocabulary": [{"text": "Qwen", "weight": True}]}, "from 1 to 5", id="weight-bool"),
    pytest.param({"vocabulary": [{"text": "Qwen"}]}, "from 1 to 5", id="weight-missing"),
    pytest.param({"vocabulary": [{"text": " ", "weight": 3}]}, "non-empty text", id="text-blank"),
    pytest.param({"vocabulary": [{"text": "Qwen", "weight": 3, "lang": ""}]}, "lang", id="lang-empty"),
    pytest.param({"vocabulary": []}, "non-empty list", id="empty-vocabulary"),
    pytest.param({"vocabulary": "Qwen"}, "non-empty list", id="vocabulary-string"),
    pytest.param({"target_model": "qwen3-asr-flash-filetrans"}, "takes no hot-word table", id="qwen3-target"),
    pytest.param(
        {"target_model": "qwen-audio-3.1-asr-flash-filetrans"}, "hot_words=", id="qwen-audio-target"
    ),
    pytest.param({"target_model": " "}, "target_model", id="no-target"),
]


@pytest.mark.parametrize(("change", "fragment"), REFUSED)
@pytest.mark.parametrize("method", ["create_vocabulary", "ensure_vocabulary"])
def test_bad_table_is_refused_before_any_request(
    hook: QwenASRHook, emulator: EmulatorServer, method: str, change: dict[str, Any], fragment: str
) -> None:
    arguments: dict[str, Any] = {"target_model": FUN_ASR, "prefix": "meetings", "vocabulary": WORDS, **change}
    with pytest.raises(QwenASRInputError, match=re.escape(fragment)):
        getattr(hook, method)(**arguments)
    assert emulator.backend.requests.entries() == []


@pytest.mark.parametrize("vocabulary_id", ["", "  ", "None", "null", "a/b", "has space"])
def test_bad_table_id_is_refused_before_any_request(
    hook: QwenASRHook, emulator: EmulatorServer, vocabulary_id: str
) -> None:
    for call in (hook.query_vocabulary, hook.delete_vocabulary):
        with pytest.raises(QwenASRInputError, match="vocabulary_id"):
            call(vocabulary_id)
    with pytest.raises(QwenASRInputError, match="vocabulary_id"):
        hook.update_vocabulary(vocabulary_id, WORDS)
    assert emulator.backend.requests.entries() == []


def test_update_with_bad_words_is_refused_before_any_request(
    hook: QwenASRHook, emulator: EmulatorServer
) -> None:
    with pytest.raises(QwenASRInputError, match="from 1 to 5"):
        hook.update_vocabulary("vocab-meetings-0123", [{"text": "Qwen", "weight": 9}])
    assert emulator.backend.requests.entries() == []


# -- tasks using a table ---------------------------------------------------------------------------


def test_fun_asr_task_with_its_table_succeeds(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    vocabulary_id, _ = hook.ensure_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=WORDS)
    task = hook.submit_transcription(FUN_ASR, file_urls=[AUDIO], vocabulary_id=vocabulary_id)
    (entry,) = emulator.backend.requests.entries("submit")
    assert entry["body"]["parameters"] == {"vocabulary_id": vocabulary_id}
    done = finish(hook, emulator, task.task_id)
    assert done.status is TaskStatus.SUCCEEDED
    # A dated version of the model uses the undated model's table.
    dated = hook.submit_transcription("fun-asr-2025-11-07", file_urls=[AUDIO], vocabulary_id=vocabulary_id)
    assert finish(hook, emulator, dated.task_id).status is TaskStatus.SUCCEEDED


def test_task_naming_a_deleted_table_fails(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    vocabulary_id = hook.create_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=WORDS)
    hook.delete_vocabulary(vocabulary_id)
    task = hook.submit_transcription(FUN_ASR, file_urls=[AUDIO], vocabulary_id=vocabulary_id)
    assert task.status is TaskStatus.PENDING  # the submit is accepted; the table is checked later
    done = finish(hook, emulator, task.task_id)
    assert done.status is TaskStatus.FAILED
    assert done.code == "InvalidParameter"
    assert done.message is not None
    assert vocabulary_id in done.message
    assert "does not exist" in done.message


def test_task_with_a_table_for_another_model_fails(hook: QwenASRHook, emulator: EmulatorServer) -> None:
    vocabulary_id = hook.create_vocabulary(target_model="paraformer-v2", prefix="meetings", vocabulary=WORDS)
    task = hook.submit_transcription(FUN_ASR, file_urls=[AUDIO], vocabulary_id=vocabulary_id)
    done = finish(hook, emulator, task.task_id)
    assert done.status is TaskStatus.FAILED
    assert done.code == "InvalidParameter"
    assert done.message is not None
    assert "paraformer-v2" in done.message
    # The model it was made for succeeds with it.
    ok = hook.submit_transcription("paraformer-v2", file_urls=[AUDIO], vocabulary_id=vocabulary_id)
    assert finish(hook, emulator, ok.task_id).status is TaskStatus.SUCCEEDED


# -- secrets -----------------------------------------------------------------------------------------


def test_api_key_is_in_no_log_record(
    hook: QwenASRHook, emulator: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Every table call, a retried 429, a lost answer and a refusal, at DEBUG: the key is never logged."""
    emulator.backend.update_config({"max_vocabularies_per_key": 2})
    with caplog.at_level(logging.DEBUG):
        fault_on_request(emulator, 2, "drop", process_request=True)  # the create's answer is lost
        vocabulary_id, _ = hook.ensure_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=WORDS)
        fault_on_request(emulator, 3, "status", status=429)  # list, query, then the update
        hook.ensure_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=OTHER_WORDS)
        hook.query_vocabulary(vocabulary_id)
        fault_on_request(emulator, 1, "status", status=429)
        hook.create_vocabulary(target_model=FUN_ASR, prefix="other", vocabulary=WORDS)
        with pytest.raises(QwenASRApiError) as caught:
            hook.create_vocabulary(target_model=FUN_ASR, prefix="third", vocabulary=WORDS)
        task = hook.submit_transcription(FUN_ASR, file_urls=[AUDIO], vocabulary_id=vocabulary_id)
        finish(hook, emulator, task.task_id)
        hook.delete_vocabulary(vocabulary_id)
    assert emulator.backend.faults.active() == []  # every fault was met
    assert [e["status"] for e in calls(emulator, "update_vocabulary")] == [429, 200]
    assert caplog.records  # the retries were logged
    for record in caplog.records:
        assert EMULATOR_API_KEY not in record.getMessage()
        assert EMULATOR_API_KEY not in repr(record.args)
    assert EMULATOR_API_KEY not in caplog.text
    assert EMULATOR_API_KEY not in str(caught.value)
    assert EMULATOR_API_KEY not in repr(caught.value.to_dict())
    for entry in emulator.backend.requests.entries():
        assert EMULATOR_API_KEY not in repr(entry)


def test_throttled_read_is_retried_and_a_spent_retry_is_a_throttle_error(
    hook: QwenASRHook, emulator: EmulatorServer
) -> None:
    vocabulary_id = hook.create_vocabulary(target_model=FUN_ASR, prefix="meetings", vocabulary=WORDS)
    emulator.backend.faults.add("customization", "status", status=429, count=2)
    assert hook.query_vocabulary(vocabulary_id).vocabulary_id == vocabulary_id
    emulator.backend.faults.add("customization", "status", status=429, count=-1)
    with pytest.raises(QwenASRThrottledError):
        hook.query_vocabulary(vocabulary_id)
    emulator.backend.faults.clear()
    assert len(calls(emulator, "query_vocabulary")) == 3 + hook.max_retries + 1
