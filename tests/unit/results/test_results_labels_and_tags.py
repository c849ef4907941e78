"""The streaming parser and the output readers agree with the models: string speakers, SenseVoice tags."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_qwenasr.formats import write_jsonl
from airflow_provider_qwenasr.models import Transcription
from airflow_provider_qwenasr.results.parse import scan_result
from airflow_provider_qwenasr.results.read import iter_json_output, iter_jsonl_output
from tests.unit.models.label_documents import SENSEVOICE, STRING_SPEAKERS
from tests.unit.results.test_results_parse import _expected, _streamed, _write


def test_string_speakers_stream_as_the_model_gives_them(tmp_path: Path) -> None:
    path = _write(tmp_path, STRING_SPEAKERS)
    assert _streamed(path) == _expected(STRING_SPEAKERS)
    stats = scan_result(path)
    assert stats.speakers == ["spk0", "spk1", "spk2", "spk10"]
    assert stats.summary()["speakers"] == ["spk0", "spk1", "spk2", "spk10"]


def test_mixed_speakers_are_ordered_once(tmp_path: Path) -> None:
    document = json.loads(json.dumps(STRING_SPEAKERS))
    for sentence, speaker in zip(
        document["transcripts"][0]["sentences"], [10, "spk1", 2, True, "spk0"], strict=True
    ):
        sentence["speaker_id"] = speaker
    assert scan_result(_write(tmp_path, document)).speakers == [2, 10, "spk0", "spk1"]
    assert Transcription.from_dict(document).speakers == [2, 10, "spk0", "spk1"]


def test_sensevoice_streams_as_the_model_reads_it(tmp_path: Path) -> None:
    """The scan's languages and emotions come from the tags too, as the model's do."""
    path = _write(tmp_path, SENSEVOICE)
    assert _streamed(path) == _expected(SENSEVOICE)
    stats = scan_result(path)
    assert (stats.languages, stats.emotions) == (["en", "zh"], ["happy", "neutral"])


def test_a_json_output_reads_back_with_clean_text(tmp_path: Path) -> None:
    raw = json.dumps(SENSEVOICE, ensure_ascii=False).encode()
    sentences = [s for _, s in iter_json_output(io.BytesIO(raw), words=True)]
    assert [(s.text, s.language, s.emotion, s.events) for s in sentences] == [
        ("Hello world, this is SenseVoice.", "en", "happy", ("Speech",)),
        ("今天天气好棒啊。", "zh", "neutral", ("BGM", "Applause")),
        ("", None, None, ()),
    ]
    assert [w.text for w in sentences[0].words] == ["Hello ", "world"]


def test_the_jsonl_output_reads_back_to_the_same_sentences() -> None:
    """Sentence -> jsonl -> Sentence is the identity: the events key, string speakers and all."""
    for document in (SENSEVOICE, STRING_SPEAKERS):
        pairs = list(Transcription.from_dict(document).channel_sentences())
        out = io.StringIO()
        write_jsonl(pairs, out)
        assert list(iter_jsonl_output(io.BytesIO(out.getvalue().encode()), words=True)) == pairs


# -- property: tags, labels and fields in any mix stream to the model's figures -------------------------

_TAG_PIECES = [
    *("<|Speech|>", "<|/Speech|>", "<|BGM|>", "<|HAPPY|>", "<|sad|>", "<|en|>", "<|zh|>", "<|yue|>"),
    *("<|withitn|>", "<|SPECIAL_TOKEN_1|>", "<|nospeech|>", "<|", "|>", " ", "  ", "\n", "hi", "今天", ""),
]
_texts = st.lists(st.sampled_from(_TAG_PIECES), max_size=8).map("".join)
_labels = st.none() | st.sampled_from(["", "en", "happy", 3, True])
_speakers = (
    st.none()
    | st.booleans()
    | st.integers(0, 12)
    | st.sampled_from(["spk0", "spk2", "spk10", "", "1", 1.0, 1.5])
)


@st.composite
def _document(draw: st.DrawFn) -> dict[str, Any]:
    transcripts = []
    for channel in range(draw(st.integers(1, 2))):
        sentences = []
        for index in range(draw(st.integers(0, 4))):
            sentence: dict[str, Any] = {"begin_time": index, "end_time": index + 1, "text": draw(_texts)}
            for key, values in (("language", _labels), ("emotion", _labels), ("speaker_id", _speakers)):
                if draw(st.booleans()):
                    sentence[key] = draw(values)
            sentences.append(sentence)
        transcripts.append({"channel_id": channel, "text": draw(_texts), "sentences": sentences})
    return {"properties": {}, "transcripts": transcripts}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=_document())
def test_tagged_documents_stream_like_the_model(tmp_path: Path, document: dict[str, Any]) -> None:
    assert _streamed(_write(tmp_path, document, "tagged.json")) == _expected(document)
