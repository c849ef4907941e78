"""The models served (the provider's model table), submits without parameters, qwen-audio and
SenseVoice answers, speaker labels, the submit quota, and the error codes the emulator may answer."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_qwenasr._api.catalog import FAMILIES, family_of
from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.emulator.testing import dashscope_headers, running_emulator, shape_differences

SHARED = Path(__file__).resolve().parents[3] / "shared"
WIRE = SHARED / "wire-examples"
QWEN_AUDIO = "qwen-audio-3.1-asr-flash-filetrans"
EMOTIONS = {"surprised", "neutral", "happy", "sad", "disgusted", "angry", "fearful"}
TAG = re.compile(r"<\|[^|]+\|>")
ALL_MODELS = [model for family in FAMILIES for model in family.models]


def shared(name: str) -> Any:
    return json.loads((SHARED / name).read_text(encoding="utf-8"))


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with running_emulator(pending_seconds=1, running_seconds=1) as server:
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def body_for(model: str, *urls: str, **parameters: Any) -> dict[str, Any]:
    """A submit body in the input shape the model table gives the model's family."""
    family = family_of(model)
    assert family is not None
    urls = urls or ("https://example.com/a.wav",)
    payload: dict[str, Any] = (
        {"file_url": urls[0]} if family.input_field == "file_url" else {"file_urls": list(urls)}
    )
    return {"model": model, "input": payload, "parameters": parameters}


def submit(
    http: requests.Session, server: EmulatorServer, body: Any, key: str = "sk-emulator"
) -> requests.Response:
    return http.post(
        f"{server.base_url}/services/audio/asr/transcription",
        json=body,
        headers=dashscope_headers(key, submit=True),
    )


def finished(http: requests.Session, server: EmulatorServer, body: Any) -> dict[str, Any]:
    answer = submit(http, server, body)
    assert answer.status_code == 200, answer.text
    server.backend.clock.advance(3)
    task_id = answer.json()["output"]["task_id"]
    return dict(http.get(f"{server.base_url}/tasks/{task_id}", headers=dashscope_headers()).json())


def documents(http: requests.Session, answer: dict[str, Any]) -> list[dict[str, Any]]:
    output = answer["output"]
    urls = (
        [output["result"]["transcription_url"]]
        if "result" in output
        else [r["transcription_url"] for r in output["results"]]
    )
    return [http.get(url).json() for url in urls]


# -- the models ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ALL_MODELS)
def test_every_model_of_the_table_is_served(
    http: requests.Session, emulator: EmulatorServer, model: str
) -> None:
    done = finished(http, emulator, body_for(model))
    assert done["output"]["task_status"] == "SUCCEEDED"
    family = family_of(model)
    assert family is not None
    assert ("result" in done["output"]) == (family.answer == "result")
    assert ("results" in done["output"]) == (family.answer == "results")
    [document] = documents(http, done)
    assert ("audio_info" in document) == (family.result_format == "qwen3")
    assert ("properties" in document) == (family.result_format == "funasr")


@pytest.mark.parametrize(
    "model",
    [
        "qwen3-asr-flash-filetrans-2025-11-17",
        "fun-asr-2025-11-07",
        "fun-asr-mtl-2025-08-25",
        f"{QWEN_AUDIO}-2026-01-01",
    ],
)
def test_dated_versions_are_served(http: requests.Session, emulator: EmulatorServer, model: str) -> None:
    done = finished(http, emulator, body_for(model))
    assert done["output"]["task_status"] == "SUCCEEDED"
    listed = http.get(f"{emulator.base_url}/tasks", headers=dashscope_headers()).json()
    assert listed["data"][0]["model_name"] == model  # the model as submitted


