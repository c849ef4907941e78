"""Render a transcription as plain text (txt), SubRip (srt), WebVTT (vtt) or JSON Lines (jsonl).

Every renderer takes ``(channel_id, Sentence)`` pairs, as :meth:`Transcription.channel_sentences`
yields them, and writes to a text stream, so a large result goes straight to a file. Each is also a
:class:`Writer` given the pairs one at a time (:func:`open_writer`), so one pass over a result feeds
every format requested (:func:`write_all`). Memory stays
bounded by a few sentences whatever their number: subtitle cues are put in time order and channels
counted without holding the sentences (see :mod:`airflow_provider_qwenasr._spool`). ``json`` is not
rendered here: it is the result document's original bytes, which the fetch operator copies. Subtitle
text is made legal as cdown/srt's ``make_legal_content`` does, but never refused: whitespace runs
(newlines included) become one space, so no cue holds a blank line, and ``-->`` becomes ``→``. The
layout of each format is described in ``docs/formats.md``.
"""

# The parts live in private modules, one job each; this package is the public path to every name.
# Names outside __all__ stay importable from here, as before the split: Pairs (the renderers' input
# type), _WRITERS (the writer table), _checked (the one check of a format's options, which
# results.options applies to format_options) and _OPENERS (the same formats as push-style writers,
# which results.render opens and the tests patch).
from airflow_provider_qwenasr.formats._cues import FALLBACK_CUE_MS
from airflow_provider_qwenasr.formats._dispatch import _OPENERS as _OPENERS
from airflow_provider_qwenasr.formats._dispatch import _WRITERS as _WRITERS
from airflow_provider_qwenasr.formats._dispatch import (
    FORMATS,
    MEDIA_TYPES,
    check_format,
    open_writer,
    render,
    write,
    write_all,
)
from airflow_provider_qwenasr.formats._dispatch import _checked as _checked
from airflow_provider_qwenasr.formats._entries import Pairs as Pairs
from airflow_provider_qwenasr.formats._entries import Writer
from airflow_provider_qwenasr.formats._jsonl import write_jsonl
from airflow_provider_qwenasr.formats._subtitles import write_srt, write_vtt
from airflow_provider_qwenasr.formats._timestamps import srt_timestamp, vtt_timestamp
from airflow_provider_qwenasr.formats._txt import write_txt

__all__ = [
    "FALLBACK_CUE_MS",
    "FORMATS",
    "MEDIA_TYPES",
    "Writer",
    "check_format",
    "open_writer",
    "render",
    "srt_timestamp",
    "vtt_timestamp",
    "write",
    "write_all",
    "write_jsonl",
    "write_srt",
    "write_txt",
    "write_vtt",
]

#: The doctests of the re-exported functions: ``doctest.testmod`` on this package finds only what a
#: module defines itself, and they are defined in the private modules.
__test__ = {"srt_timestamp": srt_timestamp, "vtt_timestamp": vtt_timestamp}
