"""The transcript renderers, read back with the reference parsers (cdown/srt and webvtt-py)."""

# CJK punctuation and full-width letters are the point of several tests.
# ruff: noqa: RUF001

from __future__ import annotations

import doctest
import html
import io
import json
import unicodedata
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import srt
import webvtt

from airflow_provider_qwenasr import formats
from airflow_provider_qwenasr.exceptions import QwenASRInputError
from airflow_provider_qwenasr.formats import (
    FALLBACK_CUE_MS,
    FORMATS,
    check_format,
    render,
    srt_timestamp,
    vtt_timestamp,
    write,
    write_jsonl,
    write_srt,
    write_txt,
    write_vtt,
)
from airflow_provider_qwenasr.models import Sentence, Transcription

SHARED = Path("/work/shared")


def example(name: str) -> Transcription:
    return Transcription.from_dict(json.loads((SHARED / name).read_text(encoding="utf-8")))


SEED = "result-example.json"
FUNASR = "result-example-funasr.json"
DIARIZED = "result-example-funasr-diarized.json"


def document(*channels: list[tuple[int, int, str, int | None]], first_channel: int = 0) -> Transcription:
    """A Fun-ASR-shaped result; each channel a list of ``(begin, end, text, speaker)``."""
    transcripts = []
    for index, items in enumerate(channels):
        sentences: list[dict[str, Any]] = []
        for number, (begin, end, text, speaker) in enumerate(items, start=1):
            sentence: dict[str, Any] = {
                "sentence_id": number,
                "begin_time": begin,
                "end_time": end,
                "text": text,
            }
            if speaker is not None:
                sentence["speaker_id"] = speaker
            sentences.append(sentence)
        transcripts.append({"channel_id": first_channel + index, "text": "", "sentences": sentences})
    return Transcription.from_dict({"properties": {}, "transcripts": transcripts})


def one(text: str, begin: int = 1000, end: int = 2000, speaker: int | None = None) -> Transcription:
    return document([(begin, end, text, speaker)])


def read_srt(text: str) -> list[srt.Subtitle]:
    return list(srt.parse(text))


def read_vtt(text: str) -> list[webvtt.Caption]:
    return list(webvtt.from_buffer(io.StringIO(text)).captions)


def ms(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


def width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_doctests() -> None:
    assert doctest.testmod(formats).failed == 0


# ---- timestamps ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "srt_text", "vtt_text"),
    [
        pytest.param(0, "00:00:00,000", "00:00:00.000", id="zero"),
        pytest.param(999, "00:00:00,999", "00:00:00.999", id="millis"),
        pytest.param(61_001, "00:01:01,001", "00:01:01.001", id="minute"),
        pytest.param(86_399_999, "23:59:59,999", "23:59:59.999", id="last-ms-of-a-day"),
        pytest.param(90_000_000, "25:00:00,000", "25:00:00.000", id="past-24h"),
        pytest.param(360_000_000 + 1, "100:00:00,001", "100:00:00.001", id="past-99h"),
    ],
)
def test_timestamps(value: int, srt_text: str, vtt_text: str) -> None:
    assert srt_timestamp(value) == srt_text
    assert vtt_timestamp(value) == vtt_text
    assert ms(srt.srt_timestamp_to_timedelta(srt_text)) == value
    assert webvtt.models.Timestamp.from_string(vtt_text).in_milliseconds() == value


@pytest.mark.parametrize("helper", [srt_timestamp, vtt_timestamp], ids=["srt", "vtt"])
def test_negative_timestamp_is_refused(helper: Any) -> None:
    with pytest.raises(QwenASRInputError, match="negative"):
        helper(-1)


@pytest.mark.parametrize("begin", [pytest.param(0, id="zero"), pytest.param(90_000_000, id="25h")])
def test_extreme_times_read_back(begin: int) -> None:
    result = one("hello", begin, begin + 1500)
    (subtitle,) = read_srt(render("srt", result))
    (caption,) = read_vtt(render("vtt", result))
    assert (ms(subtitle.start), ms(subtitle.end)) == (begin, begin + 1500)
    assert (caption.start_time.in_milliseconds(), caption.end_time.in_milliseconds()) == (begin, begin + 1500)


# ---- the seed examples read back ----------------------------------------------------------------------


def test_seed_srt_reads_back_with_sentence_times_and_texts() -> None:
    result = example(SEED)
    subtitles = read_srt(render("srt", result, max_lines=5))
    assert [s.index for s in subtitles] == [1, 2]
    assert [(ms(s.start), ms(s.end)) for s in subtitles] == [
        (x.begin_time, x.end_time) for x in result.sentences
    ]
    assert [s.content.replace("\n", " ") for s in subtitles] == [x.text for x in result.sentences]


