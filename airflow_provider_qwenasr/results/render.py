"""Rendering one checked result in each requested format, then writing them all to object storage.

Every text format is rendered from one streaming pass (:func:`.parse.iter_entries`, read once for
all of them: :func:`~airflow_provider_qwenasr.formats.write_all`), each into its own local temporary
file; only when every rendering of the file succeeded is each one written, atomically
(:func:`.storage.publish_file`), as ``{root}/{name}.{ext}``. A failure therefore writes nothing of
that file.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_qwenasr.results.parse import ResultStats

__all__ = ["write_outputs"]

#: Formats whose renderer never reads word timings: their sentences are built without them.
_WORDLESS_FORMATS = frozenset({"txt"})


def _render_options(fmt: str, options: Mapping[str, Any], stats: ResultStats) -> dict[str, Any]:
    """The writer's options for ``fmt``: the user's, plus the channel layout the scan already knows."""
    chosen = dict(options)
    # The channels with sentences (subtitles), and with text (txt: a channel whose sentences are all
    # blank gives no paragraph), known from the scan, are exactly those the entries will show.
    if fmt in ("srt", "vtt", "txt") and chosen.get("multi_channel") is None:
        counted = [c.spoken_count if fmt == "txt" else c.sentence_count for c in stats.channels]
        shown = {c.channel_id for c, count in zip(stats.channels, counted, strict=True) if count}
        chosen["multi_channel"] = len(shown) > 1
    return chosen


def write_outputs(
    raw: Path,
    document: Path,
    stats: ResultStats,
    root: ObjectStoragePath,
    name: str,
    scratch: Path,
    *,
    formats: tuple[str, ...],
    options: Mapping[str, Mapping[str, Any]],
    written: list[str],
) -> dict[str, str]:
    """Render every format to a local file, then write them all; a failure writes nothing.

    ``raw`` is the downloaded result, ``document`` the same without the audio URL's query (the
    ``json`` output). Each URI written is appended to ``written`` as soon as it exists, so an error
    in a later write can still name it.

    :returns: the URI written for each format.
    """
    from airflow_provider_qwenasr import formats as renderers
    from airflow_provider_qwenasr.results.parse import iter_entries
    from airflow_provider_qwenasr.results.storage import object_uri, publish_file

    scratch.mkdir()
    rendered: dict[str, Path] = {}
    # One pass over the result feeds every text format; each renders into its own local file.
    with ExitStack() as stack:
        writers = []
        for fmt in formats:
            if fmt == "json":
                rendered[fmt] = document  # the original bytes, but for the audio URL's query
                continue
            rendered[fmt] = scratch / f"{name}.{fmt}"
            # newline="" keeps "\n" line ends on every platform (SRT readers accept both).
            out = stack.enter_context(rendered[fmt].open("w", encoding="utf-8", newline=""))
            chosen = _render_options(fmt, options.get(fmt, {}), stats)
            writers.append(stack.enter_context(renderers.open_writer(fmt, out, **chosen)))
        if writers:
            words = any(fmt not in _WORDLESS_FORMATS for fmt in rendered if fmt != "json")
            renderers.write_all(iter_entries(raw, stats, words=words), writers)
    outputs: dict[str, str] = {}
    for fmt, local in rendered.items():
        dest = root / f"{name}.{fmt}"
        publish_file(local, dest)
        outputs[fmt] = object_uri(dest)
        written.append(outputs[fmt])
    return outputs
