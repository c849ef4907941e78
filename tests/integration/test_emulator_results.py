"""Result documents and their signed URLs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.emulator.testing import dashscope_headers, running_emulator, shape_differences

SHARED = Path(__file__).resolve().parents[3] / "shared"
QWEN3 = "qwen3-asr-flash-filetrans"
LANGUAGES = {"zh", "yue", "en", "ja", "de", "ko", "ru", "fr", "pt", "ar", "it", "es", "hi", "id", "th", "tr"}
LANGUAGES |= {"uk", "vi", "cs", "da", "fil", "fi", "is", "ms", "no", "pl", "sv"}
EMOTIONS = {"surprised", "neutral", "happy", "sad", "disgusted", "angry", "fearful"}


def shared(name: str) -> Any:
    return json.loads((SHARED / name).read_text(encoding="utf-8"))


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with running_emulator(pending_seconds=1, running_seconds=1) as server:
        yield server


def finished(server: EmulatorServer, body: dict[str, Any]) -> dict[str, Any]:
    """Submit, move the clock past the end, and return the query answer."""
    answer = requests.post(
        f"{server.base_url}/services/audio/asr/transcription",
        json=body,
        headers=dashscope_headers(submit=True),
    )
    assert answer.status_code == 200, answer.text
    server.backend.clock.advance(3)
    task_id = answer.json()["output"]["task_id"]
    return requests.get(f"{server.base_url}/tasks/{task_id}", headers=dashscope_headers()).json()


def qwen3_result(server: EmulatorServer, url: str, **parameters: Any) -> dict[str, Any]:
    body = {"model": QWEN3, "input": {"file_url": url}, "parameters": parameters}
    answer = requests.get(finished(server, body)["output"]["result"]["transcription_url"])
    assert answer.status_code == 200
    return answer.json()


def funasr_results(server: EmulatorServer, *urls: str, **parameters: Any) -> list[dict[str, Any]]:
    body = {"model": "fun-asr", "input": {"file_urls": list(urls)}, "parameters": parameters}
    return [requests.get(r["transcription_url"]).json() for r in finished(server, body)["output"]["results"]]


def check_timeline(sentences: list[dict[str, Any]], audio_ms: int) -> None:
    previous_end = 0
    for sentence in sentences:
        assert previous_end <= sentence["begin_time"] < sentence["end_time"] <= audio_ms
        previous_end = sentence["end_time"]
        for word in sentence.get("words", []):
            assert sentence["begin_time"] <= word["begin_time"] < word["end_time"] <= sentence["end_time"]


def test_qwen3_result_with_words(emulator: EmulatorServer) -> None:
    document = qwen3_result(emulator, "https://example.com/talk.wav?audio_seconds=30", enable_words=True)
    assert not shape_differences(document, shared("result-example.json"))
    assert not shape_differences(document, shared("wire-examples/result-qwen3-filetrans.json"))
    transcript = document["transcripts"][0]
    sentences = transcript["sentences"]
    assert [s["sentence_id"] for s in sentences] == list(range(len(sentences)))
    assert len(sentences) >= 2
    assert {s["language"] for s in sentences} <= LANGUAGES
    assert {s["emotion"] for s in sentences} <= EMOTIONS
    check_timeline(sentences, 30_000)
    for sentence in sentences:
        words = "".join(w["text"] + w["punctuation"] for w in sentence["words"])
        assert words == sentence["text"]
        assert sentence["text"] in transcript["text"]


def test_qwen3_words_only_when_asked(emulator: EmulatorServer) -> None:
    document = qwen3_result(emulator, "https://example.com/talk.wav?audio_seconds=20")
    assert all("words" not in s for s in document["transcripts"][0]["sentences"])


def test_qwen3_language_parameter_and_channels(emulator: EmulatorServer) -> None:
    url = "https://example.com/call.mp3?audio_seconds=20"
    document = qwen3_result(emulator, url, language="en", channel_id=[0, 1])
    assert [t["channel_id"] for t in document["transcripts"]] == [0, 1]
    assert document["audio_info"]["format"] == "mp3"
    for transcript in document["transcripts"]:
        assert {s["language"] for s in transcript["sentences"]} == {"en"}
    assert document["transcripts"][0]["text"] != document["transcripts"][1]["text"]


def test_funasr_result_shape(emulator: EmulatorServer) -> None:
    [document] = funasr_results(emulator, "https://example.com/a.wav?audio_seconds=25")
    assert not shape_differences(document, shared("result-example-funasr.json"))
    transcript = document["transcripts"][0]
    sentences = transcript["sentences"]
    assert [s["sentence_id"] for s in sentences] == list(range(1, len(sentences) + 1))
    assert document["properties"]["original_duration_in_milliseconds"] == 25_000
    assert transcript["content_duration_in_milliseconds"] == sum(
        s["end_time"] - s["begin_time"] for s in sentences
    )
    check_timeline(sentences, 25_000)
    assert all(s["words"] for s in sentences)


def test_funasr_diarization_respects_speaker_count(emulator: EmulatorServer) -> None:
    url = "https://example.com/meeting.wav?audio_seconds=120"
    [document] = funasr_results(emulator, url, diarization_enabled=True, speaker_count=2)
    assert not shape_differences(document, shared("result-example-funasr-diarized.json"))
    assert {s["speaker_id"] for s in document["transcripts"][0]["sentences"]} == {0, 1}


def test_funasr_language_hints(emulator: EmulatorServer) -> None:
    [document] = funasr_results(emulator, "https://example.com/a.wav?audio_seconds=40", language_hints=["zh"])
    text = document["transcripts"][0]["text"]
    assert text
    assert all(not ch.isascii() or ch.isspace() for ch in text)


def test_documents_are_deterministic_per_url(emulator: EmulatorServer) -> None:
    first = qwen3_result(emulator, "https://example.com/same.wav", enable_words=True)
    second = qwen3_result(emulator, "https://example.com/same.wav", enable_words=True)
    other = qwen3_result(emulator, "https://example.com/other.wav", enable_words=True)
    assert first == second
    assert first["transcripts"] != other["transcripts"]


def test_result_url_is_signed_and_stable(emulator: EmulatorServer) -> None:
    body = {"model": QWEN3, "input": {"file_url": "https://example.com/a.wav"}, "parameters": {}}
    answer = finished(emulator, body)
    url = answer["output"]["result"]["transcription_url"]
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"Expires", "OSSAccessKeyId", "Signature"}
    task_id = answer["output"]["task_id"]
    emulator.backend.clock.advance(3600)
    again = requests.get(f"{emulator.base_url}/tasks/{task_id}", headers=dashscope_headers()).json()
    assert again["output"]["result"]["transcription_url"] == url  # not renewed
    assert requests.get(url, headers={}).status_code == 200


def test_result_url_expires_a_day_after_the_end(emulator: EmulatorServer) -> None:
    body = {"model": QWEN3, "input": {"file_url": "https://example.com/a.wav"}, "parameters": {}}
    url = finished(emulator, body)["output"]["result"]["transcription_url"]
    expires = int(parse_qs(urlsplit(url).query)["Expires"][0])
    assert expires - emulator.backend.clock.now() == pytest.approx(24 * 3600, abs=5)
    emulator.backend.clock.advance(24 * 3600 + 10)
    answer = requests.get(url)
    assert answer.status_code == 403
    assert answer.headers["Content-Type"] == "application/xml"
    assert "<Code>AccessDenied</Code>" in answer.text
    assert "<Message>Request has expired.</Message>" in answer.text


@pytest.mark.parametrize("part", ["Signature", "Expires", "path"])
def test_altered_result_url_is_refused(emulator: EmulatorServer, part: str) -> None:
    body = {"model": QWEN3, "input": {"file_url": "https://example.com/a.wav"}, "parameters": {}}
    url = finished(emulator, body)["output"]["result"]["transcription_url"]
    split = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(split.query).items()}
    path = split.path
    if part == "Signature":
        query["Signature"] = (
            "A" + query["Signature"][1:] if query["Signature"][0] != "A" else "B" + query["Signature"][1:]
        )
    elif part == "Expires":
        query["Expires"] = str(int(query["Expires"]) + 3600)
    else:
        path = path.replace("-0.json", "-1.json")
    answer = requests.get(f"{split.scheme}://{split.netloc}{path}", params=query)
    assert answer.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in answer.text


def test_large_result_streams_with_content_length(emulator: EmulatorServer) -> None:
    """Ten hours of audio with words: a document of several MB, read in chunks."""
    body = {
        "model": QWEN3,
        "input": {"file_url": "https://example.com/long.wav?audio_seconds=36000"},
        "parameters": {"enable_words": True},
    }
    answer = finished(emulator, body)
    assert answer["usage"] == {"seconds": 36000}
    with requests.get(answer["output"]["result"]["transcription_url"], stream=True) as response:
        assert response.status_code == 200
        length = int(response.headers["Content-Length"])
        received = bytearray()
        for chunk in response.iter_content(1 << 20):
            received += chunk
    assert length == len(received) > 5_000_000
    document = json.loads(received)
    sentences = document["transcripts"][0]["sentences"]
    assert sentences[-1]["end_time"] > 35_000_000
    check_timeline(sentences, 36_000_000)


def test_failed_file_has_no_result_url(emulator: EmulatorServer) -> None:
    body = {
        "model": QWEN3,
        "input": {"file_url": "https://example.com/a.wav?fail=DECODE_ERROR"},
        "parameters": {},
    }
    answer = finished(emulator, body)
    assert answer["output"]["code"] == "DECODE_ERROR"
    assert "result" not in answer["output"]
    assert "usage" not in answer


def test_results_directory_is_removed_on_stop() -> None:
    with running_emulator(pending_seconds=0, running_seconds=0) as server:
        body = {"model": QWEN3, "input": {"file_url": "https://example.com/a.wav"}, "parameters": {}}
        url = finished(server, body)["output"]["result"]["transcription_url"]
        requests.get(url).raise_for_status()
        data_dir = server.data_dir
        assert any(data_dir.rglob("*.json"))
    assert not data_dir.exists()
