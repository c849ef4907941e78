"""Speaker labels kept as given (ints and ``"spk0"`` strings); SenseVoice's inline tags read out of texts."""

from __future__ import annotations

import doctest
from typing import Any

import pytest

from airflow_provider_qwenasr.models import (
    Sentence,
    TaggedText,
    Transcription,
    _speaker,
    _tags,
    read_tags,
    speaker_label,
    speaker_sort_key,
)


def test_doctests() -> None:
    for module in (_speaker, _tags):
        assert doctest.testmod(module).failed == 0, module.__name__


# ---- speaker labels -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(0, 0, id="int-0"),
        pytest.param(7, 7, id="int"),
        pytest.param(2.0, 2, id="whole-float"),
        pytest.param("spk0", "spk0", id="string"),
        pytest.param("2", "2", id="numeric-string-as-given"),
        pytest.param(" spk 1 ", " spk 1 ", id="string-kept-as-given"),
        pytest.param(None, None, id="none"),
        pytest.param(True, None, id="bool"),
        pytest.param(False, None, id="false"),
        pytest.param("", None, id="empty"),
        pytest.param("  \n", None, id="blank"),
        pytest.param(1.5, None, id="fraction"),
        pytest.param(float("nan"), None, id="nan"),
        pytest.param([1], None, id="list"),
        pytest.param({"id": 1}, None, id="object"),
    ],
)
def test_speaker_label_keeps_ints_and_strings_as_given(value: object, expected: object) -> None:
    label = speaker_label(value)
    assert label == expected
    assert type(label) is type(expected)


def test_speaker_order_is_none_then_ints_then_natural_strings() -> None:
    labels = ["spk10", "spk2", 10, None, "spk0", 2, "spk1", "b", "a10", "a9", "spk01"]
    assert sorted(labels, key=speaker_sort_key) == [
        *(None, 2, 10),
        *("a9", "a10", "b", "spk0", "spk01", "spk1", "spk2", "spk10"),
    ]


def test_speaker_order_survives_a_huge_digit_run() -> None:
    """Digit runs compare without int(): Python refuses int() of a string past 4300 digits."""
    huge = "spk" + "9" * 5000
    assert sorted([huge, "spk10"], key=speaker_sort_key) == ["spk10", huge]


def _funasr(*speakers: Any) -> dict[str, Any]:
    sentences = [
        {"sentence_id": i + 1, "begin_time": i * 1000, "end_time": i * 1000 + 900, "text": f"s{i}."}
        | ({} if speaker is None else {"speaker_id": speaker})
        for i, speaker in enumerate(speakers)
    ]
    return {"properties": {}, "transcripts": [{"channel_id": 0, "text": "", "sentences": sentences}]}


def test_string_speakers_stay_distinct_and_sorted() -> None:
    """Regression: every string speaker_id became 0, so all speakers collapsed into one."""
    result = Transcription.from_dict(_funasr("spk0", "spk1", "spk10", "spk2", "spk1"))
    assert [s.speaker_id for s in result.sentences] == ["spk0", "spk1", "spk10", "spk2", "spk1"]
    assert result.speakers == ["spk0", "spk1", "spk2", "spk10"]


def test_integer_speakers_are_unchanged() -> None:
    result = Transcription.from_dict(_funasr(1, 0, 10, 2, None))
    assert [s.speaker_id for s in result.sentences] == [1, 0, 10, 2, None]
    assert all(type(s.speaker_id) is int for s in result.sentences[:4])
    assert result.speakers == [0, 1, 2, 10]


def test_int_and_string_speakers_are_two_speakers() -> None:
    result = Transcription.from_dict(_funasr(1, "1", True, ""))
    assert result.speakers == [1, "1"]