def test_seed_vtt_reads_back_with_sentence_times_and_texts() -> None:
    result = example(SEED)
    text = render("vtt", result, max_lines=5)
    assert text.startswith("WEBVTT\n\n")
    captions = read_vtt(text)
    assert [c.identifier for c in captions] == ["1", "2"]
    assert [(c.start_time.in_milliseconds(), c.end_time.in_milliseconds()) for c in captions] == [
        (x.begin_time, x.end_time) for x in result.sentences
    ]
    assert [c.text.replace("\n", " ") for c in captions] == [x.text for x in result.sentences]


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_seed_long_sentences_are_split_within_their_time_span(fmt: str) -> None:
    """Two 2-line cues of 42 columns cannot hold a 93-character sentence: it becomes two cues."""
    result = example(SEED)
    text = render(fmt, result)
    cues = (
        [(ms(s.start), ms(s.end), s.content) for s in read_srt(text)]
        if fmt == "srt"
        else [(c.start_time.in_milliseconds(), c.end_time.in_milliseconds(), c.text) for c in read_vtt(text)]
    )
    assert len(cues) == 4
    for sentence, (first, second) in zip(result.sentences, [cues[0:2], cues[2:4]], strict=True):
        assert first[0] == sentence.begin_time
        assert first[1] == second[0]  # contiguous
        assert second[1] == sentence.end_time
        assert f"{first[2]} {second[2]}".replace("\n", " ") == sentence.text
        assert all(len(line) <= 42 for line in (first[2] + "\n" + second[2]).split("\n"))
        assert first[2].count("\n") == 1


def test_funasr_renders() -> None:
    result = example(FUNASR)
    (subtitle,) = read_srt(render("srt", result))
    assert subtitle.content == "Hello World，这里是阿里巴巴语音实验室。"
    assert (ms(subtitle.start), ms(subtitle.end)) == (760, 3240)
    assert render("txt", result) == "Hello World，这里是阿里巴巴语音实验室。\n"


def test_diarized_funasr_has_speaker_labels() -> None:
    result = example(DIARIZED)
    (subtitle,) = read_srt(render("srt", result, max_lines=3))
    assert subtitle.content.replace("\n", "") == "Speaker 0: Hello world, 这里是阿里巴巴语音实验室。"
    (caption,) = read_vtt(render("vtt", result))
    assert caption.voice == "Speaker 0"
    assert caption.text == "Hello world, 这里是阿里巴巴语音实验室。"
    assert render("txt", result) == "Speaker 0: Hello world, 这里是阿里巴巴语音实验室。\n"


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_speaker_labels_can_be_left_out(fmt: str) -> None:
    text = render(fmt, example(DIARIZED), speaker_labels=False)
    assert "Speaker" not in text


def test_split_cjk_sentence_takes_its_cue_times_from_words() -> None:
    """The Fun-ASR words spell the text, so each cue starts when its first word starts."""
    subtitles = read_srt(render("srt", example(FUNASR), max_line_chars=10, max_lines=1))
    assert [s.content for s in subtitles] == ["Hello", "World，这", "里是阿里巴", "巴语音实验", "室。"]
    # "这" starts the word 这里是 (1400 ms) and so do 里, 巴 (阿里巴巴, 1920) and 室 (实验室, 2840).
    assert [(ms(s.start), ms(s.end)) for s in subtitles] == [
        (760, 1000),
        (1000, 1400),
        (1400, 1920),
        (1920, 2840),
        (2840, 3240),
    ]


# ---- wrapping -----------------------------------------------------------------------------------------

CJK = "这里是阿里巴巴语音实验室，欢迎使用通义千问语音识别服务。我们支持多种语言和方言的识别。"


@pytest.mark.parametrize("limit", [pytest.param(n, id=f"{n}-columns") for n in (2, 3, 10, 16, 42)])
def test_cjk_wraps_by_columns_where_a_character_takes_two(limit: int) -> None:
    subtitles = read_srt(render("srt", one(CJK, 0, 60_000), max_line_chars=limit, max_lines=2))
    lines = [line for s in subtitles for line in s.content.split("\n")]
    assert "".join(lines) == CJK
    assert all(width(line) <= max(limit, 2) for line in lines)
    # Punctuation stays with what precedes it, unless one character per line is all there is room for.
    if limit >= 4:
        assert not any(line[0] in "，。" for line in lines)


