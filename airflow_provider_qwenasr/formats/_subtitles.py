"""The SubRip (srt) and WebVTT (vtt) writers."""

from __future__ import annotations

import html
from operator import itemgetter
from typing import Any, TextIO

from airflow_provider_qwenasr._spool import StartOrder, hold_first_channel
from airflow_provider_qwenasr.exceptions import QwenASRInputError
from airflow_provider_qwenasr.formats._cues import _Cue, _cut
from airflow_provider_qwenasr.formats._entries import Pairs
from airflow_provider_qwenasr.formats._text import _speaker_name
from airflow_provider_qwenasr.formats._timestamps import srt_timestamp, vtt_timestamp
from airflow_provider_qwenasr.models import Sentence

__all__ = ["SubtitleWriter", "write_srt", "write_vtt"]


class SubtitleWriter:
    """Cues written as sentences are given, for :func:`write_srt` and :func:`write_vtt` alike.

    Give it each ``(channel_id, sentence)`` with :meth:`add`, then call :meth:`finish`, which writes
    the cues in order of start time and returns how many there were. ``multi_channel`` must be known
    before the first sentence is added (the label takes room on each cue's first line). Use it
    as a context manager, so its temporary files are deleted even when rendering fails halfway.

    :raises QwenASRInputError: when ``max_line_chars`` < 2 or ``max_lines`` < 1.
    """

    # Read several times per sentence: slots are the cheapest attributes to read.
    __slots__ = (
        "_max_line_chars",
        "_max_lines",
        "_order",
        "_out",
        "_speaker_labels",
        "_stamp",
        "_vtt",
        "multi_channel",
    )

    def __init__(
        self,
        out: TextIO,
        *,
        vtt: bool,
        max_line_chars: int = 42,
        max_lines: int = 2,
        speaker_labels: bool = True,
        multi_channel: bool,
    ) -> None:
        if max_line_chars < 2 or max_lines < 1:
            raise QwenASRInputError(
                f"max_line_chars must be >= 2 and max_lines >= 1, got {max_line_chars} and {max_lines}"
            )
        self._out, self._vtt, self._speaker_labels = out, vtt, speaker_labels
        self._max_line_chars, self._max_lines = max_line_chars, max_lines
        #: Whether cues are labelled with their channel; may be set until the first :meth:`add`.
        self.multi_channel = multi_channel
        self._stamp = vtt_timestamp if vtt else srt_timestamp
        # No cue is written before the last entry was read: a source failing halfway leaves no partial
        # cue list behind (and the order of the first cue depends on every sentence).
        self._order = StartOrder()
        if vtt:
            out.write("WEBVTT\n\n")

    def _label(self, channel: int, sentence: Sentence) -> str:
        speaker = None if self._vtt or not self._speaker_labels else sentence.speaker_id
        # A string label is legal text as the cue's own is: no line break, no "-->".
        name = "" if speaker is None else f"Speaker {_speaker_name(speaker).replace('-->', '→')}: "
        return (f"[ch{channel}] " if self.multi_channel else "") + name

    def _block(self, cue: _Cue) -> str:
        """The cue as written, but for its number (known once the cues are in order)."""
        voice = ""
        if self._vtt and self._speaker_labels and cue.speaker is not None:
            voice = f"<v Speaker {html.escape(_speaker_name(cue.speaker), quote=False)}>"
        # WebVTT cue text is markup: a literal "<" or "&" would start a tag or an entity.
        text = html.escape("\n".join(cue.lines), quote=False) if self._vtt else "\n".join(cue.lines)
        return f"{self._stamp(cue.start)} --> {self._stamp(cue.end)}\n{voice}{cue.label}{text}\n"

    def add(self, channel: int, sentence: Sentence) -> None:
        """Cut one sentence into cues; a sentence without text gives none."""
        cut = _cut(sentence, self._label(channel, sentence), self._max_line_chars, self._max_lines)
        if cut is not None:
            begin, cues = cut
            self._order.add(begin, [(cue.start, self._block(cue)) for cue in cues])

    def finish(self) -> int:
        """Write every cue, numbered from 1, in order of start time; return how many were written."""
        count = 0
        with self._order as order:
            for count, (_, text) in enumerate(order.sorted(), start=1):
                self._out.write(f"{count}\n{text}\n")
        return count

    def __enter__(self) -> SubtitleWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._order.close()


