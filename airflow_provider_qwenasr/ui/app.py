"""The FastAPI app mounted at ``/qwen-asr``: the Transcript tab, the Transcriptions page, downloads.

Routes are thin: Airflow's authorization runs first (:mod:`.access`), then a lookup (:mod:`.store`),
then a template (:mod:`.render`). Routes are sync ``def``: FastAPI runs them in its thread pool,
so DB and object-store reads never block the api-server's event loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, Annotated, Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.utils.state import TaskInstanceState
from fastapi import FastAPI, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response, StreamingResponse

from airflow_provider_qwenasr.output_signing import OutputOwner
from airflow_provider_qwenasr.ui import links, spend, store, views
from airflow_provider_qwenasr.ui.access import ReadTranscript, UserDep, can_read_logs, readable_dag_ids
from airflow_provider_qwenasr.ui.manifest import (
    OUTPUT_MEDIA_TYPES,
    ManifestInvalid,
    OutputRefused,
    check_manifest,
    file_entry,
    output_uri,
)
from airflow_provider_qwenasr.ui.render import SECURITY_HEADERS, page
from airflow_provider_qwenasr.ui.routes import DOWNLOAD, SPEND, TRANSCRIPT, TRANSCRIPTIONS
from airflow_provider_qwenasr.ui.sentences import open_output
from airflow_provider_qwenasr.ui.spend_chart import render_spend_chart

__all__ = ["create_app", "download", "spend_figures", "transcript", "transcriptions"]

#: Manifest statuses offered by the status filter (DashScope's terminal task statuses).
STATUSES = ("SUCCEEDED", "FAILED")
_FAILED = {TaskInstanceState.FAILED, TaskInstanceState.UP_FOR_RETRY}
_WAITING = {
    TaskInstanceState.SCHEDULED,
    TaskInstanceState.QUEUED,
    TaskInstanceState.RUNNING,
    TaskInstanceState.DEFERRED,
    TaskInstanceState.UP_FOR_RESCHEDULE,
}
_CHUNK = 256 * 1024

Page = Annotated[int, Query(ge=1, le=1_000_000)]
DagFilter = Annotated[str | None, Query(max_length=250)]
StatusFilter = Annotated[str | None, Query(alias="status", max_length=40)]


def _map_index(raw: str) -> int:
    # The UI leaves "{MAP_INDEX}" in the tab's URL for an unmapped task instance.
    if raw in ("{MAP_INDEX}", "", "-1"):
        return -1
    if not raw.isdigit():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such map index.")
    return int(raw)


def _hint(state: str | None, failed: bool, log_shown: bool) -> str:
    if failed:
        where = "above" if log_shown else "in the task's Logs tab"
        return (
            f"The transcription failed, so no transcript was written; the error is {where}. "
            "Fix its cause and clear the task to run it again."
        )
    if state in _WAITING:
        return f"The task is {state}: its transcript appears here once it succeeds."
    return "No transcript for this task: it returned no Qwen-ASR manifest."


def transcript(
    request: Request,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: str,
    user: UserDep,
    session: SessionDep,
    file: Annotated[int | None, Query(ge=0)] = None,
    lane: Annotated[str | None, Query(max_length=40)] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=10, le=500)] = 100,
) -> Response:
    """The Transcript tab of one task instance (the iframe of the ``task_instance`` external view)."""
    index = _map_index(map_index)
    ti = store.find_task_instance(session, dag_id, run_id, task_id, index)
    if ti is None:
        mapped = store.mapped_indexes(session, dag_id, run_id, task_id) if index == -1 else []
        if not mapped:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such task instance.")
        hrefs = [(i, links.transcript_path(request, dag_id, run_id, task_id, i)) for i in mapped]
        stub = {"task_id": task_id, "map_index": -1, "state": "mapped", "try_number": ""}
        return page(
            "no_transcript.html", ti=stub, mapped=hrefs, failed=False, failure=None, timeline=[], hint=""
        )
    manifest = store.get_manifest(session, dag_id, run_id, task_id, index)
    if manifest is None:
        failed = ti.state in _FAILED
        failure = (
            store.failure_details(session, ti, read_logs=can_read_logs(user, dag_id)) if failed else None
        )
        return page(
            "no_transcript.html",
            title=f"Transcript · {task_id}",
            ti=ti,
            failed=failed,
            failure=failure,
            mapped=None,
            timeline=views.task_timeline(ti),
            hint=_hint(ti.state, failed, bool(failure and (failure.error or failure.log_lines))),
        )
    _checked(manifest)
    lane = lane or None
    context = views.transcript_context(
        request, ti, manifest, file=file, lane=lane, page=page_number, size=size
    )
    if context is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "The manifest has no such file.")
    return page("transcript.html", **context)


def _download_name(entry: Any, index: int, fmt: str) -> str:
    name = str(entry.get("name") or f"file-{index}") if entry else f"file-{index}"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or f"file-{index}"
    return f"{safe[:100]}.{fmt}"


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(_CHUNK):
            yield chunk


def download(
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: str,
    index: int,
    fmt: str,
    session: SessionDep,
) -> Response:
    """Stream one output the manifest names (``files[index].outputs[fmt]``) from the object store."""
    mi = _map_index(map_index)
    manifest = store.get_manifest(session, dag_id, run_id, task_id, mi)
    if manifest is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No transcript for this task instance.")
    _checked(manifest)
    try:
        uri = output_uri(manifest, OutputOwner(dag_id, run_id, task_id, mi), index, fmt)
    except OutputRefused as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No such output: {exc}.") from None
    try:
        stream = open_output(uri, manifest.get("output_conn_id"))
    except FileNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "The output no longer exists.") from None
    except Exception as exc:  # the store refused or failed: say so, never a server error
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY, f"The output could not be opened ({type(exc).__name__})."
        ) from None
    filename = _download_name(file_entry(manifest, index), index, fmt)
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(_chunks(stream), media_type=OUTPUT_MEDIA_TYPES[fmt], headers=headers)


def _checked(manifest: Any) -> None:
    """422, naming the problem, for a manifest whose shape the pages cannot rely on."""
    try:
        check_manifest(manifest)
    except ManifestInvalid as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY, f"The manifest is malformed: {exc}."
        ) from None


def transcriptions(
    request: Request,
    user: UserDep,
    session: SessionDep,
    dag_id: DagFilter = None,
    status_filter: StatusFilter = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=5, le=200)] = 25,
) -> Response:
    """Recent transcriptions in the DAGs the user may read, newest first, filterable by DAG and status."""
    dag_id = dag_id or None
    status_filter = status_filter or None
    readable = readable_dag_ids(user)
    rows, total = store.list_manifests(
        session,
        readable,
        dag_id=dag_id,
        status=status_filter,
        offset=(page_number - 1) * size,
        limit=size,
    )
    figures = _spend(session, readable, dag_id, status_filter)
    pages = max(1, -(-total // size))
    here = {"dag_id": dag_id, "status": status_filter, "size": size if size != 25 else None}
    path = request.url.path
    return page(
        "transcriptions.html",
        title="Transcriptions",
        rows=[views.list_row(request, r) for r in rows],
        dag_options=store.dag_ids_with_manifests(session, readable),
        status_options=sorted({*STATUSES, *([status_filter] if status_filter else [])}),
        dag_id=dag_id,
        status=status_filter,
        page=page_number,
        pages=pages,
        total=total,
        prev_href=links.with_query(path, {**here, "page": page_number - 1}) if page_number > 1 else None,
        next_href=links.with_query(path, {**here, "page": page_number + 1}) if page_number < pages else None,
        spend=figures,
        spend_chart=render_spend_chart(figures.daily, scope=_scope(dag_id, status_filter)),
        spend_href=links.with_query(
            links.app_path(request, SPEND), {"dag_id": dag_id, "status": status_filter}
        ),
        seconds=spend.seconds,
        hours=spend.hours,
    )


def _spend(session: SessionDep, readable: set[str], dag_id: str | None, status: str | None) -> spend.Spend:
    """The page's figures: its filters, its readable DAGs, the last week (bounded by the store)."""
    now = datetime.now(timezone.utc)
    rows = store.spend_rows(session, readable, since=now - spend.WEEK, dag_id=dag_id, status=status)
    return spend.aggregate(rows, now)


