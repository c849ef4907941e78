"""Cutting sentences into timed subtitle cues."""

from __future__ import annotations

import bisect
from typing import NamedTuple

from airflow_provider_qwenasr.formats._text import _collapse, _text_width, _wrap
from airflow_provider_qwenasr.models import Sentence, SpeakerLabel

__all__ = ["FALLBACK_CUE_MS"]

#: How long a cue lasts when its sentence ends at or before it begins (a service glitch).
FALLBACK_CUE_MS = 1000


def _word_clock(sentence: Sentence, text: str) -> tuple[list[int], list[int]] | None:
    """Map offsets in ``text`` to word start times, when the words spell the text (spaces aside)."""
    letters = [i for i, char in enumerate(text) if char != " "]
    spelled = text.replace(" ", "")
    offsets: list[int] = []
    times: list[int] = []
    seen = 0
    for word in sentence.words:
        chars = "".join((word.text + word.punctuation).split()).replace("-->", "→")
        if not chars:
            continue
        if spelled[seen : seen + len(chars)] != chars:
            return None
        offsets.append(letters[seen])
        times.append(word.begin_time)
        seen += len(chars)
    return (offsets, times) if offsets and seen == len(spelled) else None


def _split_times(sentence: Sentence, text: str, begin: int, end: int, starts: list[int]) -> list[int]:
    """Start times of the cues a sentence was cut into, from word times or else proportional to text."""
    if len(starts) == 1:  # one cue (most sentences): its start is the sentence's, whatever the words say
        return [begin]
    clock = _word_clock(sentence, text)
    times = [begin]
    for offset in starts[1:]:
        if clock is not None:
            time = clock[1][max(bisect.bisect_right(clock[0], offset) - 1, 0)]
        else:
            time = begin + (end - begin) * offset // len(text)
        # Strictly increasing and each cue at least 1 ms long, whatever the word times say.
        times.append(min(max(time, times[-1] + 1), end - (len(starts) - len(times))))
    return times


class _Cue(NamedTuple):
    start: int
    end: int
    lines: list[str]
    label: str  # shown before the text, and counted in the first line's width
    speaker: SpeakerLabel | None


_CutKey = tuple[Sentence, str, int, int]
_CutValue = tuple[int, list[_Cue]] | None
#: The last sentence cut and its cues, as one tuple (one reference, so a thread reads a matching
#: pair): srt and vtt rendered side by side cut each sentence once.
_last_cut: tuple[_CutKey, _CutValue] | None = None


def _cut(
    sentence: Sentence, label: str, max_line_chars: int, max_lines: int
) -> tuple[int, list[_Cue]] | None:
    """Cut one sentence into timed cues; see :func:`write_srt` for the rules.

    Returns ``(begin, cues)``, or None for a sentence without text: ``begin`` is the sentence's
    repaired start, at or before every one of its cues, which is what lets
    :class:`~airflow_provider_qwenasr._spool.StartOrder` sort them without holding them all. The cut
    depends on nothing but the arguments, so the last one is kept: a second writer asking for the
    same sentence with the same label and sizes (vtt after srt, when no speaker label tells them
    apart) gets it without cutting again.
    """
    global _last_cut
    last = _last_cut
    if last is not None and last[0][0] is sentence and last[0][1:] == (label, max_line_chars, max_lines):
        return last[1]
    # Replaced after collapsing, so removing whitespace cannot join "--" and ">" into a new arrow.
    text = _collapse(sentence.text).replace("-->", "→")
    cut: tuple[int, list[_Cue]] | None = None
    if text:
        begin, end = max(sentence.begin_time, 0), max(sentence.end_time, 0)
        if end <= begin:
            end = begin + FALLBACK_CUE_MS
        chunks = _wrap(text, max_line_chars, _text_width(label), max_lines)
        end = max(end, begin + len(chunks))
        starts = _split_times(sentence, text, begin, end, [offset for _, offset in chunks])
        stops = [*starts[1:], end]
        speaker = sentence.speaker_id
        timed = zip(starts, stops, chunks, strict=True)
        cut = (begin, [_Cue(start, stop, lines, label, speaker) for start, stop, (lines, _) in timed])
    _last_cut = ((sentence, label, max_line_chars, max_lines), cut)
    return cut
