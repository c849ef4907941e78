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

# The parts live in private modules, one job each; this package is the public path to every name.
# Two names outside __all__ stay importable from here, as before the split: Pairs (the renderers'
# input type) and _WRITERS (the writer table, which results.fetch and the tests read and patch).
from airflow_provider_qwenasr.formats._cues import FALLBACK_CUE_MS
from airflow_provider_qwenasr.formats._dispatch import _WRITERS as _WRITERS
from airflow_provider_qwenasr.formats._dispatch import FORMATS, MEDIA_TYPES, check_format, render, write
from airflow_provider_qwenasr.formats._entries import Pairs as Pairs
from airflow_provider_qwenasr.formats._jsonl import write_jsonl
from airflow_provider_qwenasr.formats._subtitles import write_srt, write_vtt
from airflow_provider_qwenasr.formats._timestamps import srt_timestamp, vtt_timestamp
from airflow_provider_qwenasr.formats._txt import write_txt

__all__ = [
    "FALLBACK_CUE_MS",
    "FORMATS",
    "MEDIA_TYPES",
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

#: The doctests of the re-exported functions: ``doctest.testmod`` on this package finds only what a
#: module defines itself, and they are defined in the private modules.
__test__ = {"srt_timestamp": srt_timestamp, "vtt_timestamp": vtt_timestamp}
