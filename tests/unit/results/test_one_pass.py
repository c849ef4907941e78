"""One pass renders every format exactly as each format's own writer does on the parsed document.

The fetch reads a result once and feeds every requested format from that pass (``formats.write_all``),
cutting each sentence's cues once for srt and vtt when their labels agree, and takes the channel
layout from its scan. The reference here is the other path, independent of both: the document parsed
whole (``Transcription.from_dict``) and each format written on its own by its ``write_*`` function,
which finds the channel layout itself by looking ahead.
"""

from __future__ import annotations

import functools
import inspect
import io
import json
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_provider_qwenasr import formats
from airflow_provider_qwenasr._api.catalog import family_of
from airflow_provider_qwenasr.emulator.hints import AudioFacts
from airflow_provider_qwenasr.emulator.results import write_result
from airflow_provider_qwenasr.exceptions import QwenASRInputError
from airflow_provider_qwenasr.formats._text import _collapse
from airflow_provider_qwenasr.models import Transcription
from airflow_provider_qwenasr.results.parse import scan_result
from airflow_provider_qwenasr.results.render import write_outputs

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
TEXT_FORMATS = ("txt", "srt", "vtt", "jsonl")

#: Speakers given as strings, a channel of blank or tag-only sentences (no txt paragraph, but a
#: channel for the subtitles' labels), newlines and an arrow in the text.
_EDGES = {
    "file_url": "https://a.test/edges.wav",
    "transcripts": [
        {
            "channel_id": 0,
            "text": "Hello there. 你好。",
            "sentences": [
                {"begin_time": 0, "end_time": 900, "text": "Hello\nthere -->", "speaker_id": "spk1"},
                {"begin_time": 900, "end_time": 1500, "text": "你好，世界。", "speaker_id": "spk1"},  # noqa: RUF001
                {"begin_time": 1500, "end_time": 1400, "text": "Back again.", "speaker_id": "spk0"},
            ],
        },
        {
            "channel_id": 1,
            "text": "",
            "sentences": [
                {"begin_time": 100, "end_time": 200, "text": "  "},
                {"begin_time": 300, "end_time": 400, "text": "<|en|><|Speech|><|/Speech|>"},
            ],
        },
    ],
}


def _generated(tmp: Path, family: str, megabytes: float, **parameters: Any) -> Path:
    channels = parameters.get("channel_id", [0])
    facts = AudioFacts(
        seed=11,
        audio_seconds=megabytes * 1e6 / 190,
        channels=max(channels) + 1,
        sample_rate=16000,
        format="wav",
        fail=None,
        language=None,
        pending_seconds=None,
        running_seconds=None,
    )
    path = tmp / f"{family}-{megabytes}.json"
    write_result(path, family_of(family), "https://a.test/big.wav", facts, parameters)
    return path


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("one-pass")
    edges = tmp / "edges.json"
    edges.write_text(json.dumps(_EDGES, ensure_ascii=False), encoding="utf-8")
    found = {p.name: p for p in sorted(SHARED.glob("result-example*.json"))}
    found["edges"] = edges
    # Large: about 3 MB of Qwen3 with words; Fun-ASR diarized on two channels; SenseVoice's tags.
    found["qwen3-words"] = _generated(tmp, "qwen3-asr-flash-filetrans", 3, enable_words=True)
    found["funasr-two-channels"] = _generated(tmp, "fun-asr", 3, channel_id=[0, 1], diarization_enabled=True)
    found["sensevoice"] = _generated(tmp, "sensevoice-v1", 1)
    return found


@functools.cache
def _model(document: Path) -> Transcription:
    return Transcription.from_dict(json.loads(document.read_bytes()))


def _reference(document: Path, fmt: str, options: dict[str, Any]) -> str:
    model = _model(document)
    out = io.StringIO()
    formats.write(fmt, model.channel_sentences(), out, **options)
    return out.getvalue()


OPTION_SETS = [
    {},
    {"srt": {"speaker_labels": False}, "vtt": {"max_line_chars": 20, "max_lines": 1}},
    {"srt": {"max_line_chars": 16}, "vtt": {"max_line_chars": 16}, "txt": {"speaker_labels": False}},
]


