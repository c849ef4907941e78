"""Read a result document saved to a local file, streaming, with memory bounded by one sentence.

A result can be hundreds of megabytes (ten hours of audio with word timings), so it is never loaded
whole. Two kinds of pass read it with ijson:

* :func:`scan_result` walks every JSON event once, checks the document the way
  :meth:`Transcription.from_dict` would, and gathers the statistics the manifest needs (characters,
  sentences, languages, …) plus the layout of the channels, without building any sentence.
* :func:`iter_entries` then yields ``(channel_id, Sentence)`` pairs, the input of the renderers in
  :mod:`airflow_provider_qwenasr.formats`, one sentence in memory at a time. It uses ijson's C
  ``items`` (about three times faster than walking events in Python) and the layout from the scan to
  know which channel each sentence belongs to.

The statistics equal those of ``Transcription.from_dict(json.load(f))`` on any document both accept.
The few documents only ``json.load`` accepts (``NaN``, ``Infinity``, numbers past a double) are
refused here as invalid JSON, and a structural key repeated in one object (which ``json.load``
silently resolves to its last value) is refused as ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_qwenasr.exceptions import QwenASRResultError
from airflow_provider_qwenasr.models import SpeakerLabel, read_tags, speaker_label, speaker_sort_key

# The models' coercions, so counts and times agree with them.
from airflow_provider_qwenasr.models._coerce import _int as _as_int
from airflow_provider_qwenasr.models._coerce import _optional_str

if TYPE_CHECKING:
    from airflow_provider_qwenasr.models import Sentence

__all__ = ["ChannelStats", "ResultJSONError", "ResultStats", "iter_entries", "scan_result"]

#: ijson's prefix of every sentence object, for its C ``items``.
_SENTENCE_PREFIX = "transcripts.item.sentences.item"
_OPEN = frozenset({"start_map", "start_array"})
_CLOSE = frozenset({"end_map", "end_array"})
_BUFFER = 1 << 16


class ResultJSONError(QwenASRResultError):
    """Raised when a result file is not JSON at all: empty, truncated or garbled.

    Unlike a well-formed document of the wrong shape, this can be a transport accident, so the
    fetch downloads the file again before giving up.
    """


@dataclass(frozen=True, slots=True)
class ChannelStats:
    """One ``transcripts[]`` item: its channel, text length and sentence count."""

    channel_id: int
    characters: int
    sentence_count: int
    #: The sentences whose text is not blank (tags aside): those a txt line is made of.
    spoken_count: int = 0

    def summary(self) -> dict[str, int]:
        """The manifest's ``channels[]`` item."""
        return {
            "channel_id": self.channel_id,
            "characters": self.characters,
            "sentence_count": self.sentence_count,
        }


@dataclass(slots=True)
class ResultStats:
    """What one pass over a result document learnt: the manifest's per-file figures.

    Every figure equals the same property of :class:`~airflow_provider_qwenasr.models.Transcription`.
    """

    file_url: str | None = None
    #: ``"qwen3"`` or ``"funasr"``, told from the document's shape.
    family: str = "qwen3"
    duration_ms: int | None = None
    languages: list[str] = field(default_factory=list)
    emotions: list[str] = field(default_factory=list)
    speakers: list[SpeakerLabel] = field(default_factory=list)
    characters: int = 0
    sentence_count: int = 0
    channels: list[ChannelStats] = field(default_factory=list)
    #: The transcription's text (channels joined by newlines), when the scan was asked to keep it.
    text: str | None = None
    #: True when the text was asked for but exceeded the limit given to the scan (then ``text`` is None).
    text_over_limit: bool = False
    #: A key whose dots make ijson's prefixes ambiguous was seen; sentences are then read the slow way.
    exact_walk: bool = False

    def summary(self) -> dict[str, Any]:
        """The statistics as the manifest shows them."""
        return {
            "duration_ms": self.duration_ms,
            "languages": list(self.languages),
            "emotions": list(self.emotions),
            "speakers": list(self.speakers),
            "characters": self.characters,
            "sentence_count": self.sentence_count,
            "channels": [c.summary() for c in self.channels],
        }


def _skip(event: str, events: Iterator[tuple[str, Any]]) -> None:
    """Consume the rest of the value that began with ``event`` (iteratively: no recursion limit)."""
    if event not in _OPEN:
        return
    depth = 1
    for event, _ in events:
        if event in _OPEN:
            depth += 1
        elif event in _CLOSE:
            depth -= 1
            if depth == 0:
                return


def _build(event: str, value: Any, events: Iterator[tuple[str, Any]]) -> Any:
    """Build the Python value that began with ``(event, value)``, as ``json.load`` would."""
    if event not in _OPEN:
        return value
    from ijson.common import ObjectBuilder

    builder = ObjectBuilder()
    builder.event(event, value)
    depth = 1
    for event, value in events:
        builder.event(event, value)
        if event in _OPEN:
            depth += 1
        elif event in _CLOSE:
            depth -= 1
            if depth == 0:
                break
    return builder.value


