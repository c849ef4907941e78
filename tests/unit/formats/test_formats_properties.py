"""Property tests of the renderers: whatever a valid result holds, the subtitles read back."""

from __future__ import annotations

import html
import io
import json
import re
from collections import Counter
from datetime import timedelta
from typing import Any

import srt
import webvtt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_qwenasr.exceptions import QwenASRResultError
from airflow_provider_qwenasr.formats import render, write_jsonl, write_srt, write_txt, write_vtt
from airflow_provider_qwenasr.models import Transcription
from tests.unit.models.test_models_properties import damaged_documents, result_documents

SUBTITLE_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "max_line_chars": st.integers(2, 60),
        "max_lines": st.integers(1, 4),
        "speaker_labels": st.booleans(),
    },
)
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _spelled(text: str) -> str:
    """Text without whitespace, arrows made legal: what the cue lines must spell once joined."""
    return "".join(text.split()).replace("-->", "→")


def _unlabelled(text: str, result: Transcription) -> str:
    """Cue text without the ``[chN] `` and ``Speaker N: `` labels the renderer adds."""
    if len({channel for channel, _ in result.channel_sentences()}) > 1:
        text = re.sub(r"^\[ch\d+\] ", "", text)
    return re.sub(r"^Speaker \d+: ", "", text) if result.speakers else text


def _check_cues(cues: list[tuple[int, int, str]], result: Transcription) -> None:
    non_empty = [s for s in result.sentences if s.text.split()]
    assert len(cues) >= len(non_empty)
    starts = [start for start, _, _ in cues]
    assert starts == sorted(starts), "cue starts go back in time"
    assert all(start < end for start, end, _ in cues), "a cue ends before it starts"
    assert all(text.strip() for _, _, text in cues), "a cue has no text"
    assert all(line for _, _, text in cues for line in text.split("\n")), "a cue holds a blank line"
    # The cues hold the sentences' text, labels aside, nothing lost or added. Cues of sentences that
    # overlap interleave, so the letters are compared as multisets.
    cue_letters = Counter("".join(_spelled(_unlabelled(text, result)) for _, _, text in cues))
    assert cue_letters == Counter("".join(_spelled(s.text) for s in non_empty))


@PROPERTY_SETTINGS
@given(result_documents(), SUBTITLE_OPTIONS)
def test_srt_reads_back(document: dict[str, Any], options: dict[str, Any]) -> None:
    result = Transcription.from_dict(document)
    out = io.StringIO()
    count = write_srt(result.channel_sentences(), out, **options)
    subtitles = list(srt.parse(out.getvalue()))
    assert [s.index for s in subtitles] == list(range(1, count + 1))
    one_ms = timedelta(milliseconds=1)
    _check_cues([(s.start // one_ms, s.end // one_ms, s.content) for s in subtitles], result)


@PROPERTY_SETTINGS
@given(result_documents(), SUBTITLE_OPTIONS)
def test_vtt_reads_back(document: dict[str, Any], options: dict[str, Any]) -> None:
    result = Transcription.from_dict(document)
    out = io.StringIO()
    count = write_vtt(result.channel_sentences(), out, **options)
    text = out.getvalue()
    assert text.startswith("WEBVTT\n\n")
    captions = list(webvtt.from_buffer(io.StringIO(text), strict=True).captions)
    assert len(captions) == count
    assert [c.identifier for c in captions] == [str(i) for i in range(1, count + 1)]
    cues = [
        (c.start_time.in_milliseconds(), c.end_time.in_milliseconds(), html.unescape(c.text))
        for c in captions
    ]
    _check_cues(cues, result)
    if options.get("speaker_labels", True):
        speakers = {s.speaker_id for s in result.sentences if s.speaker_id is not None and s.text.split()}
        assert {c.voice for c in captions if c.voice} == {f"Speaker {n}" for n in speakers}


@PROPERTY_SETTINGS
@given(result_documents(), st.booleans())
def test_txt_and_jsonl_hold_every_sentence(document: dict[str, Any], labels: bool) -> None:
    result = Transcription.from_dict(document)
    out = io.StringIO()
    write_txt(result.channel_sentences(), out, speaker_labels=labels)
    text = out.getvalue()
    assert "\n\n\n" not in text
    letters = "".join(text.split())
    for sentence in result.sentences:
        assert "".join(sentence.text.split()) in letters
    out = io.StringIO()
    assert write_jsonl(result.channel_sentences(), out) == len(result.sentences)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["begin_time"], r["end_time"], r["text"]) for r in records] == [
        (s.begin_time, s.end_time, s.text) for s in result.sentences
    ]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_documents(), st.sampled_from(["txt", "srt", "vtt", "jsonl"]))
def test_nothing_raises_but_result_error(document: Any, fmt: str) -> None:
    """A damaged document either fails to parse with QwenASRResultError or renders without error."""
    try:
        result = Transcription.from_dict(document)
    except QwenASRResultError:
        return
    render(fmt, result)
