"""Render a transcription as plain text (txt), SubRip (srt), WebVTT (vtt) or JSON Lines (jsonl).

Every renderer takes ``(channel_id, Sentence)`` pairs, as :meth:`Transcription.channel_sentences`
yields them, and writes to a text stream, so a large result goes straight to a file. Memory stays
bounded by a few sentences whatever their number: subtitle cues are put in time order and channels
counted without holding the sentences (see :mod:`airflow_provider_qwenasr._spool`). ``json`` is not
rendered here: it is the result document's original bytes, which the fetch operator copies. Subtitle
text is made legal as cdown/srt's ``make_legal_content`` does, but never refused: whitespace runs
(newlines included) become one space, so no cue holds a blank line, and ``-->`` becomes ``→``. The
layout of each format is described in ``docs/formats.md``.
"""

from __future__ import annotations

import bisect
import html
import inspect
import io
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from operator import itemgetter
from typing import Any, NamedTuple, TextIO

from airflow_provider_qwenasr._spool import StartOrder, hold_first_channel
from airflow_provider_qwenasr.exceptions import QwenASRInputError
from airflow_provider_qwenasr.models import Sentence, Transcription

__all__ = [
    "FALLBACK_CUE_MS",
    "FORMATS",
    "check_format",
    "render",
    "srt_timestamp",
    "vtt_timestamp",
    "write",
    "write_jsonl",
    "write_srt",
    "write_txt",
    "write_vtt",
]

#: Output formats a fetch can produce. ``json`` is the original document, written by the fetch itself.
FORMATS = ("json", "txt", "srt", "vtt", "jsonl")

#: How long a cue lasts when its sentence ends at or before it begins (a service glitch).
FALLBACK_CUE_MS = 1000

Pairs = Iterable[tuple[int, Sentence]]


def _timestamp(ms: int, separator: str) -> str:
    if ms < 0:
        raise QwenASRInputError(f"A subtitle time cannot be negative: {ms} ms")
    # Integer divmod, not timedelta or datetime: hours simply grow past 24 (and past 99).
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def srt_timestamp(ms: int) -> str:
    """Format milliseconds as an SRT timestamp ``HH:MM:SS,mmm``; hours grow past 24 as needed.

    >>> srt_timestamp(3_723_004)
    '01:02:03,004'
    >>> srt_timestamp(90_000_000)
    '25:00:00,000'

    :raises QwenASRInputError: when ``ms`` is negative.
    """
    return _timestamp(ms, ",")


def vtt_timestamp(ms: int) -> str:
    """Format milliseconds as a WebVTT timestamp ``HH:MM:SS.mmm``; hours grow past 24 as needed.

    >>> vtt_timestamp(360_006_720)
    '100:00:06.720'

    :raises QwenASRInputError: when ``ms`` is negative.
    """
    return _timestamp(ms, ".")


def _collapse(text: str) -> str:
    # str.split() also splits on \r, \x0b, \x0c, \x1c-\x1f, \x85, \u2028 and \u2029, which some
    # readers treat as line breaks: collapsing all of them keeps every cue free of blank lines.
    return " ".join(text.split())


def _width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _text_width(text: str) -> int:
    return sum(map(_width, text))


def _atoms(text: str) -> Iterator[tuple[str, int, bool, int]]:
    """Split legal text where a line may break: at spaces, and either side of a wide character.

    Yields unbreakable pieces (a Latin word, or a CJK character) as ``(piece, width, spaced, offset)``:
    whether a space precedes it, and where it starts in ``text``. Marks and closing punctuation stay
    with what precedes them, so no line starts with a CJK comma.
    """
    offset = 0
    for index, word in enumerate(text.split(" ")):
        start, prev_wide, prev_open = 0, False, False
        for i, char in enumerate(word):
            wide = _width(char) == 2
            category = unicodedata.category(char)
            glue = category[0] == "M" or category in ("Pe", "Pf", "Po") or prev_open
            if i and not glue and (wide or prev_wide):
                yield word[start:i], _text_width(word[start:i]), index > 0 and start == 0, offset + start
                start = i
            prev_wide, prev_open = wide, category in ("Ps", "Pi")
        if word:
            yield word[start:], _text_width(word[start:]), index > 0 and start == 0, offset + start
        offset += len(word) + 1


