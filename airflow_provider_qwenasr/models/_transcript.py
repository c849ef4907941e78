"""A result document: its channels' transcripts, their sentences and their words."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_qwenasr.exceptions import QwenASRResultError
from airflow_provider_qwenasr.models._coerce import _extra, _int, _list, _optional_str
from airflow_provider_qwenasr.models._speaker import SpeakerLabel, speaker_label, speaker_sort_key
from airflow_provider_qwenasr.models._tags import read_tags, strip_tags

__all__ = ["Sentence", "Transcript", "Transcription", "Word"]


def _ms(data: Mapping[str, Any], key: str) -> int:
    """A sentence time in ms: a finite number, or the document is refused (times drive subtitles)."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise QwenASRResultError(f"A sentence's {key} is {value!r}, not a number of milliseconds")
    try:
        return int(float(value))
    except (ValueError, OverflowError):
        raise QwenASRResultError(f"A sentence's {key} is {value!r}, not a number of milliseconds") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Word:
    """One word of a sentence, times in milliseconds from the start of the audio.

    SenseVoice's inline tags (``<|Speech|>``…) are taken out of ``text`` and ``punctuation``.
    """

    begin_time: int
    end_time: int
    text: str
    punctuation: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Word:
        """Parse a ``words[]`` item."""
        text = str(data.get("text") or "")
        punctuation = str(data.get("punctuation") or "")
        # Checked here, not only in strip_tags: a result holds thousands of words a minute.
        return cls(
            begin_time=_int(data.get("begin_time")),
            end_time=_int(data.get("end_time")),
            text=strip_tags(text) if "<|" in text else text,
            punctuation=strip_tags(punctuation) if "<|" in punctuation else punctuation,
        )


