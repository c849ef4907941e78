"""Parsing DashScope's task answers and result documents into the typed models."""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_qwenasr.exceptions import QwenASRResultError
from airflow_provider_qwenasr.models import AsrTask, TaskStatus, Transcription, parse_service_time

SHARED = Path("/work/shared")
WIRE = SHARED / "wire-examples"


def wire_body(name: str) -> dict[str, Any]:
    """The ``body`` of a recorded or documented answer."""
    body: dict[str, Any] = json.loads((WIRE / f"{name}.response.json").read_text(encoding="utf-8"))["body"]
    return body


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


TASK_ANSWERS = sorted(
    p.name.removesuffix(".response.json") for p in WIRE.glob("query-*.response.json")
) + sorted(p.name.removesuffix(".response.json") for p in WIRE.glob("submit-*.response.json"))
RESULT_DOCUMENTS = [
    SHARED / "result-example.json",
    SHARED / "result-example-funasr.json",
    SHARED / "result-example-funasr-diarized.json",
    *sorted(WIRE.glob("result-*.json")),
]


def utc(text: str) -> pendulum.DateTime:
    return pendulum.parse(text, tz="UTC")  # type: ignore[return-value]


# name, status, files, succeeded files, failed files, metrics (total, succeeded, failed), usage, submit (UTC)
TASK_TABLE = [
    pytest.param(
        "query-qwen3-pending", TaskStatus.PENDING, 0, 0, 0, (1, 0, 0), None, "2025-10-27T06:19:31.150",
        id="qwen3-pending",
    ),
    pytest.param(
        "query-qwen3-running", TaskStatus.RUNNING, 0, 0, 0, (1, 0, 0), None, "2025-10-27T06:19:31.150",
        id="qwen3-running",
    ),
    pytest.param(
        "query-qwen3-succeeded", TaskStatus.SUCCEEDED, 1, 1, 0, None, 3.0, "2025-10-27T05:57:45.948",
        id="qwen3-succeeded-usage-seconds",
    ),
    pytest.param(
        "query-qwen3-failed", TaskStatus.FAILED, 0, 0, 0, None, None, "2025-10-27T07:06:06.915",
        id="qwen3-failed",
    ),
    pytest.param(
        "query-funasr-pending", TaskStatus.PENDING, 0, 0, 0, (1, 0, 0), None, "2025-02-13T08:55:08.573",
        id="funasr-pending",
    ),
    pytest.param(
        "query-funasr-running", TaskStatus.RUNNING, 0, 0, 0, (1, 0, 0), None, "2025-02-13T09:31:20.681",
        id="funasr-running",
    ),
    pytest.param(
        "query-funasr-succeeded", TaskStatus.SUCCEEDED, 1, 1, 0, (1, 1, 0), 9.0, "2024-09-12T07:11:40.041",
        id="funasr-succeeded-usage-duration",
    ),
    pytest.param(
        "query-funasr-partial-failure", TaskStatus.SUCCEEDED, 2, 1, 1, (2, 1, 1), None,
        "2024-12-16T08:30:59.170", id="funasr-partial-failure",
    ),
    pytest.param(
        "query-funasr-all-subtasks-failed", TaskStatus.SUCCEEDED, 1, 0, 1, (1, 0, 1), 9.0,
        "2024-12-16T08:30:59.170", id="funasr-all-subtasks-failed",
    ),
    pytest.param(
        "query-running.recorded", TaskStatus.RUNNING, 0, 0, 0, (4, 0, 0), None, "2024-03-01T09:38:24.817",
        id="recorded-running",
    ),
    pytest.param("query-unknown", TaskStatus.UNKNOWN, 0, 0, 0, None, None, None, id="unknown"),
    pytest.param("submit-qwen3-filetrans", TaskStatus.PENDING, 0, 0, 0, None, None, None, id="submit-qwen3"),
    pytest.param("submit-funasr", TaskStatus.PENDING, 0, 0, 0, None, None, None, id="submit-funasr"),
]  # fmt: skip


def test_task_table_covers_every_wire_example() -> None:
    assert sorted(p.values[0] for p in TASK_TABLE) == sorted(TASK_ANSWERS)