def _wrap(text: str, width: int, indent: int, max_lines: int) -> list[tuple[list[str], int]]:
    """Wrap legal ``text`` into cues of at most ``max_lines`` lines of at most ``width`` columns.

    ``indent`` columns of each cue's first line are taken by its label. A piece wider than a line (a
    URL) is cut by characters. Returns ``(lines, offset of the cue's text in text)`` per cue.
    """
    lines: list[tuple[str, int]] = []
    line, line_width, line_offset = "", 0, 0
    for piece, piece_width, spaced, offset in _atoms(text):
        while piece:
            # At least 2 columns, so one wide character always fits whatever the label takes.
            cap = max(width - (indent if len(lines) % max_lines == 0 else 0), 2)
            gap = 1 if spaced and line else 0
            if line_width + gap + piece_width <= cap:
                if not line:
                    line_offset = offset
                line = f"{line}{' ' * gap}{piece}"
                line_width += gap + piece_width
                break
            if line:
                lines.append((line, line_offset))
                line, line_width = "", 0
                continue
            cut, used = 1, _width(piece[0])  # too wide even alone: cut off what fits
            while cut < len(piece) and used + _width(piece[cut]) <= cap:
                used += _width(piece[cut])
                cut += 1
            lines.append((piece[:cut], offset))
            piece, piece_width, spaced, offset = piece[cut:], piece_width - used, False, offset + cut
    if line:
        lines.append((line, line_offset))
    return [([t for t, _ in lines[i : i + max_lines]], lines[i][1]) for i in range(0, len(lines), max_lines)]


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
    speaker: int | None


def _cues(
    entries: Pairs, max_line_chars: int, max_lines: int, labeller: Callable[[int, Sentence], str]
) -> Iterator[tuple[int, list[_Cue]]]:
    """Cut each sentence into timed cues; see :func:`write_srt` for the rules.

    Yields ``(begin, cues)`` per sentence with text, in sentence order (not sorted): ``begin`` is the
    sentence's repaired start, at or before every one of its cues, which is what lets
    :class:`~airflow_provider_qwenasr._spool.StartOrder` sort them without holding them all.
    """
    for channel, sentence in entries:
        # Replaced after collapsing, so removing whitespace cannot join "--" and ">" into a new arrow.
        text = _collapse(sentence.text).replace("-->", "→")
        if not text:
            continue
        begin, end = max(sentence.begin_time, 0), max(sentence.end_time, 0)
        if end <= begin:
            end = begin + FALLBACK_CUE_MS
        label = labeller(channel, sentence)
        chunks = _wrap(text, max_line_chars, _text_width(label), max_lines)
        end = max(end, begin + len(chunks))
        starts = _split_times(sentence, text, begin, end, [offset for _, offset in chunks])
        stops = [*starts[1:], end]
        yield (
            begin,
            [
                _Cue(starts[i], stops[i], lines, label, sentence.speaker_id)
                for i, (lines, _) in enumerate(chunks)
            ],
        )


def _write_cues(
    entries: Pairs,
    out: TextIO,
    vtt: bool,
    max_line_chars: int,
    max_lines: int,
    speaker_labels: bool,
    multi_channel: bool | None,
) -> int:
    if max_line_chars < 2 or max_lines < 1:
        raise QwenASRInputError(
            f"max_line_chars must be >= 2 and max_lines >= 1, got {max_line_chars} and {max_lines}"
        )
    if vtt:
        out.write("WEBVTT\n\n")
    if multi_channel is None:
        # The label takes room on each cue's first line, so it must be known before any cue is cut.
        multi_channel, entries = hold_first_channel(entries, itemgetter(0))
    multi = multi_channel

    def label(channel: int, sentence: Sentence) -> str:
        speaker = None if vtt or not speaker_labels else sentence.speaker_id
        return (f"[ch{channel}] " if multi else "") + ("" if speaker is None else f"Speaker {speaker}: ")

    stamp = vtt_timestamp if vtt else srt_timestamp

    def block(cue: _Cue) -> str:
        """The cue as written, but for its number (known once the cues are in order)."""
        voice = f"<v Speaker {cue.speaker}>" if vtt and speaker_labels and cue.speaker is not None else ""
        # WebVTT cue text is markup: a literal "<" or "&" would start a tag or an entity.
        text = html.escape("\n".join(cue.lines), quote=False) if vtt else "\n".join(cue.lines)
        return f"{stamp(cue.start)} --> {stamp(cue.end)}\n{voice}{cue.label}{text}\n"

    count = 0
    # No cue is written before the last entry was read: a source failing halfway leaves no partial
    # cue list behind (and the order of the first cue depends on every sentence).
    with StartOrder() as order:
        for begin, cues in _cues(entries, max_line_chars, max_lines, label):
            order.add(begin, [(cue.start, block(cue)) for cue in cues])
        for count, (_, text) in enumerate(order.sorted(), start=1):
            out.write(f"{count}\n{text}\n")
    return count


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
    ``Speaker N: `` when the sentence has a speaker (and ``speaker_labels`` is true); both count toward
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
    return _write_cues(entries, out, False, max_line_chars, max_lines, speaker_labels, multi_channel)


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
    return _write_cues(entries, out, True, max_line_chars, max_lines, speaker_labels, multi_channel)


def _join(left: str, right: str) -> str:
    # CJK sentences follow each other without a space; anything else is separated by one.
    wide = _width(left[-1]) == 2 or _width(right[0]) == 2
    return f"{left}{right}" if wide else f"{left} {right}"


