"""The UI's pure parts: streaming sentences, paging, lanes, the SVG timeline, manifests, error texts."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_qwenasr.ui.manifest import OutputRefused, is_manifest, output_uri, readable_output
from airflow_provider_qwenasr.ui.sentences import MAX_SEGMENTS, SentenceRow, build_page, read_sentences
from airflow_provider_qwenasr.ui.store import parse_error_fields
from airflow_provider_qwenasr.ui.timeline import clock, color_for, render_timeline

DOC = {
    "file_url": "https://example.com/a.wav",
    "transcripts": [
        {
            "channel_id": 1,
            "sentences": [
                {
                    "begin_time": 0,
                    "end_time": 900,
                    "text": "one",
                    "sentence_id": 1,
                    "speaker_id": 0,
                    "words": [{"begin_time": 0, "end_time": 900, "text": "one", "punctuation": ""}],
                },
                {
                    "begin_time": 1000,
                    "end_time": 1900,
                    "text": "two",
                    "sentence_id": 2,
                    "speaker_id": 1,
                    "words": [],
                },
            ],
        },
        {
            "channel_id": 2,
            "sentences": [{"begin_time": 5, "end_time": 7, "text": "three", "emotion": "happy"}],
        },
    ],
}


def test_json_output_streams_sentences_with_their_channel() -> None:
    """The original document's sentences come out with channel ids and without words."""
    rows = list(read_sentences("json", io.BytesIO(json.dumps(DOC).encode())))
    assert [(r.channel_id, r.text, r.speaker_id, r.emotion) for r in rows] == [
        (1, "one", 0, None),
        (1, "two", 1, None),
        (2, "three", None, "happy"),
    ]
    assert rows[0].lane == "c1-s0"
    assert rows[2].lane == "c2"


def test_jsonl_output_splits_on_newline_only() -> None:
    """U+2028 inside a text (escaped by the writer, or raw) never splits a record."""
    lines = [
        {"channel_id": 0, "begin_time": 0, "end_time": 1, "text": "a\u2028b"},
        {"begin_time": 2, "end_time": 3, "text": "c"},
    ]
    raw = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    assert [r.text for r in read_sentences("jsonl", io.BytesIO(raw))] == ["a\u2028b", "c"]


def _many(count: int) -> Iterator[SentenceRow]:
    for i in range(count):
        yield SentenceRow(i % 2, i, i * 1000, i * 1000 + 900, f"s{i}", emotion=("happy", "sad")[i % 3 == 0])


def test_build_page_keeps_one_page_and_counts_all() -> None:
    """One pass over 10,000 sentences keeps ``size`` rows, counts the lane, and knows every lane."""
    page = build_page(_many(10_000), lane="c1", page=3, size=50)
    assert [r.sentence_id for r in page.rows] == list(range(201, 301, 2))
    assert page.total == 5_000
    assert page.pages == 100
    assert [lane.key for lane in page.lanes] == ["c0", "c1"]
    assert page.duration_ms == 9_999_900
    assert page.emotions == ["sad", "happy"]


def test_timeline_segments_stay_bounded() -> None:
    """Alternating emotions cannot grow a lane past MAX_SEGMENTS: neighbours merge instead."""
    page = build_page(_many(20_000), size=10)
    assert all(len(lane.segments) <= MAX_SEGMENTS for lane in page.lanes)
    assert page.lanes[0].segments[0].begin == 0


def test_timeline_is_svg_with_escaped_labels() -> None:
    """Lane labels and emotions are escaped; emotions get their colours."""
    rows = [
        SentenceRow(0, 0, 0, 1000, "x", emotion="<img onerror=x>"),
        SentenceRow(0, 1, 2000, 3000, "y", emotion="happy"),
    ]
    page = build_page(rows)
    svg = str(render_timeline(page.lanes, page.duration_ms, several_channels=False))
    assert svg.startswith("<svg")
    assert "<img" not in svg
    assert "&lt;img onerror=x&gt;" in svg
    assert color_for("happy") in svg
    assert str(render_timeline([], 0, several_channels=False)) == ""