@pytest.mark.parametrize(
    ("name", "status", "files", "succeeded", "failed", "metrics", "usage", "submit"), TASK_TABLE
)
def test_task_answers_parse(
    name: str,
    status: TaskStatus,
    files: int,
    succeeded: int,
    failed: int,
    metrics: tuple[int, int, int] | None,
    usage: float | None,
    submit: str | None,
) -> None:
    body = wire_body(name)
    task = AsrTask.from_response(body)
    assert task.task_id == body["output"]["task_id"]
    assert task.request_id == body["request_id"]
    assert task.status is status
    assert task.raw_status == body["output"]["task_status"]
    assert task.is_terminal is status.is_terminal
    assert (len(task.files), len(task.succeeded_files), len(task.failed_files)) == (files, succeeded, failed)
    got = task.metrics and (task.metrics.total, task.metrics.succeeded, task.metrics.failed)
    assert got == metrics
    assert task.usage_seconds == usage
    assert task.submit_time == (utc(submit) if submit else None)
    if task.submit_time is not None:
        assert task.submit_time.utcoffset() == pendulum.duration(0)


def test_times_are_converted_from_beijing_time() -> None:
    """The recorded answer's HTTP Date (GMT) is 12.2 s after its zone-less submit_time (UTC+8)."""
    task = AsrTask.from_response(wire_body("query-running.recorded"))
    date_header = pendulum.from_format("Fri, 01 Mar 2024 09:38:37", "ddd, DD MMM YYYY HH:mm:ss", tz="UTC")
    assert task.submit_time is not None
    assert 0 < (date_header - task.submit_time).total_seconds() < 60


def test_finished_task_times() -> None:
    task = AsrTask.from_response(wire_body("query-funasr-succeeded"))
    assert task.scheduled_time == utc("2024-09-12T07:11:40.071")
    assert task.end_time == utc("2024-09-12T07:11:40.903")


def test_failed_task_carries_code_and_message() -> None:
    task = AsrTask.from_response(wire_body("query-qwen3-failed"))
    assert (task.code, task.message) == ("FILE_403_FORBIDDEN", "FILE_403_FORBIDDEN")
    assert task.summary()["code"] == "FILE_403_FORBIDDEN"


def test_failed_subtask_is_reported_per_file() -> None:
    task = AsrTask.from_response(wire_body("query-funasr-partial-failure"))
    (failed,) = task.failed_files
    assert failed.code == "InvalidFile.DownloadFailed"
    assert failed.file_url is not None
    assert failed.file_url.endswith("rich_text_exaple_1.wav")
    assert not failed.succeeded
    assert task.summary()["files"][1] == {
        "file_url": failed.file_url,
        "status": "FAILED",
        "code": "InvalidFile.DownloadFailed",
        "message": "The audio file cannot be downloaded.",
    }


def test_qwen3_result_has_no_file_url() -> None:
    (file,) = AsrTask.from_response(wire_body("query-qwen3-succeeded")).files
    assert file.file_url is None
    assert file.succeeded
    assert file.transcription_url is not None
    assert "Signature=" in file.transcription_url


@pytest.mark.parametrize("name", TASK_ANSWERS)
def test_signed_url_never_shown(name: str) -> None:
    task = AsrTask.from_response(wire_body(name))
    shown = [repr(task), str(task), json.dumps(task.summary()), *(repr(f) for f in task.files)]
    for text in shown:
        assert "transcription_url" not in text
        assert "Signature" not in text
        assert "Expires" not in text


def test_summary_is_json_safe_and_small() -> None:
    summary = AsrTask.from_response(wire_body("query-funasr-succeeded")).summary()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["asr_task_id"] == "f86ec806-4d73-485f-a24f-************"
    assert summary["status"] == "SUCCEEDED"
    assert summary["submit_time"] == "2024-09-12T07:11:40.041000+00:00"
    assert summary["usage_seconds"] == 9.0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("SUCCEEDED", TaskStatus.SUCCEEDED, id="known"),
        pytest.param("succeeded", TaskStatus.SUCCEEDED, id="lower-case"),
        pytest.param("SUSPENDED", TaskStatus.OTHER, id="added-later"),
        pytest.param("", TaskStatus.OTHER, id="empty"),
        pytest.param(None, TaskStatus.OTHER, id="none"),
        pytest.param(42, TaskStatus.OTHER, id="not-a-string"),
    ],
)
def test_status_parse(raw: object, expected: TaskStatus) -> None:
    assert TaskStatus.parse(raw) is expected


def test_status_the_service_adds_later_keeps_polling() -> None:
    body = copy.deepcopy(wire_body("query-qwen3-running"))
    body["output"]["task_status"] = "SUSPENDED"
    task = AsrTask.from_response(body)
    assert task.status is TaskStatus.OTHER
    assert not task.is_terminal
    assert task.status.is_active
    assert task.raw_status == "SUSPENDED"
    assert task.summary()["status"] == "SUSPENDED"


