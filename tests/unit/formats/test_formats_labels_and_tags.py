"""String speaker labels and SenseVoice's inline tags in txt, srt, vtt and jsonl.

Subtitles are read back with the reference parsers (cdown/srt and webvtt-py).
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import srt
import webvtt

from airflow_provider_qwenasr.formats import render
from airflow_provider_qwenasr.models import Transcription
from tests.unit.models.label_documents import SENSEVOICE, STRING_SPEAKERS


def _captions(text: str) -> list[webvtt.Caption]:
    return list(webvtt.from_buffer(io.StringIO(text)).captions)


def _diarized(*speakers: Any) -> Transcription:
    sentences = [
        {"sentence_id": i + 1, "begin_time": i * 1000, "end_time": i * 1000 + 900, "text": f"Line {i}."}
        | {"speaker_id": speaker}
        for i, speaker in enumerate(speakers)
    ]
    return Transcription.from_dict(
        {"properties": {}, "transcripts": [{"channel_id": 0, "text": "", "sentences": sentences}]}
    )


# ---- speaker labels -----------------------------------------------------------------------------------


def test_string_speakers_are_distinct_in_txt() -> None:
    assert render("txt", Transcription.from_dict(STRING_SPEAKERS)) == (
        "Speaker spk0: Hello.\nSpeaker spk1: Hi.\nSpeaker spk10: Welcome.\nSpeaker spk2: Thanks. Bye.\n"
    )


def test_string_speakers_are_distinct_in_srt() -> None:
    subtitles = list(srt.parse(render("srt", Transcription.from_dict(STRING_SPEAKERS))))
    assert [s.content for s in subtitles] == [
        "Speaker spk0: Hello.",
        "Speaker spk1: Hi.",
        "Speaker spk10: Welcome.",
        "Speaker spk2: Thanks.",
        "Speaker spk2: Bye.",
    ]


def test_string_speakers_are_distinct_voices_in_vtt() -> None:
    captions = _captions(render("vtt", Transcription.from_dict(STRING_SPEAKERS)))
    assert [(c.voice, c.text) for c in captions] == [
        ("Speaker spk0", "Hello."),
        ("Speaker spk1", "Hi."),
        ("Speaker spk10", "Welcome."),
        ("Speaker spk2", "Thanks."),
        ("Speaker spk2", "Bye."),
    ]


def test_jsonl_keeps_string_speakers_as_strings() -> None:
    lines = render("jsonl", Transcription.from_dict(STRING_SPEAKERS)).splitlines()
    assert [json.loads(line)["speaker_id"] for line in lines] == ["spk0", "spk1", "spk10", "spk2", "spk2"]
    assert all("events" not in json.loads(line) for line in lines)


def test_integer_speakers_render_as_before() -> None:
    """Integer labels, byte for byte: ``Speaker N: `` in txt and srt, a vtt voice span, jsonl numbers."""
    result = _diarized(0, 1, 1, 10)
    assert render("txt", result) == "Speaker 0: Line 0.\nSpeaker 1: Line 1. Line 2.\nSpeaker 10: Line 3.\n"
    assert render("srt", result).startswith(
        "1\n00:00:00,000 --> 00:00:00,900\nSpeaker 0: Line 0.\n\n"
        "2\n00:00:01,000 --> 00:00:01,900\nSpeaker 1: Line 1."
    )
    assert render("vtt", result).startswith(
        "WEBVTT\n\n1\n00:00:00.000 --> 00:00:00.900\n<v Speaker 0>Line 0.\n"
    )
    assert render("jsonl", result).splitlines()[3].endswith('"speaker_id": 10, "words": []}')


def test_an_int_and_a_string_of_the_same_digits_are_two_turns() -> None:
    result = _diarized(1, "1")
    assert render("txt", result) == "Speaker 1: Line 0.\nSpeaker 1: Line 1.\n"
    assert [json.loads(line)["speaker_id"] for line in render("jsonl", result).splitlines()] == [1, "1"]


def test_a_string_label_cannot_break_the_subtitle_layout() -> None:
    """A label holds whatever the document says: its line breaks, arrows and markup are made legal."""
    result = _diarized("a\n\nb --> <c>&")
    assert render("txt", result) == "Speaker a b --> <c>&: Line 0.\n"
    (subtitle,) = srt.parse(render("srt", result))
    assert subtitle.content == "Speaker a b → <c>&: Line 0."
    (caption,) = _captions(render("vtt", result))
    assert "<v Speaker a b --&gt; &lt;c&gt;&amp;>Line 0." in render("vtt", result)
    assert caption.text == "Line 0."


# ---- SenseVoice tags ----------------------------------------------------------------------------------


def test_sensevoice_tags_are_stripped_from_txt() -> None:
    assert render("txt", Transcription.from_dict(SENSEVOICE)) == (
        "Hello world, this is SenseVoice.\n今天天气好棒啊。\n"
    )


def test_sensevoice_tags_are_stripped_from_srt_and_vtt() -> None:
    result = Transcription.from_dict(SENSEVOICE)
    expected = ["Hello world, this is SenseVoice.", "今天天气好棒啊。"]
    assert [s.content for s in srt.parse(render("srt", result))] == expected
    captions = _captions(render("vtt", result))
    assert [c.text for c in captions] == expected
    assert [(c.start, c.end) for c in captions] == [
        ("00:00:00.100", "00:00:03.800"),
        ("00:00:04.000", "00:00:06.000"),
    ]
    for fmt in ("txt", "srt", "vtt"):
        assert "<|" not in render(fmt, result)


def test_sensevoice_tags_become_jsonl_fields() -> None:
    records = [json.loads(line) for line in render("jsonl", Transcription.from_dict(SENSEVOICE)).splitlines()]
    assert [(r["text"], r["language"], r["emotion"], r.get("events")) for r in records] == [
        ("Hello world, this is SenseVoice.", "en", "happy", ["Speech"]),
        ("今天天气好棒啊。", "zh", "neutral", ["BGM", "Applause"]),
        ("", None, None, None),
    ]
    # events sits before words, only where a sentence had event tags.
    assert list(records[0]) == [
        *("channel_id", "sentence_id", "begin_time", "end_time", "text"),
        *("language", "emotion", "speaker_id", "events", "words"),
    ]
    assert "events" not in records[2]
    assert [w["text"] for w in records[0]["words"]] == ["Hello ", "world"]


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt", "jsonl"])
def test_sensevoice_with_string_speakers(fmt: str) -> None:
    document = json.loads(json.dumps(SENSEVOICE))
    for sentence, speaker in zip(
        document["transcripts"][0]["sentences"], ["spk1", "spk0", "spk1"], strict=True
    ):
        sentence["speaker_id"] = speaker
    output = render(fmt, Transcription.from_dict(document))
    assert "<|" not in output
    if fmt == "jsonl":
        assert [json.loads(line)["speaker_id"] for line in output.splitlines()] == ["spk1", "spk0", "spk1"]
    else:
        assert "spk1" in output
        assert "spk0" in output