def test_latin_wraps_on_spaces_without_breaking_words() -> None:
    text = "the quick brown fox jumps over the lazy dog " * 4
    (subtitle, *rest) = read_srt(render("srt", one(text), max_line_chars=20, max_lines=2))
    for s in (subtitle, *rest):
        for line in s.content.split("\n"):
            assert len(line) <= 20
            assert set(line.split()) <= set(text.split())


def test_word_longer_than_a_line_is_cut() -> None:
    word = "x" * 25
    (subtitle,) = read_srt(render("srt", one(f"a {word} b"), max_line_chars=10, max_lines=5))
    assert subtitle.content.split("\n") == ["a", "x" * 10, "x" * 10, "xxxxx b"]


def test_mixed_latin_and_cjk_break_between_scripts() -> None:
    (subtitle,) = read_srt(render("srt", one("Hello这里是阿里巴巴"), max_line_chars=8, max_lines=3))
    assert subtitle.content.split("\n") == ["Hello这", "里是阿里", "巴巴"]


def test_label_counts_toward_the_first_line() -> None:
    text = "aaaa bbbb cccc dddd"
    (subtitle,) = read_srt(render("srt", one(text, speaker=3), max_line_chars=20, max_lines=2))
    assert subtitle.content.split("\n") == ["Speaker 3: aaaa bbbb", "cccc dddd"]


# ---- legal content ------------------------------------------------------------------------------------

ARROW_CASES = [
    pytest.param("a --> b", "a → b", id="arrow"),
    pytest.param("00:00:01,000 --> 00:00:02,000", "00:00:01,000 → 00:00:02,000", id="fake-timing-line"),
    pytest.param("a\n-->\nb", "a → b", id="arrow-on-its-own-line"),
    pytest.param("--->", "-→", id="long-arrow"),
    pytest.param("first\n\nsecond", "first second", id="blank-line"),
    pytest.param("a\r\nb\rc\u2028d\x85e", "a b c d e", id="every-line-break"),
    pytest.param("  padded  ", "padded", id="padding"),
]


@pytest.mark.parametrize(("text", "expected"), ARROW_CASES)
def test_srt_text_is_made_legal(text: str, expected: str) -> None:
    output = render("srt", document([(0, 1000, text, None), (2000, 3000, "next", None)]), max_lines=9)
    assert output.count("-->") == 2  # the two timing lines only
    assert [s.content for s in read_srt(output)] == [expected, "next"]


@pytest.mark.parametrize(("text", "expected"), ARROW_CASES)
def test_vtt_text_is_made_legal(text: str, expected: str) -> None:
    output = render("vtt", document([(0, 1000, text, None), (2000, 3000, "next", None)]), max_lines=9)
    assert output.count("-->") == 2
    assert [c.text for c in read_vtt(output)] == [expected, "next"]


def test_vtt_escapes_markup() -> None:
    output = render("vtt", one("a < b && <i>c</i>"))
    (caption,) = read_vtt(output)
    assert "<i>" not in output
    assert html.unescape(caption.text) == "a < b && <i>c</i>"


@pytest.mark.parametrize("fmt", ["srt", "vtt", "txt"])
def test_empty_text_sentences_are_skipped(fmt: str) -> None:
    result = document([(0, 1000, "", None), (1000, 2000, " \n ", None), (2000, 3000, "kept", None)])
    output = render(fmt, result)
    assert output.count("kept") == 1
    if fmt != "txt":
        assert f"1\n{srt_timestamp(2000) if fmt == 'srt' else vtt_timestamp(2000)}" in output


# ---- empty transcripts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "result",
    [
        pytest.param(Transcription.from_dict({}), id="no-transcripts"),
        pytest.param(document([]), id="no-sentences"),
        pytest.param(document([(0, 1, "", None)]), id="only-empty-text"),
    ],
)
def test_empty_transcript_gives_valid_empty_files(result: Transcription) -> None:
    assert render("srt", result) == ""
    assert read_srt(render("srt", result)) == []
    assert render("vtt", result) == "WEBVTT\n\n"
    assert read_vtt(render("vtt", result)) == []
    assert render("txt", result) == ""
    assert write_srt(result.channel_sentences(), io.StringIO()) == 0