@pytest.mark.parametrize(
    ("ms", "text"), [(0, "0:00.0"), (61_500, "1:01.5"), (3_600_000, "1:00:00"), (90_000_000, "25:00:00")]
)
def test_clock(ms: int, text: str) -> None:
    """Start times as m:ss.s, and h:mm:ss past an hour (no wrap at 24 h)."""
    assert clock(ms) == text


def test_parse_error_fields_of_a_qwenasr_error() -> None:
    """The fields of ``QwenASRError`` text, commas in the message included."""
    from airflow_provider_qwenasr.exceptions import QwenASRTaskFailedError

    text = str(
        QwenASRTaskFailedError(
            "Task failed",
            task_id="t-1",
            code="X_Y",
            service_message="bad, very bad",
            request_id="r-9",
            hint="Retry later",
        )
    )
    assert parse_error_fields(text) == {
        "task_id": "t-1",
        "code": "X_Y",
        "message": "bad, very bad",
        "request_id": "r-9",
    }


def test_manifest_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only signed outputs the manifest names (and lists) are served; jsonl is preferred for reading."""
    from airflow_provider_qwenasr.output_signing import OutputOwner, sign_manifest

    monkeypatch.setenv("AIRFLOW__QWEN_ASR__UI_LOCAL_ROOTS", "/o")
    monkeypatch.setenv("AIRFLOW__QWEN_ASR__UI_SIGNING_KEY", "new-key,old-key")
    owner = OutputOwner("d", "r", "t", -1)
    manifest: dict[str, Any] = {
        "asr_task_id": "t",
        "output_conn_id": None,
        "outputs": ["file:///o/a.json", "file:///o/a.jsonl", "file://localhost/o/b.txt"],
        "files": [
            {
                "index": 0,
                "outputs": {
                    "json": "file:///o/a.json",
                    "jsonl": "file:///o/a.jsonl",
                    "txt": "file:///elsewhere.txt",
                    "srt": "file://localhost/o/b.txt",
                },
            }
        ],
    }
    assert sign_manifest(manifest, owner)
    assert is_manifest(manifest)
    assert not is_manifest({"files": []})
    assert not is_manifest({"asr_task_id": "t", "files": [], "status": "SUCCEEDED"})  # the sensor's summary
    assert not is_manifest("x")
    assert output_uri(manifest, owner, 0, "json") == "file:///o/a.json"
    assert output_uri(manifest, owner, 0, "srt") == "file:///o/b.txt"  # canonical: what is opened
    assert readable_output(manifest, owner, 0) == ("jsonl", "file:///o/a.jsonl")
    for index, fmt in ((0, "txt"), (0, "docx"), (1, "json")):
        with pytest.raises(OutputRefused):
            output_uri(manifest, owner, index, fmt)
    for other in (
        OutputOwner("d", "r", "t", 0),
        OutputOwner("d", "r2", "t", -1),
        OutputOwner("e", "r", "t", -1),
    ):
        with pytest.raises(OutputRefused, match="not signed"):
            output_uri(manifest, other, 0, "json")
    monkeypatch.setenv("AIRFLOW__QWEN_ASR__UI_SIGNING_KEY", "newer-key,new-key")  # rotated: still checks
    assert output_uri(manifest, owner, 0, "json") == "file:///o/a.json"
    monkeypatch.setenv("AIRFLOW__QWEN_ASR__UI_SIGNING_KEY", "another-key")
    with pytest.raises(OutputRefused, match="not signed"):
        output_uri(manifest, owner, 0, "json")
    monkeypatch.setenv("AIRFLOW__QWEN_ASR__UI_SIGNING_KEY", "new-key")
    monkeypatch.setenv("AIRFLOW__QWEN_ASR__UI_LOCAL_ROOTS", "/elsewhere,/other")
    with pytest.raises(OutputRefused, match="ui_local_roots"):
        output_uri(manifest, owner, 0, "json")
    monkeypatch.delenv("AIRFLOW__QWEN_ASR__UI_LOCAL_ROOTS")
    with pytest.raises(OutputRefused, match="not set"):  # locked down by default
        output_uri(manifest, owner, 0, "json")
