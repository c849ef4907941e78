"""Property tests of the parsers: valid documents keep everything, anything else fails cleanly.

The document strategies here are also used by ``test_formats_properties.py``.
"""

# CJK punctuation and full-width letters are the point of the text strategy.
# ruff: noqa: RUF001

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_qwenasr.exceptions import QwenASRResultError
from airflow_provider_qwenasr.models import AsrTask, Transcription

# ---- strategies ---------------------------------------------------------------------------------------

#: Pieces that stress renderers: CJK, emoji, line breaks of every kind, the cue arrow, markup, long words.
TRICKY = [
    "Hello", "world", " ", "  ", "\n", "\r\n", "\n\n", "\t", "-->", "--", ">", "这里是", "阿里巴巴",
    "，", "。", "「", "」", "😀", "\U0001f469\u200d\U0001f469\u200d\U0001f467", "é", "e\u0301", "&", "<b>",
    "&amp;", "\u2028", "\x85", "\x0b", "NOTE", "1", "00:00:01,000", "supercalifragilisticexpialidocious" * 2,
    "ｆｕｌｌ", "한국어", "",
]  # fmt: skip

texts = st.one_of(
    st.lists(st.sampled_from(TRICKY), max_size=12).map("".join),
    st.text(max_size=60),
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), max_size=60),
)
#: Times up to about 300 h: well past 24 h, and inside what every subtitle reader accepts.
times = st.integers(min_value=0, max_value=2**40)
LANGUAGES = ["zh", "yue", "en", "ja", "de", "ko", "ru", "fr", "pt", "ar", "it", "es"]
EMOTIONS = ["surprised", "neutral", "happy", "sad", "disgusted", "angry", "fearful"]
#: Keys the service might add; none collides with a key the parser knows.
UNKNOWN_KEYS = st.sampled_from(["confidence", "model_version", "vendor_note", "x_flag"])

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
unknown_fields = st.dictionaries(UNKNOWN_KEYS, json_values, max_size=2)


@st.composite
def words(draw: st.DrawFn) -> dict[str, Any]:
    begin = draw(times)
    return {
        "begin_time": begin,
        "end_time": begin + draw(st.integers(0, 5000)),
        "text": draw(texts),
        "punctuation": draw(st.sampled_from(["", ",", "，", "。", ". ", "?"])),
    }


@st.composite
def sentences(draw: st.DrawFn, family: str, sentence_id: int) -> dict[str, Any]:
    sentence: dict[str, Any] = {
        "sentence_id": sentence_id,
        "begin_time": draw(times),
        # Mostly after begin, sometimes at or before it, as a glitching service might send.
        "end_time": draw(times),
        "text": draw(texts),
    }
    if draw(st.booleans()):
        sentence["end_time"] = sentence["begin_time"] + draw(st.integers(0, 60_000))
    if family == "funasr" or draw(st.booleans()):
        sentence["words"] = draw(st.lists(words(), max_size=4))
    if family == "qwen3":
        sentence["language"] = draw(st.sampled_from(LANGUAGES))
        sentence["emotion"] = draw(st.sampled_from(EMOTIONS))
    elif draw(st.booleans()):
        sentence["speaker_id"] = draw(st.integers(0, 5))
    sentence.update(draw(unknown_fields))
    return sentence


@st.composite
def result_documents(draw: st.DrawFn, family: str | None = None) -> dict[str, Any]:
    """A valid Qwen3 or Fun-ASR result document with random channels, sentences and unknown fields."""
    family = family or draw(st.sampled_from(["qwen3", "funasr"]))
    first_id = 0 if family == "qwen3" else 1
    channel_ids = draw(st.lists(st.integers(0, 7), min_size=0, max_size=3, unique=True))
    transcripts = []
    for channel_id in channel_ids:
        count = draw(st.integers(0, 6))
        items = [draw(sentences(family, first_id + i)) for i in range(count)]
        transcript: dict[str, Any] = {
            "channel_id": channel_id,
            "text": "".join(s["text"] for s in items),
            "sentences": items,
        }
        if family == "funasr":
            transcript["content_duration_in_milliseconds"] = draw(times)
        transcript.update(draw(unknown_fields))
        transcripts.append(transcript)
    document: dict[str, Any] = {"file_url": draw(st.sampled_from(["https://example.com/a.wav", "{URL}"]))}
    if family == "qwen3":
        document["audio_info"] = {"format": "wav", "sample_rate": draw(st.sampled_from([8000, 16000]))}
    else:
        document["properties"] = {
            "audio_format": "pcm_s16le",
            "channels": channel_ids,
            "original_sampling_rate": 16000,
            "original_duration_in_milliseconds": draw(times),
        }
    document["transcripts"] = transcripts
    document.update(draw(unknown_fields))
    return document