@pytest.mark.parametrize(
    ("status", "terminal"),
    [pytest.param(s, s in {"SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"}, id=s.value) for s in TaskStatus],
)
def test_terminal_statuses(status: TaskStatus, terminal: bool) -> None:
    assert status.is_terminal is terminal
    assert status.is_active is not terminal


def test_missing_status_is_unknown() -> None:
    task = AsrTask.from_response({"output": {"task_id": "t-1"}})
    assert task.status is TaskStatus.UNKNOWN


def test_unknown_output_fields_are_kept() -> None:
    body = copy.deepcopy(wire_body("query-qwen3-running"))
    body["output"]["progress"] = 0.5
    assert AsrTask.from_response(body).extra == {"progress": 0.5}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="empty"),
        pytest.param({"request_id": "r-1", "output": {}}, id="no-task-id"),
        pytest.param({"request_id": "r-1", "output": None}, id="output-null"),
        pytest.param({"request_id": "r-1", "output": ["x"]}, id="output-list"),
        pytest.param({"request_id": "r-1", "code": "InvalidApiKey"}, id="error-document"),
    ],
)
def test_answer_without_task_id_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(QwenASRResultError, match=r"output\.task_id") as info:
        AsrTask.from_response(body)
    assert info.value.hint


def test_refusal_carries_the_request_id() -> None:
    with pytest.raises(QwenASRResultError) as info:
        AsrTask.from_response({"request_id": "r-1", "output": {}})
    assert info.value.request_id == "r-1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2025-10-27 13:57:45.948", "2025-10-27T05:57:45.948", id="beijing-to-utc"),
        pytest.param("2025-01-01 03:00:00.000", "2024-12-31T19:00:00", id="previous-day"),
        pytest.param(" 2025-10-27 13:57:45 ", "2025-10-27T05:57:45", id="padded-no-millis"),
    ],
)
def test_parse_service_time(text: str, expected: str) -> None:
    assert parse_service_time(text) == utc(expected)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("garbage", id="garbage"),
        pytest.param("2024-13-45 00:00:00", id="impossible-date"),
        pytest.param("P1D", id="duration"),
        pytest.param(1700000000, id="number"),
    ],
)
def test_parse_service_time_gives_none_for_bad_values(value: object) -> None:
    assert parse_service_time(value) is None


# ---- result documents -------------------------------------------------------------------------------

# path, family, channels, sentences, first sentence id, languages, emotions, speakers, duration, rate
RESULT_TABLE = [
    pytest.param("result-example.json", "qwen3", 1, 2, 0, ["en"], ["happy", "neutral"], [], 17388, 16000,
                 id="qwen3-seed"),
    pytest.param("wire-examples/result-qwen3-filetrans.json", "qwen3", 1, 1, 0, ["en"], ["happy"], [], 6720,
                 16000, id="qwen3-wire"),
    pytest.param("result-example-funasr.json", "funasr", 1, 1, 1, [], [], [], 3834, 16000, id="funasr"),
    pytest.param("wire-examples/result-funasr.json", "funasr", 1, 1, 1, [], [], [], 3834, 16000,
                 id="funasr-wire"),
    pytest.param("result-example-funasr-diarized.json", "funasr", 1, 1, 1, [], [], [0], 3834, 16000,
                 id="funasr-diarized"),
    pytest.param("wire-examples/result-paraformer-diarization.json", "funasr", 1, 1, 1, [], [], [0], 3834,
                 16000, id="paraformer-diarized"),
]  # fmt: skip


def test_result_table_covers_every_example() -> None:
    listed = {SHARED / p.values[0] for p in RESULT_TABLE}
    assert listed == set(RESULT_DOCUMENTS)


@pytest.mark.parametrize(
    ("path", "family", "channels", "sentences", "first_id", "languages", "emotions", "speakers", "duration",
     "rate"),
    RESULT_TABLE,
)  # fmt: skip
def test_result_documents_parse(
    path: str,
    family: str,
    channels: int,
    sentences: int,
    first_id: int,
    languages: list[str],
    emotions: list[str],
    speakers: list[int],
    duration: int,
    rate: int,
) -> None:
    document = load(SHARED / path)
    result = Transcription.from_dict(document)
    assert result.family == family
    assert len(result.transcripts) == channels
    assert len(result.sentences) == sentences
    assert result.sentences[0].sentence_id == first_id
    assert (result.languages, result.emotions, result.speakers) == (languages, emotions, speakers)
    assert result.duration_ms == duration
    assert result.sample_rate == rate
    assert result.file_url == document["file_url"]
    assert result.characters == sum(len(t["text"]) for t in document["transcripts"])
    assert result.text == document["transcripts"][0]["text"]
    for raw, sentence in zip(document["transcripts"][0]["sentences"], result.sentences, strict=True):
        assert (sentence.begin_time, sentence.end_time, sentence.text) == (
            raw["begin_time"],
            raw["end_time"],
            raw["text"],
        )
        assert [(w.begin_time, w.end_time, w.text, w.punctuation) for w in sentence.words] == [
            (w["begin_time"], w["end_time"], w["text"], w["punctuation"]) for w in raw["words"]
        ]
    assert result.extra == {}


