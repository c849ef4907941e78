"""Text as a cue shows it: whitespace collapsed, display widths, and wrapping into lines."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from airflow_provider_qwenasr.models import SpeakerLabel


def _collapse(text: str) -> str:
    # str.split() also splits on \r, \x0b, \x0c, \x1c-\x1f, \x85, \u2028 and \u2029, which some
    # readers treat as line breaks: collapsing all of them keeps every cue free of blank lines.
    return " ".join(text.split())


def _speaker_name(speaker: SpeakerLabel) -> str:
    """A speaker label as the renderers show it: an int as its digits, a string as given, collapsed.

    A string label may hold anything (newlines too), so its whitespace runs become one space, as in
    cue text: a label can never break a line of the output.
    """
    return str(speaker) if isinstance(speaker, int) else _collapse(speaker)


def _width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _text_width(text: str) -> int:
    # ASCII has no wide or combining character: one column each (the common case, and the hot one).
    return len(text) if text.isascii() else sum(map(_width, text))


def _atoms(text: str) -> Iterator[tuple[str, int, bool, int]]:
    """Split legal text where a line may break: at spaces, and either side of a wide character.

    Yields unbreakable pieces (a Latin word, or a CJK character) as ``(piece, width, spaced, offset)``:
    whether a space precedes it, and where it starts in ``text``. Marks and closing punctuation stay
    with what precedes them, so no line starts with a CJK comma.
    """
    offset = 0
    for index, word in enumerate(text.split(" ")):
        if word.isascii():  # no wide character: the loop below would yield the word whole
            if word:
                yield word, len(word), index > 0, offset
            offset += len(word) + 1
            continue
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