@pytest.mark.parametrize(
    "model",
    [
        "qwen3-asr-flash-filetrans-latest",
        "qwen3-asr-flash-filetrans-20251117",
        "fun-asr-realtime",
        "fun-asr-2025",
        "qwen3-asr-flash",
        "Fun-ASR",
        " fun-asr",
        "paraformer-v3",
        "speech-biasing",
        "whisper-9",
        7,
    ],
)
def test_anything_else_is_model_not_exist(
    http: requests.Session, emulator: EmulatorServer, model: Any
) -> None:
    answer = submit(
        http, emulator, {"model": model, "input": {"file_urls": ["https://e.com/a.wav"]}, "parameters": {}}
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "InvalidParameter"
    assert answer.json()["message"] == "Model not exist."


@pytest.mark.parametrize("model", ["qwen3-asr-flash-filetrans", "fun-asr", QWEN_AUDIO, "sensevoice-v1"])
def test_a_submit_without_parameters_is_accepted(
    http: requests.Session, emulator: EmulatorServer, model: str
) -> None:
    body = body_for(model)
    del body["parameters"]
    done = finished(http, emulator, body)
    assert done["output"]["task_status"] == "SUCCEEDED"
    [entry] = emulator.backend.requests.entries("submit")
    assert "parameters" not in entry["body"]
    assert documents(http, done)[0]["transcripts"][0]["channel_id"] == 0  # the defaults


def test_null_parameters_are_none(http: requests.Session, emulator: EmulatorServer) -> None:
    assert submit(http, emulator, {**body_for("fun-asr"), "parameters": None}).status_code == 200


def test_file_limits_come_from_the_table_and_the_config_overrides_them(
    http: requests.Session, emulator: EmulatorServer
) -> None:
    two = ("https://e.com/a.wav", "https://e.com/b.wav")
    refused = submit(http, emulator, body_for(QWEN_AUDIO, *two))  # the table: one file a task
    assert refused.status_code == 400
    assert "the limit is 1" in refused.json()["message"]
    assert submit(http, emulator, body_for("fun-asr", *["https://e.com/a.wav"] * 100)).status_code == 200
    assert submit(http, emulator, body_for("fun-asr", *["https://e.com/a.wav"] * 101)).status_code == 400
    emulator.backend.update_config({"max_files_per_model": {QWEN_AUDIO: 2}})
    assert submit(http, emulator, body_for(QWEN_AUDIO, *two)).status_code == 200
    assert (
        submit(http, emulator, body_for(f"{QWEN_AUDIO}-2026-01-01", *two)).status_code == 200
    )  # undated name
    emulator.backend.update_config(
        {"max_files_per_model": {"fun-asr-2025-11-07": 1}, "max_files_per_task": 3}
    )
    assert submit(http, emulator, body_for("fun-asr-2025-11-07", *two)).status_code == 400  # the dated name
    assert submit(http, emulator, body_for("fun-asr", *two)).status_code == 200
    assert submit(http, emulator, body_for(QWEN_AUDIO, *two)).status_code == 200  # max_files_per_task: 3
    assert submit(http, emulator, body_for("paraformer-v2", *["https://e.com/a.wav"] * 4)).status_code == 400
    emulator.backend.update_config({"max_files_per_task": None})
    assert submit(http, emulator, body_for(QWEN_AUDIO, *two)).status_code == 400


# -- qwen-audio ------------------------------------------------------------------------------------


def test_qwen_audio_answers_results_like_fun_asr(http: requests.Session, emulator: EmulatorServer) -> None:
    request = json.loads((WIRE / "submit-qwen-audio-3.1.sdk-request.json").read_text(encoding="utf-8"))[
        "body"
    ]
    done = finished(http, emulator, request)
    example = json.loads((WIRE / "query-funasr-succeeded.response.json").read_text(encoding="utf-8"))["body"]
    assert not shape_differences(done, example)
    assert done["output"]["results"][0]["file_url"] == "https://example.com/a.wav"
    assert done["usage"]["duration"] > 0


def test_qwen_audio_result_files_read_like_qwen3(http: requests.Session, emulator: EmulatorServer) -> None:
    url = "https://example.com/talk.wav?audio_seconds=30"
    [document] = documents(http, finished(http, emulator, body_for(QWEN_AUDIO, url, enable_words=True)))
    assert not shape_differences(document, shared("result-example.json"))
    assert not shape_differences(document, shared("wire-examples/result-qwen3-filetrans.json"))
    sentences = document["transcripts"][0]["sentences"]
    assert [s["sentence_id"] for s in sentences] == list(range(len(sentences)))
    assert {s["emotion"] for s in sentences} <= EMOTIONS
    assert all(s["language"] for s in sentences)
    assert document["file_url"] == url
    [plain] = documents(http, finished(http, emulator, body_for(QWEN_AUDIO, url + "&x=1")))
    assert all("words" not in s for s in plain["transcripts"][0]["sentences"])


def test_qwen_audio_takes_language_hints(http: requests.Session, emulator: EmulatorServer) -> None:
    url = "https://example.com/talk.wav?audio_seconds=40"
    [document] = documents(http, finished(http, emulator, body_for(QWEN_AUDIO, url, language_hints=["ja"])))
    assert {s["language"] for s in document["transcripts"][0]["sentences"]} == {"ja"}


def test_qwen_audio_failures_are_per_file(http: requests.Session, emulator: EmulatorServer) -> None:
    done = finished(http, emulator, body_for(QWEN_AUDIO, "https://example.com/a.wav?fail=FILE_404_NOT_FOUND"))
    output = done["output"]
    assert output["task_status"] == "FAILED"
    assert output["results"][0] == {
        "file_url": "https://example.com/a.wav?fail=FILE_404_NOT_FOUND",
        "code": "FILE_404_NOT_FOUND",
        "message": "FILE_404_NOT_FOUND",
        "subtask_status": "FAILED",
    }
    oss = finished(http, emulator, body_for(QWEN_AUDIO, "oss://dashscope-instant/nope/a.wav"))
    assert oss["output"]["results"][0]["code"] == "FILE_DOWNLOAD_FAILED"


# -- SenseVoice and speakers -----------------------------------------------------------------------


def test_sensevoice_texts_carry_inline_tags(http: requests.Session, emulator: EmulatorServer) -> None:
    from airflow_provider_qwenasr.models._tags import read_tags

    url = "https://example.com/show.wav?audio_seconds=90"
    [document] = documents(
        http, finished(http, emulator, body_for("sensevoice-v1", url, language_hints=["en"]))
    )
    assert not shape_differences(document, shared("result-example-funasr.json"))
    transcript = document["transcripts"][0]
    sentences = transcript["sentences"]
    assert len(sentences) >= 3
    events = set()
    for sentence in sentences:
        text = sentence["text"]
        match = re.match(r"^<\|en\|><\|([A-Z]+)\|><\|([A-Za-z]+)\|>(.+)<\|/\2\|>$", text)
        assert match, text
        assert match[1].lower() in EMOTIONS
        events.add(match[2])
        tagged = read_tags(text)
        assert tagged.language == "en"
        assert tagged.emotion == match[1].lower()
        assert tagged.events == (match[2],)
        assert not TAG.search(tagged.text)
        # The words carry no tags; they spell the sentence's clean text.
        assert "".join(w["text"] + w["punctuation"] for w in sentence["words"]).strip() == tagged.text
        assert text in transcript["text"]
    assert "Speech" in events
    assert "language" not in sentences[0]
    assert "emotion" not in sentences[0]


def test_other_fun_asr_families_carry_no_tags(http: requests.Session, emulator: EmulatorServer) -> None:
    for model in ("fun-asr", "paraformer-v2"):
        [document] = documents(
            http, finished(http, emulator, body_for(model, f"https://example.com/{model}.wav"))
        )
        assert not any(TAG.search(s["text"]) for s in document["transcripts"][0]["sentences"])


def test_speaker_ids_are_integers_or_spk_strings(http: requests.Session, emulator: EmulatorServer) -> None:
    url = "https://example.com/meeting.wav?audio_seconds=120"
    parameters = {"diarization_enabled": True, "speaker_count": 2}
    [numbered] = documents(http, finished(http, emulator, body_for("fun-asr", url, **parameters)))
    assert {s["speaker_id"] for s in numbered["transcripts"][0]["sentences"]} == {0, 1}
    assert not shape_differences(numbered, shared("result-example-funasr-diarized.json"))

    changed = requests.post(f"{emulator.root_url}/emulator-api/config", json={"speaker_id_style": "spk"})
    assert changed.json()["speaker_id_style"] == "spk"
    [named] = documents(http, finished(http, emulator, body_for("paraformer-v2", url, **parameters)))
    assert {s["speaker_id"] for s in named["transcripts"][0]["sentences"]} == {"spk0", "spk1"}
    bad = requests.post(f"{emulator.root_url}/emulator-api/config", json={"speaker_id_style": "letters"})
    assert bad.status_code == 400


def test_the_speaker_style_is_fixed_at_submit(http: requests.Session, emulator: EmulatorServer) -> None:
    body = body_for("fun-asr", "https://example.com/m.wav?audio_seconds=60", diarization_enabled=True)
    done = finished(http, emulator, body)
    emulator.backend.update_config({"speaker_id_style": "spk"})  # later than the submit
    [document] = documents(http, done)
    assert all(isinstance(s["speaker_id"], int) for s in document["transcripts"][0]["sentences"])


# -- the submit quota ------------------------------------------------------------------------------


def test_qwen_audio_submits_are_limited_to_600_a_minute(http: requests.Session) -> None:
    with running_emulator(api_keys=("sk-a", "sk-b")) as server:
        statuses = [submit(http, server, body_for(QWEN_AUDIO), "sk-a").status_code for _ in range(600)]
        assert statuses == [200] * 600  # the documented quota, in a burst: then none within the minute
        throttled = submit(http, server, body_for(QWEN_AUDIO), "sk-a")
        assert throttled.status_code == 429
        assert throttled.json()["code"] == "Throttling.RateQuota"
        assert throttled.json()["message"] == "Requests rate limit exceeded, please try again later."
        assert "Retry-After" not in throttled.headers
        assert (
            submit(http, server, body_for(f"{QWEN_AUDIO}-2026-01-01"), "sk-a").status_code == 429
        )  # per family
        assert submit(http, server, body_for(QWEN_AUDIO), "sk-b").status_code == 200  # per key
        assert submit(http, server, body_for("fun-asr"), "sk-a").status_code == 200  # no documented quota
        assert server.backend.task_count() == 602
        stats = requests.get(f"{server.root_url}/emulator-api/stats").json()
        assert stats["throttled"] == {"submit": 2}


def test_the_submit_rate_knob_limits_every_model(http: requests.Session, emulator: EmulatorServer) -> None:
    assert requests.get(f"{emulator.root_url}/emulator-api/config").json()["submit_per_second"] == 0
    for _ in range(30):  # off by default: no limit on Fun-ASR
        assert submit(http, emulator, body_for("fun-asr")).status_code == 200
    requests.post(f"{emulator.root_url}/emulator-api/config", json={"submit_per_second": 2})
    statuses = [submit(http, emulator, body_for("fun-asr")).status_code for _ in range(10)]
    assert statuses[:2] == [200, 200]
    assert statuses.count(429) >= 6
    # Each family has its own bucket.
    assert submit(http, emulator, body_for("qwen3-asr-flash-filetrans")).status_code == 200
    time.sleep(0.6)
    assert submit(http, emulator, body_for("fun-asr")).status_code == 200
    emulator.backend.update_config({"submit_per_second": 0})
    assert [submit(http, emulator, body_for("fun-asr")).status_code for _ in range(10)] == [200] * 10


def test_a_bad_submit_is_refused_before_the_quota(http: requests.Session, emulator: EmulatorServer) -> None:
    emulator.backend.update_config({"submit_per_second": 1})
    assert (
        submit(http, emulator, {"model": "nope", "input": {"file_urls": ["https://e.com/a"]}}).status_code
        == 400
    )
    assert submit(http, emulator, body_for("fun-asr")).status_code == 200


# -- error codes -----------------------------------------------------------------------------------

#: Every code dashscope-api.md section 5 lists.
DOCUMENTED = {
    "InvalidParameter",
    "BadRequest.EmptyInput",
    "BadRequest.EmptyParameters",
    "BadRequest.EmptyModel",
    "InvalidURL",
    "DataInspectionFailed",
    "Arrearage",
    "UnsupportedOperation",
    "InvalidApiKey",
    "AccessDenied",
    "AccessDenied.Unpurchased",
    "Workspace.AccessDenied",
    "Model.AccessDenied",
    "ModelNotFound",
    "BadRequest.TooLarge",
    "BadRequest.InputDownloadFailed",
    "BadRequest.UnsupportedFileFormat",
    "Throttling",
    "Throttling.RateQuota",
    "Throttling.AllocationQuota",
    "InternalError",
    "InternalError.Algo",
    "InternalError.Timeout",
    "SystemError",
    "ModelUnavailable",
    "ServiceUnavailable",
    "GatewayTimeout",
}


def test_the_emulator_answers_only_documented_codes(http: requests.Session, emulator: EmulatorServer) -> None:
    from airflow_provider_qwenasr.emulator.errors import DEFAULT_ERRORS, default_error

    assert {code for code, _ in DEFAULT_ERRORS.values()} <= DOCUMENTED
    assert {default_error(status)[0] for status in (402, 405, 409, 418, 422, 451, 507)} <= DOCUMENTED
    unknown_path = http.get(f"{emulator.base_url}/nope", headers=dashscope_headers())
    assert unknown_path.status_code == 404
    assert unknown_path.json()["code"] in DOCUMENTED
    seen = {
        submit(http, emulator, body).json().get("code")
        for body in (
            {},
            {"model": "fun-asr"},
            {"model": "fun-asr", "input": {"file_urls": ["ftp://e.com/a"]}},
            {"model": "fun-asr", "input": {"file_urls": ["https://e.com/a"]}, "parameters": []},
        )
    }
    assert seen <= DOCUMENTED