def _mutate(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """Replace some nodes of a valid document by arbitrary JSON, to reach the parsers' inner checks."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    if isinstance(value, dict):
        return {k: _mutate(draw, v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_mutate(draw, v, depth + 1) for v in value]
    return value


@st.composite
def damaged_documents(draw: st.DrawFn) -> Any:
    return _mutate(draw, draw(result_documents()))


@st.composite
def damaged_answers(draw: st.DrawFn) -> Any:
    output: dict[str, Any] = {
        "task_id": draw(st.text(max_size=8)),
        "task_status": draw(st.sampled_from(["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "SUSPENDED"])),
        "submit_time": draw(st.sampled_from(["2025-10-27 13:57:45.948", "", "bad"])),
        "result": {"transcription_url": "https://r.example/x.json?Signature=s"},
        "results": [{"file_url": "u", "transcription_url": "t", "subtask_status": "FAILED", "code": "C"}],
        "task_metrics": {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0},
    }
    body = {"request_id": "r", "output": output, "usage": {"seconds": 3, "duration": 4}}
    return _mutate(draw, body)


# ---- properties ---------------------------------------------------------------------------------------


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(result_documents())
def test_valid_documents_keep_every_sentence_and_unknown_field(document: dict[str, Any]) -> None:
    result = Transcription.from_dict(document)
    assert result.family == ("funasr" if "properties" in document else "qwen3")
    assert result.extra == {k: v for k, v in document.items() if k not in _DOCUMENT_KEYS}
    assert len(result.transcripts) == len(document["transcripts"])
    for raw_transcript, transcript in zip(document["transcripts"], result.transcripts, strict=True):
        assert transcript.channel_id == raw_transcript["channel_id"]
        assert transcript.text == raw_transcript["text"]
        assert transcript.extra == {k: v for k, v in raw_transcript.items() if k not in _TRANSCRIPT_KEYS}
        for raw, sentence in zip(raw_transcript["sentences"], transcript.sentences, strict=True):
            assert (sentence.sentence_id, sentence.begin_time, sentence.end_time, sentence.text) == (
                raw["sentence_id"],
                raw["begin_time"],
                raw["end_time"],
                raw["text"],
            )
            assert (sentence.language, sentence.emotion, sentence.speaker_id) == (
                raw.get("language"),
                raw.get("emotion"),
                raw.get("speaker_id"),
            )
            assert len(sentence.words) == len(raw.get("words", []))
            assert sentence.extra == {k: v for k, v in raw.items() if k not in _SENTENCE_KEYS}
    pairs = list(result.channel_sentences())
    assert len(pairs) == sum(len(t["sentences"]) for t in document["transcripts"])


_DOCUMENT_KEYS = {"file_url", "transcripts", "properties", "audio_info"}
_TRANSCRIPT_KEYS = {"channel_id", "text", "sentences", "content_duration_in_milliseconds"}
_SENTENCE_KEYS = {
    "sentence_id",
    "begin_time",
    "end_time",
    "text",
    "language",
    "emotion",
    "speaker_id",
    "words",
}


def _parses_or_result_error(parse: Any, value: Any) -> None:
    try:
        parse(value)
    except QwenASRResultError as error:
        message = str(error)
        assert message  # a message a user can read


@settings(max_examples=200)
@given(st.one_of(json_values, damaged_documents()))
def test_any_json_document_parses_or_raises_result_error(value: Any) -> None:
    _parses_or_result_error(Transcription.from_dict, value)


@settings(max_examples=200)
@given(st.one_of(json_values, damaged_answers()))
def test_any_json_answer_parses_or_raises_result_error(value: Any) -> None:
    _parses_or_result_error(AsrTask.from_response, value)


@settings(max_examples=100)
@given(damaged_answers())
def test_parsed_answer_summary_never_shows_a_signed_url(value: Any) -> None:
    try:
        task = AsrTask.from_response(value)
    except QwenASRResultError:
        return
    for text in (repr(task), str(task.summary())):
        assert "Signature" not in text
    if task.usage_seconds is not None:
        assert math.isfinite(task.usage_seconds)