@pytest.mark.parametrize("options", OPTION_SETS, ids=["defaults", "srt-unlabelled-vtt-narrow", "narrow"])
@pytest.mark.parametrize(
    "name",
    [
        "result-example.json",
        "result-example-funasr.json",
        "result-example-funasr-diarized.json",
        "edges",
        "qwen3-words",
        "funasr-two-channels",
        "sensevoice",
    ],
)
def test_one_pass_writes_what_each_writer_writes_alone(
    documents: dict[str, Path], name: str, options: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    document = documents[name]
    stats = scan_result(document)
    root = ObjectStoragePath(tmp_path.joinpath("out").as_uri())
    outputs = write_outputs(
        document,
        document,
        stats,
        root,
        "doc",
        tmp_path / "scratch",
        formats=("json", *TEXT_FORMATS),
        options=options,
        written=[],
    )
    assert Path(outputs["json"].removeprefix("file://")).read_bytes() == document.read_bytes()
    for fmt in TEXT_FORMATS:
        written = Path(outputs[fmt].removeprefix("file://")).read_text(encoding="utf-8")
        assert written == _reference(document, fmt, options.get(fmt, {})), fmt
        assert written.strip() or name == "edges", f"{fmt} of {name} is empty: the test proves nothing"


def test_each_format_alone_and_any_subset_agree(documents: dict[str, Path], tmp_path: Path) -> None:
    """A format rendered alone (txt without word objects) equals the same format rendered with others."""
    document = documents["funasr-two-channels"]
    stats = scan_result(document)
    for n, chosen in enumerate([("txt",), ("srt",), ("vtt", "txt"), ("jsonl", "srt")]):
        root = ObjectStoragePath(tmp_path.joinpath(f"out{n}").as_uri())
        outputs = write_outputs(
            document, document, stats, root, "doc", tmp_path / f"s{n}", formats=chosen, options={}, written=[]
        )
        for fmt in chosen:
            written = Path(outputs[fmt].removeprefix("file://")).read_text(encoding="utf-8")
            assert written == _reference(document, fmt, {}), (chosen, fmt)


def test_the_scan_counts_the_sentences_a_txt_line_is_made_of(documents: dict[str, Path]) -> None:
    """``spoken_count`` is what decides whether txt heads its paragraphs ``[Channel N]``."""
    for name, document in documents.items():
        model = _model(document)
        stats = scan_result(document)
        expected = [sum(1 for s in t.sentences if _collapse(s.text)) for t in model.transcripts]
        assert [c.spoken_count for c in stats.channels] == expected, name
    edges = scan_result(documents["edges"])
    assert [(c.sentence_count, c.spoken_count) for c in edges.channels] == [(3, 3), (2, 0)]


def test_a_writer_opened_for_one_sentence_at_a_time_needs_the_layout() -> None:
    """It cannot look ahead, so a missing multi_channel is an error, not a guess."""
    for fmt in ("txt", "srt", "vtt"):
        with pytest.raises(QwenASRInputError, match="multi_channel"):
            formats.open_writer(fmt, io.StringIO())
        with pytest.raises(QwenASRInputError, match="multi_channel"):
            formats.open_writer(fmt, io.StringIO(), multi_channel=None)
    with pytest.raises(QwenASRInputError, match="Unknown option"):
        formats.open_writer("srt", io.StringIO(), multi_channel=False, colour="red")
    with formats.open_writer("jsonl", io.StringIO()) as writer:
        assert writer.finish() == 0


def _keywords(function: Any) -> set[str]:
    parameters = inspect.signature(function).parameters.values()
    return {p.name for p in parameters if p.kind is p.KEYWORD_ONLY and p.name != "vtt"}


def test_writers_take_the_options_of_their_write_functions() -> None:
    """One set of options per format: the push writers take exactly what ``write_*`` takes."""
    for fmt, opener in formats._OPENERS.items():
        assert _keywords(opener) == _keywords(formats._WRITERS[fmt]), fmt
