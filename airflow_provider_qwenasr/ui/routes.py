"""Where the app lives and the paths of its routes: the one place each URL string is written.

A leaf module (it imports nothing from the package), so the plugin, the app and the link builders
all read it without importing each other. Paths are relative to :data:`URL_PREFIX`; their
``{placeholders}`` are the routes' path parameters, which :func:`fill` substitutes.
"""

from __future__ import annotations

import re
from urllib.parse import quote

__all__ = [
    "DOWNLOAD",
    "NAV_ROUTE",
    "SPEND",
    "TAB_ROUTE",
    "TRANSCRIPT",
    "TRANSCRIPTIONS",
    "UI_MAPPED_TASK",
    "UI_RUN",
    "UI_TASK",
    "URL_PREFIX",
    "fill",
    "segment",
    "ui_task_tab_path",
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

#: A DAG run's page in the Airflow UI, relative to the UI's root (no leading slash).
UI_RUN = "dags/{dag_id}/runs/{run_id}"
#: A task instance's page in the Airflow UI, relative to the UI's root.
UI_TASK = UI_RUN + "/tasks/{task_id}"
#: The same for one mapped instance.
UI_MAPPED_TASK = UI_TASK + "/mapped/{map_index}"


def segment(value: object) -> str:
    """``value`` percent-encoded as one path segment (a ``/`` in a run id included)."""
    return quote(str(value), safe="")


def ui_task_tab_path(dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """The Airflow UI page of a task instance opened on its Transcript tab, relative to the UI's root.

    ``map_index`` -1 is an unmapped task instance. Each id is percent-encoded here.
    """
    values = {"dag_id": segment(dag_id), "run_id": segment(run_id), "task_id": segment(task_id)}
    if map_index >= 0:
        return fill(UI_MAPPED_TASK, **values, map_index=str(map_index)) + f"/plugin/{TAB_ROUTE}"
    return fill(UI_TASK, **values) + f"/plugin/{TAB_ROUTE}"


def fill(path: str, **values: str) -> str:
    """``path`` with each ``{name}`` replaced by ``values[name]`` (already encoded by the caller).

    One pass: a value holding braces is inserted as is, never read as a placeholder.

    :raises KeyError: for a placeholder of ``path`` that ``values`` does not give.
    """
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], path)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")