# ---- time repairs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("begin", "end", "expected"),
    [
        pytest.param(1000, 2000, (1000, 2000), id="normal"),
        pytest.param(1000, 1000, (1000, 1000 + FALLBACK_CUE_MS), id="zero-length"),
        pytest.param(5000, 1000, (5000, 5000 + FALLBACK_CUE_MS), id="ends-before-it-begins"),
        pytest.param(-500, 1000, (0, 1000), id="negative-begin"),
        pytest.param(-500, -100, (0, FALLBACK_CUE_MS), id="both-negative"),
    ],
)
def test_cue_times_are_repaired(begin: int, end: int, expected: tuple[int, int]) -> None:
    (subtitle,) = read_srt(render("srt", one("text", begin, end)))
    assert (ms(subtitle.start), ms(subtitle.end)) == expected


def test_cues_are_sorted_by_start_time() -> None:
    result = document([(5000, 6000, "late", None), (1000, 2000, "early", None), (1000, 1500, "tie", None)])
    assert [s.content for s in read_srt(render("srt", result))] == ["early", "tie", "late"]


def test_split_sentence_overlapping_the_next_stays_in_time_order() -> None:
    long_text = "word " * 30
    result = document([(0, 10_000, long_text, None), (3000, 4000, "interjection", None)])
    starts = [ms(s.start) for s in read_srt(render("srt", result, max_line_chars=20, max_lines=1))]
    assert starts == sorted(starts)
    assert len(starts) == 9


def test_very_short_sentence_split_in_many_cues_gets_a_millisecond_each() -> None:
    subtitles = read_srt(render("srt", one("a b c d", 100, 102), max_line_chars=2, max_lines=1))
    assert [(ms(s.start), ms(s.end)) for s in subtitles] == [(100, 101), (101, 102), (102, 103), (103, 104)]


# ---- several channels ---------------------------------------------------------------------------------


def stereo() -> Transcription:
    return document(
        [(0, 1000, "left one", None), (4000, 5000, "left two", None)],
        [(2000, 3000, "right one", None)],
        first_channel=1,
    )


def test_multi_channel_srt_is_interleaved_and_labelled() -> None:
    contents = [s.content for s in read_srt(render("srt", stereo()))]
    assert contents == ["[ch1] left one", "[ch2] right one", "[ch1] left two"]


def test_multi_channel_vtt_is_interleaved_and_labelled() -> None:
    assert [c.text for c in read_vtt(render("vtt", stereo()))] == [
        "[ch1] left one",
        "[ch2] right one",
        "[ch1] left two",
    ]


def test_single_channel_has_no_channel_label() -> None:
    assert "[ch" not in render("srt", document([(0, 1, "x", None)], first_channel=3))


# ---- txt ----------------------------------------------------------------------------------------------

TXT_CASES = [
    pytest.param(document([(0, 1, "One.", None), (1, 2, "Two\nlines.", None)]), {}, "One.\nTwo lines.\n",
                 id="one-line-per-sentence"),
    pytest.param(stereo(), {}, "[Channel 1]\nleft one\nleft two\n\n[Channel 2]\nright one\n",
                 id="paragraph-per-channel"),
    pytest.param(
        document([(0, 1, "Hi.", 0), (1, 2, "How are you?", 0), (2, 3, "Fine.", 1), (3, 4, "Thanks.", 0)]), {},
        "Speaker 0: Hi. How are you?\nSpeaker 1: Fine.\nSpeaker 0: Thanks.\n", id="speaker-turns",
    ),
    pytest.param(document([(0, 1, "你好。", 0), (1, 2, "再见。", 0)]), {}, "Speaker 0: 你好。再见。\n",
                 id="cjk-turn-without-spaces"),
    pytest.param(document([(0, 1, "Hi.", 0), (1, 2, "Yo.", 0)]), {"speaker_labels": False}, "Hi.\nYo.\n",
                 id="speaker-labels-off"),
    pytest.param(stereo(), {"multi_channel": False}, "left one\nleft two\n\nright one\n",
                 id="multi-channel-forced-off"),
]  # fmt: skip


@pytest.mark.parametrize(("result", "options", "expected"), TXT_CASES)
def test_txt_layout(result: Transcription, options: dict[str, Any], expected: str) -> None:
    assert render("txt", result, **options) == expected


@pytest.mark.parametrize(
    ("result", "options", "expected"), [p for p in TXT_CASES if "multi_channel" not in p.values[1]]
)
def test_txt_streaming_finds_channels_itself(
    result: Transcription, options: dict[str, Any], expected: str
) -> None:
    """Given a one-pass iterator and no ``multi_channel``, write_txt finds out about channels itself."""
    out = io.StringIO()
    write_txt(iter(result.channel_sentences()), out, **options)
    assert out.getvalue() == expected


