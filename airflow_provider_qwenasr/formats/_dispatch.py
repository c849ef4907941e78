"""The format names, and writing or rendering by name."""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, TextIO

from airflow_provider_qwenasr.exceptions import QwenASRInputError
from airflow_provider_qwenasr.formats._entries import Pairs, Writer
from airflow_provider_qwenasr.formats._jsonl import JsonlWriter, write_jsonl
from airflow_provider_qwenasr.formats._subtitles import SubtitleWriter, write_srt, write_vtt
from airflow_provider_qwenasr.formats._txt import TxtWriter, write_txt
from airflow_provider_qwenasr.models import Transcription

__all__ = ["FORMATS", "MEDIA_TYPES", "check_format", "open_writer", "render", "write", "write_all"]

#: Each output format a fetch can produce, with the media type it is served as. ``json`` is the
#: original document, written by the fetch itself.
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}
#: The output format names, in the order the docs list them.
FORMATS = tuple(MEDIA_TYPES)

_WRITERS: dict[str, Callable[..., Any]] = dict(txt=write_txt, srt=write_srt, vtt=write_vtt, jsonl=write_jsonl)
#: The same formats as writers given one sentence at a time; each takes its ``write_*``'s options.
_OPENERS: dict[str, Callable[..., Writer]] = dict(
    txt=TxtWriter,
    srt=partial(SubtitleWriter, vtt=False),
    vtt=partial(SubtitleWriter, vtt=True),
    jsonl=JsonlWriter,
)


def check_format(fmt: str) -> str:
    """Return ``fmt`` normalised (``"SRT "`` gives ``"srt"``) if it is one of :data:`FORMATS`.

    :raises QwenASRInputError: naming the valid formats otherwise.
    """
    name = fmt.strip().lower() if isinstance(fmt, str) else fmt
    if name not in FORMATS:
        raise QwenASRInputError(f"Unknown output format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    return name


def _checked(fmt: str, options: Mapping[str, Any]) -> tuple[str, Mapping[str, inspect.Parameter]]:
    """``fmt`` normalised, once ``options`` are known to be the format's, with its writer's parameters.

    The one check of a format's name and options: :func:`write` and :func:`open_writer` call it, and
    so does the fetch's check of its ``format_options`` (before anything is billed). The parameters
    are returned so that a caller reads the writer's signature no second time.
    """
    name = check_format(fmt)
    if name == "json":
        raise QwenASRInputError(
            "The json output is the original result document, copied untouched: "
            "it is not rendered and takes no options"
        )
    writer = _WRITERS[name]
    # Checked here, not left to a TypeError, so the message names what the format does take.
    parameters = inspect.signature(writer).parameters
    takes = [p.name for p in parameters.values() if p.kind is p.KEYWORD_ONLY]
    # A writer taking **options (a wrapper, or a test double) takes whatever the fetch passes.
    open_ended = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    if not open_ended and (unknown := sorted(set(options) - set(takes))):
        raise QwenASRInputError(
            f"Unknown option(s) {unknown} for {name!r}; it takes: {', '.join(takes) or 'none'}"
        )
    return name, parameters


def write(fmt: str, entries: Pairs, out: TextIO, **options: Any) -> int | None:
    """Write ``entries`` to ``out`` in ``fmt`` with that format's options; return the writer's result.

    :raises QwenASRInputError: for an unknown format, for ``json`` (the original document, which is
        copied, not rendered) and for an option the format does not take.
    """
    name, _ = _checked(fmt, options)
    result: int | None = _WRITERS[name](entries, out, **options)
    return result


def open_writer(fmt: str, out: TextIO, **options: Any) -> Writer:
    """A :class:`Writer` of ``fmt`` to ``out``, given the sentences one at a time (see :func:`write_all`).

    It takes the options :func:`write` does, but ``multi_channel`` must be known (``True`` or
    ``False``) for the formats that take it: a writer given one sentence at a time cannot look ahead.

    :raises QwenASRInputError: as :func:`write`, and for ``multi_channel`` missing or ``None``.
    """
    name, parameters = _checked(fmt, options)
    if "multi_channel" in parameters and options.get("multi_channel") is None:
        raise QwenASRInputError(f"open_writer({name!r}) needs multi_channel=True or False")
    return _OPENERS[name](out, **options)


def write_all(entries: Pairs, writers: Sequence[Writer]) -> list[int | None]:
    """Give every pair of ``entries`` to each writer in turn, in one pass; return what each finished with.

    The writers share the pass and nothing else: each sees every sentence, in order. Close them
    (their ``with`` block) whether or not this returns.
    """
    for channel, sentence in entries:
        for writer in writers:
            writer.add(channel, sentence)
    return [writer.finish() for writer in writers]


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
