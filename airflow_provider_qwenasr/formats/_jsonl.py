"""The JSON Lines (jsonl) writer."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, TextIO

from airflow_provider_qwenasr.formats._entries import Pairs

if TYPE_CHECKING:
    from airflow_provider_qwenasr.models import Sentence

__all__ = ["JsonlWriter", "write_jsonl"]

_JSONL_KEYS = ("sentence_id", "begin_time", "end_time", "text", "language", "emotion", "speaker_id")


class JsonlWriter:
    """JSON Lines written as sentences are given (see :func:`write_jsonl`).

    Give it each ``(channel_id, sentence)`` with :meth:`add`, then call :meth:`finish`.
    """

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._count = 0

    def add(self, channel: int, sentence: Sentence) -> None:
        """Write one sentence's object."""
        record = {"channel_id": channel, **{key: getattr(sentence, key) for key in _JSONL_KEYS}}
        if sentence.events:
            record["events"] = list(sentence.events)
        record["words"] = [asdict(word) for word in sentence.words]
        line = json.dumps(record, ensure_ascii=False)
        self._out.write(
            line.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"
        )
        self._count += 1

    def finish(self) -> int:
        """How many objects were written."""
        return self._count

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def write_jsonl(entries: Pairs, out: TextIO) -> int:
    """Write one JSON object per sentence (empty ones included); return how many were written.

    Keys: ``channel_id``, ``sentence_id``, ``begin_time``, ``end_time`` (ms), ``text`` (as sent, but
    for SenseVoice's inline tags), ``language``, ``emotion``, ``speaker_id`` (the label as given, a
    number or a string; ``null`` when absent), ``events`` (only for a sentence with SenseVoice event
    tags: ``["Speech", …]``), ``words`` (``begin_time``, ``end_time``, ``text``, ``punctuation``).
    Non-ASCII is written as is, but U+0085, U+2028 and U+2029 are escaped: readers that split on
    every Unicode line break still see one object per line.
    """
    writer = JsonlWriter(out)
    for channel, sentence in entries:
        writer.add(channel, sentence)
    return writer.finish()