# ---- SenseVoice tags ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "<|Speech|> Hello world. <|/Speech|><|HAPPY|><|en|>",
            TaggedText("Hello world.", "en", "happy", ("Speech",)),
            id="english",
        ),
        pytest.param(
            "<|zh|><|NEUTRAL|><|Speech|><|withitn|>今天天气好棒啊。",
            TaggedText("今天天气好棒啊。", "zh", "neutral", ("Speech",)),
            id="leading-tags",
        ),
        pytest.param(
            "<|Applause|>今天<|/Applause|>天气好棒啊。<|BGM|>",
            TaggedText("今天天气好棒啊。", None, None, ("Applause", "BGM")),
            id="events-in-order-once-each",
        ),
        pytest.param(
            "<|/Laughter|>ha <|Laughter|>ha<|Cry|><|Sneeze|><|Breath|><|Cough|>",
            TaggedText("ha ha", None, None, ("Laughter", "Cry", "Sneeze", "Breath", "Cough")),
            id="closing-tag-counts",
        ),
        pytest.param(
            "<|SAD|><|ANGRY|><|yue|><|ja|> x",
            TaggedText("x", "yue", "sad", ()),
            id="first-language-and-emotion-win",
        ),
        pytest.param(
            "<|FEARFUL|>a<|DISGUSTED|>b<|SURPRISED|>",
            TaggedText("ab", None, "fearful", ()),
            id="emotions",
        ),
        pytest.param(
            "<|SPECIAL_TOKEN_1|><|EMO_UNKNOWN|><|Event_UNK|><|nospeech|><|woitn|>",
            TaggedText("", None, None, ()),
            id="unknown-tags-stripped-and-ignored",
        ),
        pytest.param(
            "Hello <|HAPPY|>  world",
            TaggedText("Hello world", None, "happy", ()),
            id="spaces-either-side-of-a-tag-become-the-run-before-it",
        ),
        pytest.param(
            "  a  b\n<|en|>\tc  ",
            TaggedText("a  b\nc", "en", None, ()),
            id="inner-whitespace-kept-ends-stripped",
        ),
        pytest.param("<|happy|><|speech|>x", TaggedText("x", None, "happy", ("Speech",)), id="any-case"),
    ],
)
def test_read_tags(text: str, expected: TaggedText) -> None:
    assert read_tags(text) == expected


@pytest.mark.parametrize(
    "text",
    ["  plain text, as sent \n", "", "a <| b |> c", "x <b> y", "<|", "|>", "a <|not a tag|> b", "<||>"],
)
def test_a_text_without_tags_comes_back_unchanged(text: str) -> None:
    assert read_tags(text, "en", "") == TaggedText(text, "en", "")


def test_a_sentence_field_wins_over_a_tag() -> None:
    assert read_tags("<|zh|><|SAD|>x", "en", "happy") == TaggedText("x", "en", "happy", ())
    assert read_tags("<|zh|><|SAD|>x", "", None) == TaggedText("x", "zh", "sad", ())


def test_a_sentence_carries_clean_text_and_what_its_tags_mark() -> None:
    sentence = Sentence.from_dict(
        {
            "begin_time": 0,
            "end_time": 900,
            "text": "<|Speech|> Hello world. <|/Speech|><|HAPPY|><|en|>",
            "words": [
                {"begin_time": 0, "end_time": 400, "text": "<|Speech|>Hello ", "punctuation": ""},
                {"begin_time": 400, "end_time": 900, "text": "world", "punctuation": ".<|/Speech|>"},
                {"begin_time": 900, "end_time": 900, "text": "<|HAPPY|>", "punctuation": ""},
                {"begin_time": 0, "end_time": 9, "text": " a <|en|> ", "punctuation": ""},
            ],
        }
    )
    assert (sentence.text, sentence.language, sentence.emotion, sentence.events) == (
        "Hello world.",
        "en",
        "happy",
        ("Speech",),
    )
    assert [(w.text, w.punctuation) for w in sentence.words] == [
        ("Hello ", ""),
        ("world", "."),
        ("", ""),
        (" a ", ""),
    ]
    assert sentence.extra == {}


def test_events_read_back_from_a_jsonl_record() -> None:
    record = {"begin_time": 0, "end_time": 1, "text": "hi <|BGM|>", "events": ["Speech", 3, "BGM"]}
    assert Sentence.from_dict(record).events == ("Speech", "BGM")


def test_a_document_without_tags_parses_as_before() -> None:
    raw = {"begin_time": 0, "end_time": 1, "text": " as sent ", "language": "", "emotion": None}
    sentence = Sentence.from_dict(raw)
    assert (sentence.text, sentence.language, sentence.emotion, sentence.events) == (
        " as sent ",
        "",
        None,
        (),
    )