_SENTENCE_KEYS = (
    *("sentence_id", "begin_time", "end_time", "text"),
    *("language", "emotion", "speaker_id", "events", "words"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sentence:
    """One sentence of a transcript.

    ``sentence_id`` starts at 0 for Qwen3 and at 1 for Fun-ASR; ``language`` and ``emotion`` come from
    Qwen3, ``speaker_id`` from Fun-ASR with diarization: an int or a string (``"spk0"``), as given.
    SenseVoice's inline tags are read by :func:`~airflow_provider_qwenasr.models.read_tags`: ``text``
    is without them, the language and emotion they mark fill ``language`` and ``emotion`` when the
    sentence has none, and the audio events they mark are ``events`` (``Speech``, ``BGM``…).
    """

    sentence_id: int
    begin_time: int
    end_time: int
    text: str
    language: str | None = None
    emotion: str | None = None
    speaker_id: SpeakerLabel | None = None
    events: tuple[str, ...] = ()
    words: tuple[Word, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sentence:
        """Parse a ``sentences[]`` item.

        :raises QwenASRResultError: when the item is not an object or lacks its times.
        """
        if not isinstance(data, Mapping) or "begin_time" not in data or "end_time" not in data:
            raise QwenASRResultError("A sentence in the result has no begin_time/end_time")
        text = str(data.get("text") or "")
        language = _optional_str(data.get("language"))
        emotion = _optional_str(data.get("emotion"))
        events: tuple[str, ...] = ()
        if "<|" in text:  # only SenseVoice's texts hold tags: the rest skip the call
            text, language, emotion, events = read_tags(text, language, emotion)
        if "events" in data:  # no DashScope field: the jsonl output's, read back
            given = [e for e in _list(data["events"]) if isinstance(e, str)]
            events = tuple(dict.fromkeys([*given, *events]))
        return cls(
            sentence_id=_int(data.get("sentence_id")),
            begin_time=_ms(data, "begin_time"),
            end_time=_ms(data, "end_time"),
            text=text,
            language=language,
            emotion=emotion,
            speaker_id=speaker_label(data.get("speaker_id")),
            events=events,
            words=tuple(Word.from_dict(w) for w in _list(data.get("words")) if isinstance(w, Mapping)),
            extra=_extra(data, _SENTENCE_KEYS),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcript:
    """The text of one audio channel."""

    channel_id: int
    text: str
    sentences: tuple[Sentence, ...] = ()
    #: Fun-ASR only: milliseconds of speech in this channel.
    content_duration_ms: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transcript:
        """Parse a ``transcripts[]`` item.

        :raises QwenASRResultError: when the item is not an object.
        """
        if not isinstance(data, Mapping):
            raise QwenASRResultError("A transcript in the result is not an object")
        sentences = data.get("sentences") or []
        if not isinstance(sentences, list):
            raise QwenASRResultError("A transcript's sentences are not a list")
        duration = data.get("content_duration_in_milliseconds")
        return cls(
            channel_id=_int(data.get("channel_id")),
            text=str(data.get("text") or ""),
            sentences=tuple(Sentence.from_dict(s) for s in sentences),
            content_duration_ms=None if duration is None else _int(duration),
            extra=_extra(data, ("channel_id", "text", "sentences", "content_duration_in_milliseconds")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcription:
    """A whole result document: Qwen3 (``audio_info``) or Fun-ASR/Paraformer (``properties``)."""

    file_url: str | None
    #: ``"qwen3"`` or ``"funasr"``, told from the document's shape.
    family: str
    audio_format: str | None = None
    sample_rate: int | None = None
    #: Audio length in ms: Fun-ASR's ``original_duration_in_milliseconds``; for Qwen3 (which does not
    #: send it) the end of the last sentence, a lower bound.
    duration_ms: int | None = None
    transcripts: tuple[Transcript, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: object) -> Transcription:
        """Parse a result document.

        :raises QwenASRResultError: when ``data`` is not a result document.
        """
        if not isinstance(data, Mapping):
            raise QwenASRResultError("The result file is not a JSON object")
        transcripts_raw = data.get("transcripts")
        if transcripts_raw is None:
            transcripts_raw = []
        if not isinstance(transcripts_raw, list):
            raise QwenASRResultError("The result file's 'transcripts' is not a list")
        transcripts = tuple(Transcript.from_dict(t) for t in transcripts_raw)
        properties = data.get("properties")
        audio_info = data.get("audio_info")
        if isinstance(properties, Mapping):
            family = "funasr"
            audio_format = _optional_str(properties.get("audio_format"))
            rate = properties.get("original_sampling_rate")
            duration = properties.get("original_duration_in_milliseconds")
        else:
            family = "qwen3"
            info = audio_info if isinstance(audio_info, Mapping) else {}
            audio_format = _optional_str(info.get("format"))
            rate = info.get("sample_rate")
            ends = [s.end_time for t in transcripts for s in t.sentences]
            duration = max(ends) if ends else None
        return cls(
            file_url=_optional_str(data.get("file_url")),
            family=family,
            audio_format=audio_format,
            sample_rate=None if rate is None else _int(rate),
            duration_ms=None if duration is None else _int(duration),
            transcripts=transcripts,
            extra=_extra(data, ("file_url", "transcripts", "properties", "audio_info")),
        )

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        """Every sentence of every channel, in channel order."""
        return tuple(s for t in self.transcripts for s in t.sentences)

    def channel_sentences(self) -> Iterator[tuple[int, Sentence]]:
        """Yield ``(channel_id, sentence)`` pairs in channel order: the input of the renderers."""
        for transcript in self.transcripts:
            for sentence in transcript.sentences:
                yield transcript.channel_id, sentence

    @property
    def text(self) -> str:
        """The text of all channels, one channel per line."""
        return "\n".join(t.text for t in self.transcripts)

    @property
    def languages(self) -> list[str]:
        """Languages detected (Qwen3, or SenseVoice's tags), sorted."""
        return sorted({s.language for s in self.sentences if s.language})

    @property
    def emotions(self) -> list[str]:
        """Emotions detected (Qwen3, or SenseVoice's tags), sorted."""
        return sorted({s.emotion for s in self.sentences if s.emotion})

    @property
    def speakers(self) -> list[SpeakerLabel]:
        """Speaker labels (Fun-ASR with diarization), as given, in :func:`speaker_sort_key` order."""
        labels = {s.speaker_id for s in self.sentences if s.speaker_id is not None}
        return sorted(labels, key=speaker_sort_key)

    @property
    def characters(self) -> int:
        """How many characters of text the transcription holds."""
        return sum(len(t.text) for t in self.transcripts)