def test_qwen3_fields() -> None:
    result = Transcription.from_dict(load(SHARED / "result-example.json"))
    first = result.sentences[0]
    assert (result.audio_format, first.language, first.emotion, first.speaker_id) == (
        "wav",
        "en",
        "happy",
        None,
    )
    assert result.transcripts[0].content_duration_ms is None


def test_funasr_fields() -> None:
    result = Transcription.from_dict(load(SHARED / "result-example-funasr-diarized.json"))
    (transcript,) = result.transcripts
    assert result.audio_format == "pcm_s16le"
    assert transcript.content_duration_ms == 3720
    assert result.sentences[0].speaker_id == 0
    assert result.sentences[0].language is None


def test_channel_sentences_pairs_each_sentence_with_its_channel() -> None:
    document = load(SHARED / "result-example.json")
    second = copy.deepcopy(document["transcripts"][0])
    second["channel_id"] = 1
    document["transcripts"].append(second)
    pairs = list(Transcription.from_dict(document).channel_sentences())
    assert [channel for channel, _ in pairs] == [0, 0, 1, 1]
    assert Transcription.from_dict(document).text.count("\n") == 1


def test_unknown_fields_are_kept_at_every_level() -> None:
    document = load(SHARED / "result-example-funasr.json")
    document["model_version"] = "v2"
    document["transcripts"][0]["confidence"] = 0.9
    document["transcripts"][0]["sentences"][0]["vendor"] = {"a": [1]}
    result = Transcription.from_dict(document)
    assert result.extra == {"model_version": "v2"}
    assert result.transcripts[0].extra == {"confidence": 0.9}
    assert result.sentences[0].extra == {"vendor": {"a": [1]}}


def test_empty_document_is_an_empty_transcription() -> None:
    result = Transcription.from_dict({})
    assert (result.family, result.transcripts, result.duration_ms, result.characters) == (
        "qwen3",
        (),
        None,
        0,
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param([], "not a JSON object", id="list"),
        pytest.param("text", "not a JSON object", id="string"),
        pytest.param(None, "not a JSON object", id="null"),
        pytest.param({"transcripts": {}}, "'transcripts' is not a list", id="transcripts-object"),
        pytest.param(
            {"transcripts": [1]}, "transcript in the result is not an object", id="transcript-number"
        ),
        pytest.param(
            {"transcripts": [{"sentences": "x"}]}, "sentences are not a list", id="sentences-string"
        ),
        pytest.param({"transcripts": [{"sentences": [1]}]}, "no begin_time/end_time", id="sentence-number"),
        pytest.param(
            {"transcripts": [{"sentences": [{"begin_time": 1, "text": "a"}]}]},
            "no begin_time/end_time",
            id="sentence-without-end",
        ),
    ],
)
def test_malformed_documents_are_refused(document: object, message: str) -> None:
    with pytest.raises(QwenASRResultError, match=message):
        Transcription.from_dict(document)


# ---- regression guards: malformed answers raise QwenASRResultError (or are ignored), nothing else ----


@pytest.mark.parametrize("body", [pytest.param([], id="list"), pytest.param("x", id="string")])
def test_answer_that_is_not_an_object_is_refused(body: object) -> None:
    with pytest.raises(QwenASRResultError):
        AsrTask.from_response(body)  # type: ignore[arg-type]


def test_results_that_are_not_a_list_are_refused_or_ignored() -> None:
    with contextlib.suppress(QwenASRResultError):
        AsrTask.from_response({"output": {"task_id": "t", "task_status": "SUCCEEDED", "results": 5}})


def test_words_that_are_not_a_list_are_refused_or_ignored() -> None:
    document = {"transcripts": [{"sentences": [{"begin_time": 1, "end_time": 2, "words": 5}]}]}
    with contextlib.suppress(QwenASRResultError):
        Transcription.from_dict(document)


def test_infinite_time_is_refused() -> None:
    """``json.loads`` accepts ``Infinity``; ``int(float('inf'))`` raises OverflowError, not caught by _int."""
    document = json.loads('{"transcripts": [{"sentences": [{"begin_time": Infinity, "end_time": 2}]}]}')
    with pytest.raises(QwenASRResultError):
        Transcription.from_dict(document)
