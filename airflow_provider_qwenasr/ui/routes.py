"""Where the app lives and the paths of its routes: the one place each URL string is written.

A leaf module (it imports nothing from the package), so the plugin, the app and the link builders
all read it without importing each other. Paths are relative to :data:`URL_PREFIX`; their
``{placeholders}`` are the routes' path parameters, which :func:`fill` substitutes.
"""

from __future__ import annotations

import re

__all__ = [
    "DOWNLOAD",
    "NAV_ROUTE",
    "SPEND",
    "TAB_ROUTE",
    "TRANSCRIPT",
    "TRANSCRIPTIONS",
    "URL_PREFIX",
    "fill",
]

#: Where the app is mounted in the api-server.
URL_PREFIX = "/qwen-asr"

#: The Transcript tab of one task instance (the iframe of the ``task_instance`` external view).
TRANSCRIPT = "/ti/{dag_id}/{run_id}/{task_id}/{map_index}"
#: The download of one output the manifest names.
DOWNLOAD = TRANSCRIPT + "/files/{index}/{fmt}"
#: The Transcriptions page (Browse menu).
TRANSCRIPTIONS = "/transcriptions"
#: The Transcriptions page's spend figures, as JSON (same filters and access as the page).
SPEND = TRANSCRIPTIONS + "/spend"

#: The UI route of the Transcript tab (``url_route`` of the ``task_instance`` external view).
TAB_ROUTE = "qwen-asr-transcript"
#: The UI route of the Transcriptions page (``url_route`` of the ``nav`` external view).
NAV_ROUTE = "qwen-asr-transcriptions"


def fill(path: str, **values: str) -> str:
    """``path`` with each ``{name}`` replaced by ``values[name]`` (already encoded by the caller).

    One pass: a value holding braces is inserted as is, never read as a placeholder.

    :raises KeyError: for a placeholder of ``path`` that ``values`` does not give.
    """
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], path)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")
