"""The Transcript tab reads sentences through the core parser, so it agrees with the models and the fetch."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_qwenasr.models import Transcription
from airflow_provider_qwenasr.results.parse import iter_entries, scan_result
from airflow_provider_qwenasr.ui.sentences import build_page, read_sentences

#: Two transcripts, neither with a ``channel_id``: the models say both are channel 0.
NO_CHANNEL_IDS: dict[str, Any] = {
    "file_url": "https://example.com/a.wav",
    "transcripts": [
        {"text": "one", "sentences": [{"begin_time": 0, "end_time": 900, "text": "one"}]},
        {"text": "two", "sentences": [{"begin_time": 1000, "end_time": 1900, "text": "two"}]},
    ],
}


def _core_channels(doc: dict[str, Any], tmp_path: Path) -> list[int]:
    """The channel of each sentence according to the models and to the fetch's streaming parser."""
    models = [channel for channel, _ in Transcription.from_dict(doc).channel_sentences()]
    path = tmp_path / "result.json"
    path.write_text(json.dumps(doc))
    fetch = [channel for channel, _ in iter_entries(path, scan_result(path))]
    assert models == fetch
    return models


def test_a_transcript_without_channel_id_is_channel_0_as_the_models_say(tmp_path: Path) -> None:
    """Regression: the UI numbered transcripts by position (channels 0 and 1) where the models and
    the fetch say 0 and 0; the Transcript tab now reads through the core parser and agrees."""
    raw = json.dumps(NO_CHANNEL_IDS).encode()
    ui = [row.channel_id for row in read_sentences("json", io.BytesIO(raw))]
    assert _core_channels(NO_CHANNEL_IDS, tmp_path) == [0, 0]
    assert ui == [0, 0]
    page = build_page(read_sentences("json", io.BytesIO(raw)))
    assert [lane.key for lane in page.lanes] == ["c0"]


#: ``channel_id`` after the sentences in each transcript: only a parser that reads the layout first
#: (the core's scan) gives each sentence its channel.
CHANNEL_ID_LAST: dict[str, Any] = {
    "transcripts": [
        {"sentences": [{"begin_time": 0, "end_time": 5, "text": "a", "speaker_id": 1}], "channel_id": 1},
        {"sentences": [{"begin_time": 6, "end_time": 9, "text": "b", "emotion": ""}], "channel_id": 0},
    ]
}


class _Unseekable(io.RawIOBase):
    """A stream that reads forward only, as some object stores' bodies do."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("doc", [NO_CHANNEL_IDS, CHANNEL_ID_LAST], ids=["no-channel-id", "channel-id-last"])
def test_json_and_jsonl_outputs_read_as_the_models_parse(doc: dict[str, Any], tmp_path: Path) -> None:
    """Rows of the json output, of the jsonl output the fetch writes from it, and the models' pairs agree."""
    from airflow_provider_qwenasr.formats import write_jsonl

    expected = [
        (channel, s.sentence_id, s.begin_time, s.end_time, s.text, s.speaker_id, s.emotion or None)
        for channel, s in Transcription.from_dict(doc).channel_sentences()
    ]
    assert [e[0] for e in expected] == _core_channels(doc, tmp_path)
    out = io.StringIO()
    write_jsonl(Transcription.from_dict(doc).channel_sentences(), out)
    sources = {
        "json": json.dumps(doc).encode(),
        "jsonl": out.getvalue().encode(),
    }
    for fmt, raw in sources.items():
        for stream in (io.BytesIO(raw), io.BufferedReader(_Unseekable(raw))):
            rows = [
                (r.channel_id, r.sentence_id, r.begin_time, r.end_time, r.text, r.speaker_id, r.emotion)
                for r in read_sentences(fmt, stream)
            ]
            assert rows == expected, (fmt, type(stream).__name__)


def test_an_output_the_core_parser_refuses_is_an_error_not_a_guess() -> None:
    """A sentence without times is refused, as the fetch refuses it (the page shows a notice)."""
    from airflow_provider_qwenasr.exceptions import QwenASRResultError

    bad_json = json.dumps({"transcripts": [{"sentences": [{"text": "no times"}]}]}).encode()
    with pytest.raises(QwenASRResultError, match="begin_time"):
        list(read_sentences("json", io.BytesIO(bad_json)))
    with pytest.raises(QwenASRResultError, match="begin_time"):
        list(read_sentences("jsonl", io.BytesIO(b'{"text": "no times"}\n')))
    with pytest.raises(QwenASRResultError, match="Line 2"):
        list(read_sentences("jsonl", io.BytesIO(b'{"begin_time": 0, "end_time": 1}\n{not json\n')))
