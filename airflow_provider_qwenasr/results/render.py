"""Rendering one checked result in each requested format, then writing them all to object storage.

Each text format is rendered from a streaming pass (:func:`.parse.iter_entries`) into its own local
temporary file; only when every rendering of the file succeeded is each one written, atomically
(:func:`.storage.publish_file`), as ``{root}/{name}.{ext}``. A failure therefore writes nothing of
that file.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    # The channels with sentences, known from the scan, are exactly those the entries will hold:
    # the subtitle writers need not spool the first channel to find out. For txt only "one
    # channel" is certain (a channel whose sentences are all empty gives no paragraph).
    single = len({c.channel_id for c in stats.channels if c.sentence_count}) <= 1
    if fmt in ("srt", "vtt") and "multi_channel" not in chosen:
        chosen["multi_channel"] = not single
    if fmt == "txt" and single and "multi_channel" not in chosen:
        chosen["multi_channel"] = False
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
    for fmt in formats:
        if fmt == "json":
            rendered[fmt] = document  # the original bytes, but for the audio URL's query
            continue
        local = scratch / f"{name}.{fmt}"
        # newline="" keeps "\n" line ends on every platform (SRT readers accept both).
        with local.open("w", encoding="utf-8", newline="") as out:
            entries = iter_entries(raw, stats, words=fmt not in _WORDLESS_FORMATS)
            renderers.write(fmt, entries, out, **_render_options(fmt, options.get(fmt, {}), stats))
        rendered[fmt] = local
    outputs: dict[str, str] = {}
    for fmt, local in rendered.items():
        dest = root / f"{name}.{fmt}"
        publish_file(local, dest)
        outputs[fmt] = object_uri(dest)
        written.append(outputs[fmt])
    return outputs
