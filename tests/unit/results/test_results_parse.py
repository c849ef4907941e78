"""The streaming result parser: the same figures as ``Transcription.from_dict``, in bounded memory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_qwenasr.exceptions import QwenASRResultError
from airflow_provider_qwenasr.models import Transcription
from airflow_provider_qwenasr.results.parse import ResultJSONError, iter_entries, scan_result

SHARED = Path("/work/shared")
EXAMPLES = sorted(SHARED.glob("result-example*.json")) + sorted(SHARED.glob("wire-examples/result-*.json"))


def _expected(document: Any) -> dict[str, Any]:
    model = Transcription.from_dict(document)
    return {
        "file_url": model.file_url,
        "family": model.family,
        "duration_ms": model.duration_ms,
        "languages": model.languages,
        "emotions": model.emotions,
        "speakers": model.speakers,
        "characters": model.characters,
        "sentence_count": len(model.sentences),
        "channels": [(t.channel_id, len(t.text), len(t.sentences)) for t in model.transcripts],
        "text": model.text,
        "entries": list(model.channel_sentences()),
    }


def _streamed(path: Path) -> dict[str, Any]:
    stats = scan_result(path, text_limit=1 << 30)
    return {
        "file_url": stats.file_url,
        "family": stats.family,
        "duration_ms": stats.duration_ms,
        "languages": stats.languages,
        "emotions": stats.emotions,
        "speakers": stats.speakers,
        "characters": stats.characters,
        "sentence_count": stats.sentence_count,
        "channels": [(c.channel_id, c.characters, c.sentence_count) for c in stats.channels],
        "text": stats.text,
        "entries": list(iter_entries(path, stats)),
    }


def _write(tmp_path: Path, document: Any, name: str = "doc.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_documented_examples_match_the_model(example: Path) -> None:
    """Every documented result gives the model's statistics and sentences."""
    assert _streamed(example) == _expected(json.loads(example.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("family", "parameters"),
    [
        ("qwen3", {"enable_words": True, "channel_id": [0, 1]}),
        ("funasr", {"diarization_enabled": True, "speaker_count": 3}),
        ("funasr", {"language_hints": ["zh"], "channel_id": [1, 0, 2]}),
    ],
    ids=["qwen3-two-channels", "funasr-diarized", "funasr-cjk-three-channels"],
)
def test_generated_long_documents_match_the_model(tmp_path: Path, family: str, parameters: dict) -> None:
    """Emulator-generated documents of a few MB (words, channels, speakers) match the model."""
    from airflow_provider_qwenasr.emulator.hints import audio_facts
    from airflow_provider_qwenasr.emulator.results import channel_ids, write_result

    url = "https://audio.test/long.wav?audio_seconds=6000"
    path = tmp_path / "long.json"
    facts = audio_facts(
        url, "fun-asr" if family == "funasr" else "qwen3-asr-flash-filetrans", channel_ids(parameters)
    )
    write_result(path, family, url, facts, parameters)
    assert path.stat().st_size > 1_000_000
    assert _streamed(path) == _expected(json.loads(path.read_text(encoding="utf-8")))


def test_text_is_kept_only_under_the_limit(tmp_path: Path) -> None:
    """The text for XCom stops being collected past its limit, and says so."""
    path = SHARED / "result-example.json"
    full = scan_result(path, text_limit=10_000)
    assert full.text == Transcription.from_dict(json.loads(path.read_text())).text
    assert not full.text_over_limit
    small = scan_result(path, text_limit=10)
    assert small.text is None
    assert small.text_over_limit
    assert scan_result(path).text is None


def test_an_empty_transcript_is_a_valid_empty_result(tmp_path: Path) -> None:
    """No sentences: zero figures, and no entries."""
    path = _write(
        tmp_path,
        {"file_url": "https://a.test/x.wav", "transcripts": [{"channel_id": 0, "text": "", "sentences": []}]},
    )
    stats = scan_result(path)
    assert (stats.sentence_count, stats.characters, stats.duration_ms) == (0, 0, None)
    assert [c.summary() for c in stats.channels] == [{"channel_id": 0, "characters": 0, "sentence_count": 0}]
    assert list(iter_entries(path, stats)) == []


def test_channel_id_after_the_sentences_is_still_used(tmp_path: Path) -> None:
    """Key order inside a transcript does not matter."""
    document = {
        "transcripts": [
            {"sentences": [{"begin_time": 0, "end_time": 5, "text": "a"}], "text": "a", "channel_id": 3},
        ]
    }
    path = _write(tmp_path, document)
    assert [c for c, _ in iter_entries(path, scan_result(path))] == [3]


def test_dotted_keys_use_the_exact_walk(tmp_path: Path) -> None:
    """A key that collides with ijson's prefixes does not confuse the sentence stream."""
    document = {
        "transcripts.item": {"sentences": [{"begin_time": 9, "end_time": 9}]},
        "transcripts": [
            {
                "channel_id": 1,
                "sentences.item": {"x": 1},
                "text": "hi",
                "sentences": [{"begin_time": 1, "end_time": 2, "text": "hi"}],
            }
        ],
    }
    path = _write(tmp_path, document)
    stats = scan_result(path)
    assert stats.exact_walk
    assert _streamed(path) == _expected(document)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", ResultJSONError),
        (b'{"transcripts": [{"channel_id": 0, "sentences": [', ResultJSONError),
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", ResultJSONError),
        (b'{"transcripts": []} trailing', ResultJSONError),
        (b'{"transcripts": [{"sentences": [{"begin_time": NaN, "end_time": 1}]}]}', ResultJSONError),
        (b"[1, 2]", QwenASRResultError),
        (b'{"transcripts": {"a": 1}}', QwenASRResultError),
        (b'{"transcripts": [1]}', QwenASRResultError),
        (b'{"transcripts": [{"sentences": {"a": 1}}]}', QwenASRResultError),
        (b'{"transcripts": [{"sentences": [{"begin_time": 1}]}]}', QwenASRResultError),
        (b'{"transcripts": [{"sentences": ["x"]}]}', QwenASRResultError),
        (b'{"transcripts": [], "transcripts": []}', QwenASRResultError),
    ],
    ids=[
        "empty",
        "truncated",
        "html",
        "trailing-garbage",
        "nan",
        "not-an-object",
        "transcripts-not-a-list",
        "transcript-not-an-object",
        "sentences-not-a-list",
        "sentence-without-end",
        "sentence-not-an-object",
        "repeated-key",
    ],
)
def test_bad_documents_raise_our_error(tmp_path: Path, content: bytes, error: type[Exception]) -> None:
    """Truncated or garbled files are ResultJSONError (downloaded again); wrong shapes are not."""
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(error) as raised:
        scan_result(path)
    if error is QwenASRResultError:
        assert not isinstance(raised.value, ResultJSONError)


