"""The Airflow plugin that puts the Qwen-ASR pages into the api-server and the UI.

Airflow imports plugins in every component (scheduler, workers, dag-processor), not only in the
api-server, so this module stays light: the FastAPI app is built on the first request it receives
(:class:`LazyApp`), never at import.

Disable the pages with ``[qwen_asr] ui_enabled = False`` (``AIRFLOW__QWEN_ASR__UI_ENABLED=False``);
the plugin then registers nothing.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin

from airflow_provider_qwenasr.ui.routes import (
    NAV_ROUTE,
    TAB_ROUTE,
    TRANSCRIPT,
    TRANSCRIPTIONS,
    URL_PREFIX,
    fill,
)

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["URL_PREFIX", "LazyApp", "QwenASRPlugin", "ui_enabled"]


def ui_enabled() -> bool:
    """Whether ``[qwen_asr] ui_enabled`` (default True) allows the plugin to register its pages."""
    return conf.getboolean("qwen_asr", "ui_enabled", fallback=True)


class LazyApp:
    """An ASGI app that builds the real FastAPI app (:func:`..app.create_app`) on its first request.

    Importing FastAPI, the core API's security module and Jinja2 costs a scheduler or a worker
    for nothing; only the api-server ever calls this object.
    """

    def __init__(self) -> None:
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()

    def get(self) -> ASGIApp:
        """Return the FastAPI app, building it once."""
        if self._app is None:
            with self._lock:
                if self._app is None:
                    # Here, not at the top: importing the app costs every component FastAPI.
                    from airflow_provider_qwenasr.ui.app import create_app

                    self._app = create_app()
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the request to the real app."""
        await self.get()(scope, receive, send)


def _fastapi_apps() -> list[dict[str, Any]]:
    return [{"app": LazyApp(), "url_prefix": URL_PREFIX, "name": "Qwen-ASR transcripts"}]


def _external_views() -> list[dict[str, Any]]:
    # ``href`` is relative (no leading slash): the UI resolves it against its <base href>, so the
    # pages also work when Airflow is served under a sub-path. The UI fills {DAG_ID}, {RUN_ID},
    # {TASK_ID} and, for a mapped instance, {MAP_INDEX}; on an unmapped one the placeholder stays
    # as is, which the route reads as -1.
    prefix = URL_PREFIX.lstrip("/")
    tab = fill(TRANSCRIPT, dag_id="{DAG_ID}", run_id="{RUN_ID}", task_id="{TASK_ID}", map_index="{MAP_INDEX}")
    return [
        {
            "name": "Transcript",
            "href": prefix + tab,
            "destination": "task_instance",
            "url_route": TAB_ROUTE,
        },
        {
            "name": "Transcriptions",
            "href": prefix + TRANSCRIPTIONS,
            "destination": "nav",
            "category": "browse",
            "url_route": NAV_ROUTE,
        },
    ]


class QwenASRPlugin(AirflowPlugin):
    """Adds the Transcript tab (every task instance) and the Transcriptions page (Browse menu).

    Both are server-rendered pages of a FastAPI app mounted at ``/qwen-asr``; every route checks
    the api-server's auth manager for read access to the DAG.
    """

    name = "qwen_asr"
    fastapi_apps = _fastapi_apps() if ui_enabled() else []
    external_views = _external_views() if ui_enabled() else []