def _write_cues(entries: Pairs, out: TextIO, vtt: bool, multi_channel: bool | None, **options: Any) -> int:
    with SubtitleWriter(out, vtt=vtt, multi_channel=bool(multi_channel), **options) as writer:
        if multi_channel is None:
            writer.multi_channel, entries = hold_first_channel(entries, itemgetter(0))
        for channel, sentence in entries:
            writer.add(channel, sentence)
        return writer.finish()


def write_srt(
    entries: Pairs,
    out: TextIO,
    *,
    max_line_chars: int = 42,
    max_lines: int = 2,
    speaker_labels: bool = True,
    multi_channel: bool | None = None,
) -> int:
    """Write SubRip subtitles, numbered from 1, and return how many cues were written.

    Each cue's text starts with ``[chN] `` when the entries hold several channels and with
    ``Speaker N: `` when the sentence has a speaker (``N`` its label as given: ``1``, or ``spk1``; and
    ``speaker_labels`` is true); both count toward
    the first line's width. Sentences with empty text are skipped. Times are repaired, never refused:
    a negative time becomes 0; a sentence ending at or before its start lasts :data:`FALLBACK_CUE_MS`;
    a sentence cut into n cues lasts at least n ms. Cues are sorted by start time (stable, so ties keep
    channel and sentence order), which players expect and which interleaves channels; overlapping cues
    are kept, as two speakers or channels can talk at once and players show both.

    Memory does not grow with the number of sentences: a cue waits in memory only while a later
    sentence could still start before it, and when start times go back (the next channel) cues are
    put in order through temporary files (see :class:`~airflow_provider_qwenasr._spool.StartOrder`).
    Nothing but the WebVTT header is written to ``out`` before the last entry was read.

    :param entries: ``(channel_id, sentence)`` pairs, as :meth:`Transcription.channel_sentences` yields.
    :param out: the text stream to write to.
    :param max_line_chars: columns per line (a CJK character takes two).
    :param max_lines: lines per cue; a longer sentence becomes several cues, its time span divided at
        the start times of its words when they spell its text, else in proportion to the text.
    :param speaker_labels: whether to prefix diarized sentences with their speaker.
    :param multi_channel: whether to label cues with their channel. ``None`` labels them when the
        entries hold several channels, found by keeping the first channel's entries in a temporary
        file until another channel appears; pass it when known (the fetch does, from its scan).
    :raises QwenASRInputError: when ``max_line_chars`` < 2 or ``max_lines`` < 1.
    """
    return _write_cues(
        entries,
        out,
        False,
        multi_channel,
        max_line_chars=max_line_chars,
        max_lines=max_lines,
        speaker_labels=speaker_labels,
    )


def write_vtt(
    entries: Pairs,
    out: TextIO,
    *,
    max_line_chars: int = 42,
    max_lines: int = 2,
    speaker_labels: bool = True,
    multi_channel: bool | None = None,
) -> int:
    """Write WebVTT subtitles (``WEBVTT`` header, cues numbered from 1); return how many cues were written.

    Like :func:`write_srt`, except that the speaker is a voice span ``<v Speaker N>`` (not displayed as
    text, so it takes no width), and ``&``, ``<`` and ``>`` in the text are escaped as entities. An
    empty transcript still gives a valid file: the header alone.

    :raises QwenASRInputError: when ``max_line_chars`` < 2 or ``max_lines`` < 1.
    """
    return _write_cues(
        entries,
        out,
        True,
        multi_channel,
        max_line_chars=max_line_chars,
        max_lines=max_lines,
        speaker_labels=speaker_labels,
    )
