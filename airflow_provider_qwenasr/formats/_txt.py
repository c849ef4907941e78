"""The plain-text (txt) writer."""

from __future__ import annotations

from collections.abc import Iterator
from operator import itemgetter
from typing import TYPE_CHECKING, TextIO

from airflow_provider_qwenasr._spool import hold_first_channel
from airflow_provider_qwenasr.formats._entries import Pairs
from airflow_provider_qwenasr.formats._text import _collapse, _speaker_name, _width

if TYPE_CHECKING:
    from airflow_provider_qwenasr.models import Sentence, SpeakerLabel

__all__ = ["TxtWriter", "write_txt"]


def _join(left: str, right: str) -> str:
    # CJK sentences follow each other without a space; anything else is separated by one.
    wide = _width(left[-1]) == 2 or _width(right[0]) == 2
    return f"{left}{right}" if wide else f"{left} {right}"


class _Lines:
    """Sentences joined into lines: one per sentence, or per speaker turn when diarized."""

    def __init__(self, speaker_labels: bool) -> None:
        self._speaker_labels = speaker_labels
        self._line, self._channel = "", 0
        self._speaker: SpeakerLabel | None = None

    def add(self, channel: int, sentence: Sentence) -> tuple[int, str] | None:
        """Take one sentence; return the line it completed, if any, as ``(channel, line)``."""
        text = _collapse(sentence.text)
        if not text:
            return None
        speaker = sentence.speaker_id if self._speaker_labels else None
        if self._line and speaker is not None and (channel, speaker) == (self._channel, self._speaker):
            self._line = _join(self._line, text)
            return None
        done = self.flush()
        self._line = text if speaker is None else f"Speaker {_speaker_name(speaker)}: {text}"
        self._channel, self._speaker = channel, speaker
        return done

    def flush(self) -> tuple[int, str] | None:
        """The line being built, if any (then there is none)."""
        done = (self._channel, self._line) if self._line else None
        self._line = ""
        return done


def _txt_lines(entries: Pairs, speaker_labels: bool) -> Iterator[tuple[int, str]]:
    """Yield ``(channel, line)`` for every line of the entries."""
    lines = _Lines(speaker_labels)
    for channel, sentence in entries:
        if (line := lines.add(channel, sentence)) is not None:
            yield line
    if (line := lines.flush()) is not None:
        yield line


class _Paragraphs:
    """Lines written in paragraphs, one per channel, headed ``[Channel N]`` when there are several."""

    def __init__(self, out: TextIO, multi_channel: bool) -> None:
        self._out, self._multi = out, multi_channel
        self._current: int | None = None

    def write(self, channel: int, line: str) -> None:
        if channel != self._current:
            if self._current is not None:
                self._out.write("\n")
            if self._multi:
                self._out.write(f"[Channel {channel}]\n")
            self._current = channel
        self._out.write(f"{line}\n")


class TxtWriter:
    """Plain text written as sentences are given (see :func:`write_txt`); ``multi_channel`` known.

    Give it each ``(channel_id, sentence)`` with :meth:`add`, then call :meth:`finish`.
    """

    def __init__(self, out: TextIO, *, speaker_labels: bool = True, multi_channel: bool) -> None:
        self._lines = _Lines(speaker_labels)
        self._paragraphs = _Paragraphs(out, multi_channel)

    def add(self, channel: int, sentence: Sentence) -> None:
        """Take one sentence; a line is written once the next one starts."""
        if (line := self._lines.add(channel, sentence)) is not None:
            self._paragraphs.write(*line)

    def finish(self) -> None:
        """Write the last line."""
        if (line := self._lines.flush()) is not None:
            self._paragraphs.write(*line)

    def __enter__(self) -> TxtWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def write_txt(
    entries: Pairs, out: TextIO, *, speaker_labels: bool = True, multi_channel: bool | None = None
) -> None:
    """Write plain text: one paragraph per channel, one line per sentence.

    With a speaker id (diarization) and ``speaker_labels``, consecutive sentences of one speaker are
    joined into one ``Speaker N: …`` line (``N`` the label as given: ``1``, or ``spk1``). Paragraphs
    are separated by a blank line and headed ``[Channel N]`` when there are several channels.
    ``multi_channel=None`` finds out by holding the first channel's lines in a temporary file until a
    second channel appears or the entries end; pass ``True``/``False`` when known to write lines as
    they come. Sentences with empty text are skipped; newlines in text become spaces.
    """
    lines = _txt_lines(entries, speaker_labels)
    if multi_channel is None:
        multi_channel, lines = hold_first_channel(lines, itemgetter(0))
    paragraphs = _Paragraphs(out, multi_channel)
    for channel, line in lines:
        paragraphs.write(channel, line)