def test_txt_second_channel_header_once_it_appears() -> None:
    out = io.StringIO()
    entries = iter(stereo().channel_sentences())
    write_txt(entries, out)
    assert out.getvalue().startswith("[Channel 1]\n")


# ---- jsonl --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [SEED, FUNASR, DIARIZED])
def test_jsonl_lines_parse_back(name: str) -> None:
    result = example(name)
    out = io.StringIO()
    assert write_jsonl(result.channel_sentences(), out) == len(result.sentences)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    for record, (channel, sentence) in zip(records, result.channel_sentences(), strict=True):
        assert list(record) == [
            *("channel_id", "sentence_id", "begin_time", "end_time", "text"),
            *("language", "emotion", "speaker_id", "words"),
        ]
        assert record["channel_id"] == channel
        assert (record["begin_time"], record["end_time"], record["text"]) == (
            sentence.begin_time,
            sentence.end_time,
            sentence.text,
        )
        assert (record["language"], record["emotion"], record["speaker_id"]) == (
            sentence.language,
            sentence.emotion,
            sentence.speaker_id,
        )
        assert len(record["words"]) == len(sentence.words)


def test_jsonl_keeps_text_as_sent_one_object_per_line() -> None:
    text = "这里\n是 --> \u2028 \x85 end"
    output = render("jsonl", document([(0, 1, text, None), (1, 2, "", None)]))
    assert "这里" in output  # not \u-escaped
    lines = output.splitlines()  # splits on U+2028 and U+0085 too
    assert len(lines) == 2
    assert json.loads(lines[0])["text"] == text
    assert json.loads(lines[1])["text"] == ""


# ---- formats and options ------------------------------------------------------------------------------


def test_formats() -> None:
    assert FORMATS == ("json", "txt", "srt", "vtt", "jsonl")


@pytest.mark.parametrize(
    ("name", "expected"),
    [pytest.param("srt", "srt", id="plain"), pytest.param(" VTT ", "vtt", id="case-and-spaces")],
)
def test_check_format(name: str, expected: str) -> None:
    assert check_format(name) == expected


@pytest.mark.parametrize("name", ["docx", "", "sub"])
def test_unknown_format_names_the_valid_ones(name: str) -> None:
    with pytest.raises(QwenASRInputError, match="json, txt, srt, vtt, jsonl"):
        render(name, example(SEED))


def test_json_is_not_rendered() -> None:
    with pytest.raises(QwenASRInputError, match="original result document"):
        render("json", example(SEED))


@pytest.mark.parametrize(
    ("fmt", "options", "message"),
    [
        pytest.param("srt", {"max_line_chars": 1}, "max_line_chars", id="line-too-narrow"),
        pytest.param("vtt", {"max_lines": 0}, "max_lines", id="no-lines"),
        pytest.param("jsonl", {"speaker_labels": True}, "speaker_labels", id="option-of-another-format"),
        pytest.param(
            "txt", {"colour": "red"}, "it takes: speaker_labels, multi_channel", id="unknown-option"
        ),
    ],
)
def test_bad_options_are_refused(fmt: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(QwenASRInputError, match=message):
        render(fmt, example(SEED), **options)


def test_write_streams_and_returns_the_count() -> None:
    out = io.StringIO()
    assert write("srt", example(SEED).channel_sentences(), out, max_lines=4) == 2
    assert write_vtt(example(SEED).channel_sentences(), io.StringIO(), max_lines=4) == 2
    assert out.getvalue() == render("srt", example(SEED), max_lines=4)


def test_renderers_accept_plain_pairs() -> None:
    sentence = Sentence(sentence_id=0, begin_time=0, end_time=500, text="hi")
    out = io.StringIO()
    write_srt([(0, sentence)], out)
    assert out.getvalue() == "1\n00:00:00,000 --> 00:00:00,500\nhi\n\n"


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        pytest.param(SEED, "txt", id="txt"),
        pytest.param(DIARIZED, "txt", id="txt-diarized"),
        pytest.param(SEED, "srt", id="srt"),
        pytest.param(DIARIZED, "srt", id="srt-diarized"),
        pytest.param(DIARIZED, "vtt", id="vtt-diarized"),
        pytest.param(SEED, "jsonl", id="jsonl"),
    ],
)
def test_docs_examples_are_what_the_renderers_write(name: str, fmt: str) -> None:
    docs = (Path(__file__).parents[3] / "docs" / "formats.md").read_text(encoding="utf-8")
    assert render(fmt, example(name)).strip() in docs