class _Scanner:
    """The state of one :func:`scan_result` pass."""

    def __init__(self, events: Iterator[tuple[str, Any]], text_limit: int | None) -> None:
        self.events = events
        self.text_limit = text_limit
        self.stats = ResultStats()
        self.languages: set[str] = set()
        self.emotions: set[str] = set()
        self.speakers: set[SpeakerLabel] = set()
        self.last_end: int | None = None
        self.texts: list[str] = []
        self.text_chars = 0

    def next(self) -> tuple[str, Any]:
        try:
            return next(self.events)
        except StopIteration:
            raise ResultJSONError("The result file ends before its JSON document does") from None

    def document(self) -> ResultStats:
        event, _ = self.next()
        if event != "start_map":
            raise QwenASRResultError("The result file is not a JSON object")
        top: dict[str, Any] = {}
        seen: set[str] = set()
        while True:
            event, key = self.next()
            if event == "end_map":
                break
            self._check_key(key, seen, "transcripts.")
            event, value = self.next()
            if key == "transcripts":
                if event == "start_array":
                    self.transcripts()
                elif event != "null":
                    _skip(event, self.events)
                    raise QwenASRResultError("The result file's 'transcripts' is not a list")
            elif key in ("file_url", "properties", "audio_info"):
                top[key] = _build(event, value, self.events)
            else:
                _skip(event, self.events)
        # Anything after the document (trailing garbage) makes ijson raise here, as json.load would.
        for _ in self.events:
            pass
        return self.finish(top)

    def _check_key(self, key: str, seen: set[str], dotted_prefix: str) -> None:
        if key in seen:
            raise QwenASRResultError(
                f"The result file repeats the key {key[:40]!r} in one object, so its meaning is ambiguous"
            )
        seen.add(key)
        if key.startswith(dotted_prefix):
            self.stats.exact_walk = True

    def transcripts(self) -> None:
        while True:
            event, _ = self.next()
            if event == "end_array":
                return
            if event != "start_map":
                _skip(event, self.events)
                raise QwenASRResultError("A transcript in the result is not an object")
            self.transcript()

    def transcript(self) -> None:
        seen: set[str] = set()
        channel_id, text, count, spoken = 0, "", 0, 0
        while True:
            event, key = self.next()
            if event == "end_map":
                break
            self._check_key(key, seen, "sentences.")
            event, value = self.next()
            if key == "sentences":
                if event == "start_array":
                    count, spoken = self.sentences()
                elif _build(event, value, self.events):
                    raise QwenASRResultError("A transcript's sentences are not a list")
            elif key == "channel_id":
                channel_id = _as_int(_build(event, value, self.events))
            elif key == "text":
                text = str(_build(event, value, self.events) or "")
            else:
                _skip(event, self.events)
        self.stats.channels.append(ChannelStats(channel_id, len(text), count, spoken))
        self.stats.characters += len(text)
        self.stats.sentence_count += count
        if self.text_limit is not None and not self.stats.text_over_limit:
            self.text_chars += len(text) + 1
            if self.text_chars > self.text_limit:
                self.stats.text_over_limit = True
                self.texts = []
            else:
                self.texts.append(text)

    def sentences(self) -> tuple[int, int]:
        """Walk a ``sentences`` list; return how many sentences it holds, and how many are not blank."""
        count = spoken = 0
        events = self.events
        while True:
            event, _ = self.next()
            if event == "end_array":
                return count, spoken
            if event != "start_map":
                _skip(event, events)
                raise QwenASRResultError("A sentence in the result has no begin_time/end_time")
            has_begin = has_end = False
            end = 0
            language = emotion = None
            text = ""
            speaker: SpeakerLabel | None = None
            # Later duplicates overwrite earlier ones, as they do in json.load's dict.
            while True:
                event, key = self.next()
                if event == "end_map":
                    break
                event, value = self.next()
                if key == "words":
                    _skip(event, events)  # the models ignore words that are not a list, as here
                elif key == "begin_time":
                    _skip(event, events)
                    has_begin = True
                elif key == "end_time":
                    end = _as_int(_build(event, value, events))
                    has_end = True
                elif key == "text":
                    text = str(_build(event, value, events) or "")
                elif key == "language":
                    language = _optional_str(_build(event, value, events))
                elif key == "emotion":
                    emotion = _optional_str(_build(event, value, events))
                elif key == "speaker_id":
                    speaker = speaker_label(_build(event, value, events))
                else:
                    _skip(event, events)
            if not (has_begin and has_end):
                raise QwenASRResultError("A sentence in the result has no begin_time/end_time")
            count += 1
            if "<|" in text:  # SenseVoice's tags fill a missing language or emotion, as in the models
                text, language, emotion, _ = read_tags(text, language, emotion)
            if text and not text.isspace():  # what str.split() (the renderers' collapse) keeps
                spoken += 1
            if language:
                self.languages.add(language)
            if emotion:
                self.emotions.add(emotion)
            if speaker is not None:
                self.speakers.add(speaker)
            if self.last_end is None or end > self.last_end:
                self.last_end = end

    def finish(self, top: dict[str, Any]) -> ResultStats:
        stats = self.stats
        stats.file_url = _optional_str(top.get("file_url"))
        properties = top.get("properties")
        if isinstance(properties, dict):
            stats.family = "funasr"
            duration = properties.get("original_duration_in_milliseconds")
            stats.duration_ms = None if duration is None else _as_int(duration)
        else:
            # Qwen3 does not send the audio length: the end of the last sentence is a lower bound.
            stats.family = "qwen3"
            stats.duration_ms = self.last_end
        stats.languages = sorted(self.languages)
        stats.emotions = sorted(self.emotions)
        stats.speakers = sorted(self.speakers, key=speaker_sort_key)
        if self.text_limit is not None and not stats.text_over_limit:
            stats.text = "\n".join(self.texts)
        return stats