def _txt_lines(entries: Pairs, speaker_labels: bool) -> Iterator[tuple[int, str]]:
    """Yield ``(channel, line)``: one line per sentence, or per speaker turn when diarized."""
    line, line_channel, line_speaker = "", 0, None
    for channel, sentence in entries:
        text = _collapse(sentence.text)
        if not text:
            continue
        speaker = sentence.speaker_id if speaker_labels else None
        if line and speaker is not None and (channel, speaker) == (line_channel, line_speaker):
            line = _join(line, text)
            continue
        if line:
            yield line_channel, line
        line = text if speaker is None else f"Speaker {speaker}: {text}"
        line_channel, line_speaker = channel, speaker
    if line:
        yield line_channel, line


def write_txt(
    entries: Pairs, out: TextIO, *, speaker_labels: bool = True, multi_channel: bool | None = None
) -> None:
    """Write plain text: one paragraph per channel, one line per sentence.

    With a speaker id (diarization) and ``speaker_labels``, consecutive sentences of one speaker are
    joined into one ``Speaker N: …`` line. Paragraphs are separated by a blank line and headed
    ``[Channel N]`` when there are several channels. ``multi_channel=None`` finds out by holding the
    first channel's lines in a temporary file until a second channel appears or the entries end;
    pass ``True``/``False`` when known to write lines as they come. Sentences with empty text are
    skipped; newlines in text become spaces.
    """
    lines = _txt_lines(entries, speaker_labels)
    if multi_channel is None:
        multi_channel, lines = hold_first_channel(lines, itemgetter(0))
    current: int | None = None
    for channel, line in lines:
        if channel != current:
            if current is not None:
                out.write("\n")
            if multi_channel:
                out.write(f"[Channel {channel}]\n")
            current = channel
        out.write(f"{line}\n")


_JSONL_KEYS = ("sentence_id", "begin_time", "end_time", "text", "language", "emotion", "speaker_id")


def write_jsonl(entries: Pairs, out: TextIO) -> int:
    """Write one JSON object per sentence (empty ones included); return how many were written.

    Keys: ``channel_id``, ``sentence_id``, ``begin_time``, ``end_time`` (ms), ``text`` (as sent),
    ``language``, ``emotion``, ``speaker_id`` (``null`` when absent), ``words`` (``begin_time``,
    ``end_time``, ``text``, ``punctuation``). Non-ASCII is written as is, but U+0085, U+2028 and U+2029
    are escaped: readers that split on every Unicode line break still see one object per line.
    """
    count = 0
    for channel, sentence in entries:
        record = {"channel_id": channel, **{key: getattr(sentence, key) for key in _JSONL_KEYS}}
        record["words"] = [asdict(word) for word in sentence.words]
        line = json.dumps(record, ensure_ascii=False)
        out.write(
            line.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"
        )
        count += 1
    return count


_WRITERS: dict[str, Callable[..., Any]] = dict(txt=write_txt, srt=write_srt, vtt=write_vtt, jsonl=write_jsonl)


def check_format(fmt: str) -> str:
    """Return ``fmt`` normalised (``"SRT "`` gives ``"srt"``) if it is one of :data:`FORMATS`.

    :raises QwenASRInputError: naming the valid formats otherwise.
    """
    name = fmt.strip().lower() if isinstance(fmt, str) else fmt
    if name not in FORMATS:
        raise QwenASRInputError(f"Unknown output format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    return name


def write(fmt: str, entries: Pairs, out: TextIO, **options: Any) -> int | None:
    """Write ``entries`` to ``out`` in ``fmt`` with that format's options; return the writer's result.

    :raises QwenASRInputError: for an unknown format, for ``json`` (the original document, which is
        copied, not rendered) and for an option the format does not take.
    """
    name = check_format(fmt)
    if name == "json":
        raise QwenASRInputError("The json output is the original result document: copy it, do not render it")
    writer = _WRITERS[name]
    # Checked here, not left to a TypeError, so the message names what the format does take.
    parameters = inspect.signature(writer).parameters.values()
    takes = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY]
    # A writer taking **options (a wrapper, or a test double) takes whatever the fetch passes.
    open_ended = any(p.kind is p.VAR_KEYWORD for p in parameters)
    if not open_ended and (unknown := sorted(set(options) - set(takes))):
        raise QwenASRInputError(
            f"Unknown option(s) {unknown} for {name!r}; it takes: {', '.join(takes) or 'none'}"
        )
    result: int | None = writer(entries, out, **options)
    return result


def render(fmt: str, transcription: Transcription, **options: Any) -> str:
    """Render a whole (small) transcription to a string; for large ones, :func:`write` to a file.

    Unless given, ``txt`` gets ``multi_channel`` from the number of transcripts, and ``srt`` and
    ``vtt`` from the number of channels with sentences (what they would find out themselves).

    :raises QwenASRInputError: as :func:`write`.
    """
    name = check_format(fmt)
    if name == "txt":
        options.setdefault("multi_channel", len(transcription.transcripts) > 1)
    elif name in ("srt", "vtt"):
        channels = {t.channel_id for t in transcription.transcripts if t.sentences}
        options.setdefault("multi_channel", len(channels) > 1)
    buffer = io.StringIO()
    write(fmt, transcription.channel_sentences(), buffer, **options)
    return buffer.getvalue()
