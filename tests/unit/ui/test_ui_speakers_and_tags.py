"""The Transcript tab: string speakers are distinct lanes, in order; rows show text without tags."""

from __future__ import annotations

import io
import json

from airflow_provider_qwenasr.formats import write_jsonl
from airflow_provider_qwenasr.models import Transcription
from airflow_provider_qwenasr.ui.sentences import SentenceRow, build_page, lane_key, read_sentences
from airflow_provider_qwenasr.ui.timeline import render_timeline
from tests.unit.models.label_documents import SENSEVOICE, STRING_SPEAKERS


def _outputs(document: dict[str, object]) -> dict[str, bytes]:
    out = io.StringIO()
    write_jsonl(Transcription.from_dict(document).channel_sentences(), out)
    return {"json": json.dumps(document, ensure_ascii=False).encode(), "jsonl": out.getvalue().encode()}


def test_string_speakers_are_distinct_lanes_in_natural_order() -> None:
    """Regression: every string speaker_id was speaker 0, so the result showed one lane."""
    for fmt, raw in _outputs(STRING_SPEAKERS).items():
        page = build_page(read_sentences(fmt, io.BytesIO(raw)))
        assert [(lane.key, lane.label(False), lane.sentences) for lane in page.lanes] == [
            ("c0-s:spk0", "Speaker spk0", 1),
            ("c0-s:spk1", "Speaker spk1", 1),
            ("c0-s:spk2", "Speaker spk2", 2),
            ("c0-s:spk10", "Speaker spk10", 1),
        ], fmt
        assert [lane.label(True) for lane in page.lanes][:1] == ["Ch 0 · Speaker spk0"]
        svg = str(render_timeline(page.lanes, page.duration_ms, several_channels=False))
        assert all(f">Speaker {name}</text>" in svg for name in ("spk0", "spk1", "spk2", "spk10"))


def test_a_string_speaker_lane_filters_its_rows() -> None:
    raw = _outputs(STRING_SPEAKERS)["jsonl"]
    page = build_page(read_sentences("jsonl", io.BytesIO(raw)), lane="c0-s:spk2")
    assert [row.text for row in page.rows] == ["Thanks.", "Bye."]
    assert page.total == 2


def test_integer_lanes_are_unchanged() -> None:
    rows = [
        SentenceRow(channel_id=c, sentence_id=i, begin_time=i, end_time=i + 1, text="x", speaker_id=s)
        for i, (c, s) in enumerate([(0, 10), (0, 2), (1, None), (0, None), (0, 1)])
    ]
    page = build_page(rows)
    assert [lane.key for lane in page.lanes] == ["c0", "c0-s1", "c0-s2", "c0-s10", "c1"]
    assert [lane.label(True) for lane in page.lanes] == [
        "Channel 0",
        "Ch 0 · Speaker 1",
        "Ch 0 · Speaker 2",
        "Ch 0 · Speaker 10",
        "Channel 1",
    ]


def test_an_int_and_a_string_speaker_never_share_a_lane() -> None:
    assert lane_key(0, 1) == "c0-s1"
    assert lane_key(0, "1") == "c0-s:1"
    assert lane_key(2, None) == "c2"
    rows = [
        SentenceRow(channel_id=0, sentence_id=i, begin_time=i, end_time=i + 1, text="x", speaker_id=s)
        for i, s in enumerate(["spk1", 3, None, "1"])
    ]
    assert [lane.key for lane in build_page(rows).lanes] == ["c0", "c0-s3", "c0-s:1", "c0-s:spk1"]


def test_a_lane_label_is_one_line() -> None:
    rows = [SentenceRow(channel_id=0, sentence_id=1, begin_time=0, end_time=1, text="x", speaker_id="a\nb")]
    (lane,) = build_page(rows).lanes
    assert lane.label(False) == "Speaker a b"


def test_rows_show_sensevoice_text_without_tags() -> None:
    for fmt, raw in _outputs(SENSEVOICE).items():
        rows = list(read_sentences(fmt, io.BytesIO(raw)))
        assert [(r.text, r.language, r.emotion) for r in rows] == [
            ("Hello world, this is SenseVoice.", "en", "happy"),
            ("今天天气好棒啊。", "zh", "neutral"),
            ("", None, None),
        ], fmt
        page = build_page(iter(rows))
        assert (page.languages, page.emotions) == (["en", "zh"], ["happy", "neutral"])
