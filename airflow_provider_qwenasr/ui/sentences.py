"""Sentences of a transcript output as the pages show them, one pass per page: rows, lanes, timeline.

Sentences are read by the core parser (:mod:`airflow_provider_qwenasr.results.read`), so channels,
times and fields are exactly those of the models and the fetch: the ``jsonl`` output (one sentence a
line) is preferred; without it the original DashScope ``json`` document is streamed. Either way
memory stays bounded whatever the transcript's length: a page keeps ``size`` rows, and each lane
keeps at most :data:`MAX_SEGMENTS` timeline segments, merged at the picture's resolution.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from airflow_provider_qwenasr.models import SpeakerLabel, speaker_sort_key

if TYPE_CHECKING:
    from airflow_provider_qwenasr.models import Sentence

__all__ = [
    "MAX_SEGMENTS",
    "Lane",
    "Segment",
    "SentenceRow",
    "TranscriptPage",
    "build_page",
    "lane_key",
    "open_output",
    "read_sentences",
]

#: Most timeline segments kept per lane; beyond it neighbours merge (the picture is ~1000 px wide).
MAX_SEGMENTS = 2000
#: Most distinct languages/emotions reported (a garbled result must not grow memory).
MAX_LABELS = 50


@dataclass(frozen=True)
class SentenceRow:
    """One sentence as the UI shows it (words dropped; SenseVoice's inline tags already out of ``text``)."""

    channel_id: int
    sentence_id: int | None
    begin_time: int
    end_time: int
    text: str
    language: str | None = None
    emotion: str | None = None
    speaker_id: SpeakerLabel | None = None

    @property
    def lane(self) -> str:
        """The key of the lane (channel, or channel and speaker) this sentence belongs to."""
        return lane_key(self.channel_id, self.speaker_id)

    @classmethod
    def of(cls, channel_id: int, sentence: Sentence) -> SentenceRow:
        """The row of one ``(channel_id, Sentence)`` pair of the core parser (an empty label is none)."""
        return cls(
            channel_id=channel_id,
            sentence_id=sentence.sentence_id,
            begin_time=sentence.begin_time,
            end_time=sentence.end_time,
            text=sentence.text,
            language=sentence.language or None,
            emotion=sentence.emotion or None,
            speaker_id=sentence.speaker_id,
        )


def lane_key(channel_id: int, speaker_id: SpeakerLabel | None) -> str:
    """The ``lane`` query parameter: ``c0`` for channel 0, ``c0-s1`` for speaker 1 on channel 0.

    A speaker named by a string (``"spk1"``) is ``c0-s:spk1``, so that the string ``"1"`` and the
    number ``1`` (two speakers) never share a lane.
    """
    if speaker_id is None:
        return f"c{channel_id}"
    return f"c{channel_id}-s{speaker_id}" if isinstance(speaker_id, int) else f"c{channel_id}-s:{speaker_id}"


@dataclass
class Segment:
    """A stretch of speech on the timeline, in ms, with the emotion shared by its sentences."""

    begin: int
    end: int
    emotion: str | None


@dataclass
class Lane:
    """One channel, or one speaker of a channel when the result is diarized."""

    key: str
    channel_id: int
    speaker_id: SpeakerLabel | None
    sentences: int = 0
    segments: list[Segment] = field(default_factory=list)

    def label(self, several_channels: bool) -> str:
        """``Channel 0``, ``Speaker 1``, or ``Ch 0 · Speaker 1`` when channels must be told apart.

        A speaker shows its label as given: ``Speaker spk1`` for a speaker the result names ``"spk1"``.
        """
        if self.speaker_id is None:
            return f"Channel {self.channel_id}"
        speaker = " ".join(str(self.speaker_id).split())
        if several_channels:
            return f"Ch {self.channel_id} · Speaker {speaker}"
        return f"Speaker {speaker}"


@dataclass
class TranscriptPage:
    """What one request shows: a page of rows plus everything learnt in the same pass."""

    rows: list[SentenceRow]
    total: int
    page: int
    size: int
    lanes: list[Lane]
    duration_ms: int
    languages: list[str]
    emotions: list[str]

    @property
    def pages(self) -> int:
        """How many pages the (filtered) sentences fill."""
        return max(1, -(-self.total // self.size))

    @property
    def several_channels(self) -> bool:
        """Whether lanes span more than one channel."""
        return len({lane.channel_id for lane in self.lanes}) > 1


def open_output(uri: str, conn_id: str | None) -> IO[bytes]:
    """Open an output for binary reading through Airflow's ObjectStoragePath."""
    from airflow.sdk import ObjectStoragePath

    stream: IO[bytes] = ObjectStoragePath(uri, conn_id=conn_id).open("rb")
    return stream


def read_sentences(fmt: str, stream: IO[bytes]) -> Iterator[SentenceRow]:
    """Sentences of an output in format ``fmt`` (``jsonl`` or ``json``), read by the core parser.

    :raises QwenASRResultError: for an output the core parser refuses.
    """
    from airflow_provider_qwenasr.results.read import iter_output

    for channel_id, sentence in iter_output(fmt, stream, words=False):
        yield SentenceRow.of(channel_id, sentence)


class _LaneBuilder:
    def __init__(self, lane: Lane, resolution: float) -> None:
        self.lane = lane
        self.resolution = resolution

    def add(self, row: SentenceRow) -> None:
        lane = self.lane
        lane.sentences += 1
        end = max(row.end_time, row.begin_time)
        last = lane.segments[-1] if lane.segments else None
        if last is not None and last.emotion == row.emotion and row.begin_time - last.end <= self.resolution:
            last.end = max(last.end, end)
            return
        lane.segments.append(Segment(row.begin_time, end, row.emotion))
        if len(lane.segments) > MAX_SEGMENTS:
            self._coarsen()

    def _coarsen(self) -> None:
        # Halve the segments: merge each pair, keeping the longer one's emotion.
        merged: list[Segment] = []
        segments = self.lane.segments
        for i in range(0, len(segments), 2):
            pair = segments[i : i + 2]
            longest = max(pair, key=lambda s: s.end - s.begin)
            merged.append(Segment(pair[0].begin, max(s.end for s in pair), longest.emotion))
        self.lane.segments = merged
        self.resolution *= 2


def build_page(
    rows: Iterable[SentenceRow],
    *,
    lane: str | None = None,
    page: int = 1,
    size: int = 100,
    duration_ms: int | None = None,
) -> TranscriptPage:
    """Consume ``rows`` once: keep page ``page`` of the rows in ``lane`` (all when None), count them,
    and collect lanes, timeline segments, languages and emotions.

    :param duration_ms: the audio's duration (from the manifest) sets the timeline's resolution;
        without it the last sentence's end is used.
    """
    resolution = (duration_ms / 1000) if duration_ms else 100.0
    start = (max(page, 1) - 1) * size
    kept: list[SentenceRow] = []
    total = 0
    lanes: dict[str, _LaneBuilder] = {}
    languages: dict[str, None] = {}
    emotions: dict[str, None] = {}
    last_end = 0
    for row in rows:
        builder = lanes.get(row.lane)
        if builder is None:
            builder = lanes[row.lane] = _LaneBuilder(
                Lane(row.lane, row.channel_id, row.speaker_id), resolution
            )
        builder.add(row)
        last_end = max(last_end, row.end_time)
        if row.language and len(languages) < MAX_LABELS:
            languages[row.language] = None
        if row.emotion and len(emotions) < MAX_LABELS:
            emotions[row.emotion] = None
        if lane is None or row.lane == lane:
            if start <= total < start + size:
                kept.append(row)
            total += 1
    ordered = sorted(
        (b.lane for b in lanes.values()),
        key=lambda ln: (ln.channel_id, speaker_sort_key(ln.speaker_id)),
    )
    return TranscriptPage(
        rows=kept,
        total=total,
        page=max(page, 1),
        size=size,
        lanes=ordered,
        duration_ms=max(duration_ms or 0, last_end),
        languages=list(languages),
        emotions=list(emotions),
    )
