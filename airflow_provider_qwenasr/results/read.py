"""Reading a written output back, sentence by sentence: the ``json`` and ``jsonl`` outputs.

The Transcript tab reads transcripts through this module, so a sentence's channel, times and fields
are those the models and the fetch give it: the ``json`` output (the original result document) goes
through the fetch's own streaming parser (:func:`.parse.scan_result`, then :func:`.parse.iter_entries`),
and each ``jsonl`` line (written by :func:`airflow_provider_qwenasr.formats.write_jsonl`) through
:meth:`Sentence.from_dict <airflow_provider_qwenasr.models.Sentence.from_dict>`. Memory stays bounded
by one sentence whatever the output's size.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from airflow_provider_qwenasr.exceptions import QwenASRResultError
from airflow_provider_qwenasr.models._coerce import _int
from airflow_provider_qwenasr.results.parse import iter_entries, scan_result

if TYPE_CHECKING:
    from airflow_provider_qwenasr.models import Sentence

__all__ = ["READABLE_FORMATS", "iter_json_output", "iter_jsonl_output", "iter_output"]

#: The outputs that hold sentences with their times, in the order a reader prefers them.
READABLE_FORMATS = ("jsonl", "json")


def iter_jsonl_output(stream: IO[bytes], *, words: bool = False) -> Iterator[tuple[int, Sentence]]:
    """``(channel_id, Sentence)`` for each line of a ``jsonl`` output.

    Lines are binary: only ``\\n`` ends a record (a U+2028 inside a text does not). Blank lines and
    lines that are not JSON objects are skipped.

    :raises QwenASRResultError: for a line that is not JSON, or a sentence the models refuse.
    """
    from airflow_provider_qwenasr.models import Sentence

    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            raise QwenASRResultError(f"Line {number} of the jsonl output is not valid JSON") from None
        if not isinstance(record, dict):
            continue
        if not words:
            record.pop("words", None)
        yield _int(record.get("channel_id")), Sentence.from_dict(record)


def iter_json_output(stream: IO[bytes], *, words: bool = False) -> Iterator[tuple[int, Sentence]]:
    """``(channel_id, Sentence)`` for each sentence of a ``json`` output (a result document).

    Two streaming passes, as the fetch makes: :func:`.parse.scan_result` checks the document and
    learns its channels, then :func:`.parse.iter_entries` yields the sentences. A stream that cannot
    seek is first copied to a temporary file.

    :raises QwenASRResultError: for a document the fetch would refuse.
    """
    if not stream.seekable():
        with tempfile.TemporaryFile(prefix="qwenasr-read-") as spool:
            shutil.copyfileobj(stream, spool)
            spool.seek(0)
            yield from iter_json_output(spool, words=words)
        return
    start = stream.tell()
    stats = scan_result(stream)
    stream.seek(start)
    yield from iter_entries(stream, stats, words=words)


def iter_output(fmt: str, stream: IO[bytes], *, words: bool = False) -> Iterator[tuple[int, Sentence]]:
    """``(channel_id, Sentence)`` pairs of an output in format ``fmt`` (one of :data:`READABLE_FORMATS`).

    :raises ValueError: for another format.
    """
    if fmt == "jsonl":
        return iter_jsonl_output(stream, words=words)
    if fmt == "json":
        return iter_json_output(stream, words=words)
    raise ValueError(f"format {fmt!r} holds no sentences to read; use one of {', '.join(READABLE_FORMATS)}")
