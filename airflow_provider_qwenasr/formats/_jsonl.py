"""The JSON Lines (jsonl) writer."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TextIO

from airflow_provider_qwenasr.formats._entries import Pairs

__all__ = ["write_jsonl"]

_JSONL_KEYS = ("sentence_id", "begin_time", "end_time", "text", "language", "emotion", "speaker_id")


def write_jsonl(entries: Pairs, out: TextIO) -> int:
    """Write one JSON object per sentence (empty ones included); return how many were written.

    Keys: ``channel_id``, ``sentence_id``, ``begin_time``, ``end_time`` (ms), ``text`` (as sent, but
    for SenseVoice's inline tags), ``language``, ``emotion``, ``speaker_id`` (the label as given, a
    number or a string; ``null`` when absent), ``events`` (only for a sentence with SenseVoice event
    tags: ``["Speech", …]``), ``words`` (``begin_time``, ``end_time``, ``text``, ``punctuation``).
    Non-ASCII is written as is, but U+0085, U+2028 and U+2029 are escaped: readers that split on
    every Unicode line break still see one object per line.
    """
    count = 0
    for channel, sentence in entries:
        record = {"channel_id": channel, **{key: getattr(sentence, key) for key in _JSONL_KEYS}}
        if sentence.events:
            record["events"] = list(sentence.events)
        record["words"] = [asdict(word) for word in sentence.words]
        line = json.dumps(record, ensure_ascii=False)
        out.write(
            line.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"
        )
        count += 1
    return count
