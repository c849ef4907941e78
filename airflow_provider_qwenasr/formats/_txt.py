"""The plain-text (txt) writer."""

from __future__ import annotations

from collections.abc import Iterator
from operator import itemgetter
from typing import TextIO

from airflow_provider_qwenasr._spool import hold_first_channel
from airflow_provider_qwenasr.formats._entries import Pairs
from airflow_provider_qwenasr.formats._text import _collapse, _speaker_name, _width

__all__ = ["write_txt"]


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
        line = text if speaker is None else f"Speaker {_speaker_name(speaker)}: {text}"
        line_channel, line_speaker = channel, speaker
    if line:
        yield line_channel, line


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
    current: int | None = None
    for channel, line in lines:
        if channel != current:
            if current is not None:
                out.write("\n")
            if multi_channel:
                out.write(f"[Channel {channel}]\n")
            current = channel
        out.write(f"{line}\n")
