"""URLs of the app's pages and of the Airflow UI, built from the request so sub-paths keep working.

``request.scope["root_path"]`` is the api-server's root path plus the mount prefix (``/qwen-asr``);
links to the Airflow UI drop the prefix. Every path segment is percent-encoded here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from airflow_provider_qwenasr.ui.routes import (
    DOWNLOAD,
    TRANSCRIPT,
    UI_RUN,
    URL_PREFIX,
    fill,
    segment,
    ui_task_tab_path,
)

__all__ = [
    "app_path",
    "download_path",
    "transcript_path",
    "ui_base",
    "ui_run",
    "ui_task_tab",
    "with_query",
]


def app_path(request: Request, route: str, **params: Any) -> str:
    """Absolute path of a page of this app: ``route`` (:mod:`.routes`) with ``params`` encoded in it."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return root + fill(route, **{name: segment(value) for name, value in params.items()})


def ui_base(request: Request) -> str:
    """Absolute path of the Airflow UI's root, ending with ``/``."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return root.removesuffix(URL_PREFIX) + "/"


def with_query(path: str, params: Mapping[str, Any]) -> str:
    """``path`` with the non-empty ``params`` as its query string."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def transcript_path(request: Request, dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """Path of a task instance's transcript page (the tab's iframe)."""
    return app_path(request, TRANSCRIPT, dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index)


def download_path(
    request: Request, dag_id: str, run_id: str, task_id: str, map_index: int, index: int, fmt: str
) -> str:
    """Path of the download of one output."""
    return app_path(
        request,
        DOWNLOAD,
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        map_index=map_index,
        index=index,
        fmt=fmt,
    )


def ui_task_tab(request: Request, dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """The Airflow UI page of a task instance, opened on its Transcript tab."""
    return ui_base(request) + ui_task_tab_path(dag_id, run_id, task_id, map_index)


def ui_run(request: Request, dag_id: str, run_id: str) -> str:
    """The Airflow UI page of a DAG run."""
    return ui_base(request) + fill(UI_RUN, dag_id=segment(dag_id), run_id=segment(run_id))