def _json_error(exc: Exception) -> ResultJSONError:
    # ijson's message quotes the document around the error: keep only its first line, which names
    # the problem, so transcript text does not spill into logs.
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ResultJSONError(f"The result file is not valid JSON ({first[:160]})")


def scan_result(source: str | Path | IO[bytes], *, text_limit: int | None = None) -> ResultStats:
    """Check a result document and return its statistics, in one streaming pass.

    :param source: a local file (path or binary file object, read from its current position).
    :param text_limit: keep the transcription's text in :attr:`ResultStats.text` while it is at most
        this many characters (``None``: do not keep it); past it, ``text_over_limit`` is set instead.
    :raises ResultJSONError: when the file is empty, truncated or not JSON.
    :raises QwenASRResultError: when the JSON is not a result document (the same cases as
        :meth:`Transcription.from_dict`), or repeats a structural key.
    """
    import ijson

    if isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            return scan_result(handle, text_limit=text_limit)
    events = iter(ijson.basic_parse(source, use_float=True, buf_size=_BUFFER))
    try:
        return _Scanner(events, text_limit).document()
    except ijson.JSONError as exc:
        raise _json_error(exc) from None
    except UnicodeDecodeError as exc:
        raise _json_error(exc) from None


def _walk_sentences(events: Iterator[tuple[str, Any]]) -> Iterator[Any]:
    """Yield every sentence object of a scanned document, walking events (exact, slower)."""
    next(events)  # the document's start_map
    for event, key in events:
        if event == "end_map":
            return
        event, value = next(events)
        if key != "transcripts" or event != "start_array":
            _skip(event, events)
            continue
        for event, _ in events:  # each transcript: a map, as the scan checked
            if event == "end_array":
                break
            for event, name in events:
                if event == "end_map":
                    break
                event, value = next(events)
                if name == "sentences" and event == "start_array":
                    for event, value in events:
                        if event == "end_array":
                            break
                        yield _build(event, value, events)
                else:
                    _skip(event, events)


def iter_entries(
    source: str | Path | IO[bytes], stats: ResultStats, *, words: bool = True
) -> Iterator[tuple[int, Sentence]]:
    """Yield ``(channel_id, Sentence)`` for every sentence of a document :func:`scan_result` accepted.

    The pairs are those of :meth:`Transcription.channel_sentences`, in the same order; only one
    sentence is in memory at a time. The file must not change between the scan and this pass.

    :param source: a local file (path), or a binary file object read from its current position
        (the caller rewinds it to where the scan began).
    :param words: with False, sentences come without their ``words`` (for a renderer that does not
        read them, building thousands of ``Word`` objects per minute of audio is most of the cost).
    :raises QwenASRResultError: when the file no longer matches its scan.
    """
    if isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            yield from iter_entries(handle, stats, words=words)
        return
    import ijson

    from airflow_provider_qwenasr.models import Sentence

    if stats.exact_walk:
        items: Iterator[Any] = _walk_sentences(iter(ijson.basic_parse(source, use_float=True)))
    else:
        items = iter(ijson.items(source, _SENTENCE_PREFIX, use_float=True, buf_size=_BUFFER))
    try:
        for channel in stats.channels:
            for _ in range(channel.sentence_count):
                item = next(items)
                if not words:
                    item.pop("words", None)
                yield channel.channel_id, Sentence.from_dict(item)
    except (StopIteration, ijson.JSONError):
        raise QwenASRResultError("The result file changed while it was being read") from None