def test_the_json_error_does_not_quote_the_document(tmp_path: Path) -> None:
    """ijson quotes the text around a syntax error; transcript text must not reach logs that way."""
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"transcripts": [{"text": "private words here", "sentences": [}]}')
    with pytest.raises(ResultJSONError) as raised:
        scan_result(path)
    assert "private words" not in str(raised.value)


# -- property: any document the model accepts streams to the same figures ----------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_time = st.integers(0, 10**8) | _scalars


@st.composite
def _sentence(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 30)) == 0:
        return draw(_json)
    sentence: dict[str, Any] = draw(st.dictionaries(st.sampled_from(["x", "extra", "y"]), _json, max_size=2))
    for key, value in (
        ("begin_time", _time),
        ("end_time", _time),
        ("text", st.text(max_size=20) | _scalars),
        ("language", st.sampled_from(["en", "zh", None, ""]) | _scalars),
        ("emotion", st.sampled_from(["happy", "neutral"]) | _scalars),
        ("speaker_id", st.integers(0, 3) | _scalars),
        ("sentence_id", st.integers(0, 100)),
        (
            "words",
            st.lists(
                st.fixed_dictionaries({"begin_time": _time, "end_time": _time, "text": st.text(max_size=5)}),
                max_size=3,
            )
            | _scalars,
        ),
    ):
        if draw(st.integers(0, 12)) != 0:
            sentence[key] = draw(value)
    return sentence


@st.composite
def _document(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 40)) == 0:
        return draw(_json)
    transcripts = draw(
        st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "channel_id": st.integers(0, 3) | _scalars,
                    "text": st.text(max_size=30) | _scalars,
                    "sentences": st.lists(_sentence(), max_size=4) | _scalars,
                    "content_duration_in_milliseconds": st.integers(0, 10**6),
                },
            )
            | _scalars,
            max_size=3,
        )
        | st.none()
    )
    document: dict[str, Any] = {"transcripts": transcripts}
    if draw(st.booleans()):
        document["file_url"] = draw(st.text(max_size=10) | _scalars)
    document[draw(st.sampled_from(["properties", "audio_info", "other"]))] = draw(
        st.fixed_dictionaries(
            {}, optional={"original_duration_in_milliseconds": _time, "format": st.text(max_size=3)}
        )
        | _scalars
    )
    return document


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=_document())
def test_any_document_streams_like_the_model(tmp_path: Path, document: Any) -> None:
    """The scan accepts what the model accepts, with equal figures; everything else is our error."""
    path = _write(tmp_path, document, "property.json")
    try:
        expected = _expected(document)
    except QwenASRResultError:
        with pytest.raises(QwenASRResultError):
            _streamed(path)
        return
    except TypeError:
        # The model cannot iterate a truthy number as words (reported upstream); we refuse it cleanly.
        with pytest.raises(QwenASRResultError):
            _streamed(path)
        return
    assert _streamed(path) == expected


@pytest.mark.parametrize("words", [True, 5, 2.5, "ab", {"text": "x"}, None, []])
def test_words_that_are_not_a_list_are_ignored_as_the_model_ignores_them(tmp_path: Path, words: Any) -> None:
    """The model reads a malformed ``words`` as none; the scan and the stream agree, refusing nothing.

    Found by the property test above (``words: True``): the scan used to refuse a truthy number.
    """
    document = {
        "transcripts": [
            {
                "channel_id": 0,
                "text": "hi",
                "sentences": [{"begin_time": 0, "end_time": 5, "text": "hi", "words": words}],
            }
        ]
    }
    path = _write(tmp_path, document)
    assert _streamed(path) == _expected(document)