def _scope(dag_id: str | None, status: str | None) -> str:
    return ", ".join(part for part in (dag_id and f"DAG {dag_id}", status and f"status {status}") if part)


def spend_figures(
    user: UserDep,
    session: SessionDep,
    dag_id: DagFilter = None,
    status_filter: StatusFilter = None,
) -> Response:
    """The Transcriptions page's spend figures as JSON: the same filters and the same readable DAGs."""
    dag_id = dag_id or None
    status_filter = status_filter or None
    figures = _spend(session, readable_dag_ids(user), dag_id, status_filter)
    document = spend.spend_json(figures, {"dag_id": dag_id, "status": status_filter})
    return JSONResponse(document, headers=SECURITY_HEADERS)


_HEADINGS = {
    401: "Not logged in",
    403: "Forbidden",
    404: "Not found",
    422: "Bad request",
    502: "Output unavailable",
}


def _login_href(request: Request) -> str | None:
    try:
        from airflow.api_fastapi.app import get_auth_manager

        login = get_auth_manager().get_url_login()
    except Exception:  # no auth manager: no link
        return None
    return links.ui_base(request) + str(login).lstrip("/")


async def _http_error(request: Request, exc: Exception) -> Response:
    code = getattr(exc, "status_code", 422)  # a RequestValidationError has none
    detail = (
        getattr(exc, "detail", None) if isinstance(exc, StarletteHTTPException) else "Invalid parameters."
    )
    if request.url.path.endswith(SPEND):  # the JSON route answers errors in JSON
        headers = {**SECURITY_HEADERS, **(getattr(exc, "headers", None) or {})}
        return JSONResponse({"detail": str(detail or "")}, status_code=code, headers=headers)
    response = page(
        "error.html",
        status_code=code,
        title=_HEADINGS.get(code, "Error"),
        code=code,
        heading=_HEADINGS.get(code, "Error"),
        detail=str(detail or ""),
        login_href=_login_href(request) if code == status.HTTP_401_UNAUTHORIZED else None,
    )
    if isinstance(exc, StarletteHTTPException) and exc.headers:
        response.headers.update(exc.headers)
    return response


def create_app() -> FastAPI:
    """Build the app; the plugin mounts it at ``/qwen-asr`` (see :class:`.plugin.LazyApp`)."""
    app = FastAPI(title="Qwen-ASR transcripts", docs_url=None, redoc_url=None, openapi_url=None)
    # Every route names its DAG (path or query ``dag_id``); ReadTranscript authorizes it first.
    guarded: dict[str, Any] = {"dependencies": [ReadTranscript], "response_class": Response}
    app.add_api_route(TRANSCRIPT, transcript, name="transcript", **guarded)
    app.add_api_route(DOWNLOAD, download, name="download", **guarded)
    app.add_api_route(TRANSCRIPTIONS, transcriptions, name="transcriptions", **guarded)
    app.add_api_route(SPEND, spend_figures, name="spend", **guarded)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _http_error)
    return app
