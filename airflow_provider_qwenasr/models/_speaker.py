"""Speaker labels: read as the service writes them (an integer or a ``"spk0"`` style string), and ordered.

Some result documents number speakers (``"speaker_id": 0``), others name them
(``"speaker_id": "spk0"``). A label is kept as given, so two named speakers never collapse into one,
and every place that lists speakers in order sorts them with :func:`speaker_sort_key`.
"""

from __future__ import annotations

import math
import re

__all__ = ["SpeakerLabel", "speaker_label", "speaker_sort_key"]

#: A speaker as a result document labels it: an integer, or a non-empty string.
SpeakerLabel = int | str

_DIGITS = re.compile(r"(\d+)")
_Natural = tuple[tuple[int, int, str], ...]


def speaker_label(value: object) -> SpeakerLabel | None:
    """A ``speaker_id`` as given: an int stays an int, a non-empty string stays the string.

    A whole float (``1.0``: JSON does not tell it from ``1``) is the int. ``None``, a bool, an empty
    or blank string and anything else (another number, a list, an object) are no speaker: ``None``.

    >>> speaker_label(1), speaker_label("spk0"), speaker_label("2"), speaker_label(3.0)
    (1, 'spk0', '2', 3)
    >>> speaker_label(True), speaker_label(""), speaker_label(1.5), speaker_label([1])
    (None, None, None, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        return value if value.strip() else None
    return None


def _natural(text: str) -> _Natural:
    # Digit runs compare by value (by length, then digits: no int() of a huge run), text by itself.
    parts = _DIGITS.split(text)
    return tuple(
        (1, len(part.lstrip("0")), part.lstrip("0")) if index % 2 else (0, 0, part)
        for index, part in enumerate(parts)
    )


def speaker_sort_key(label: SpeakerLabel | None) -> tuple[int, int, _Natural, str]:
    """The one order of speaker labels: ``None`` first, then ints by value, then strings naturally.

    Strings compare by their digit runs' values, so ``"spk2"`` comes before ``"spk10"``; labels that
    tie that way (``"spk01"``, ``"spk1"``) fall back to the plain string.

    >>> sorted(["spk10", 2, "spk2", None, "spk0", 10, "spk1"], key=speaker_sort_key)
    [None, 2, 10, 'spk0', 'spk1', 'spk2', 'spk10']
    """
    if label is None:
        return (0, 0, (), "")
    if isinstance(label, int):
        return (1, label, (), "")
    return (2, 0, _natural(label), label)
