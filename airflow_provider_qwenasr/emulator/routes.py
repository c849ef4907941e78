"""The routes: each DashScope path, its endpoint name (as the log and faults name it), its handler.

Handlers are thin: they authorize, call the backend with plain values and wrap its answer.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from .backend import Backend
from .errors import OssError, ServiceError
from .replies import Reply, error_reply, json_reply, oss_error_reply
from .uploads import parse_multipart

log = logging.getLogger(__name__)

__all__ = ["ROUTES", "Handler", "Request", "handle", "route"]


@dataclass
class Request:
    """A parsed request as the handlers see it (header names lower-case)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str]


Handler = Callable[[Backend, Request], Reply]


def _key(backend: Backend, request: Request) -> str:
    return backend.authorize(
        request.headers.get("authorization"), request.headers.get("x-dashscope-workspace")
    )


def _submit(backend: Backend, request: Request) -> Reply:
    return json_reply(200, backend.submit(_key(backend, request), request.headers, request.body))


def _query(backend: Backend, request: Request) -> Reply:
    return json_reply(200, backend.query(_key(backend, request), request.params["task_id"]))


def _cancel(backend: Backend, request: Request) -> Reply:
    return json_reply(200, backend.cancel(_key(backend, request), request.params["task_id"]))


def _list(backend: Backend, request: Request) -> Reply:
    return json_reply(200, backend.list_tasks(_key(backend, request), request.query))


def _customization(backend: Backend, request: Request) -> Reply:
    # No X-DashScope-Async and no Content-Type needed (dashscope-api.md: only the submit needs them).
    return json_reply(200, backend.customize(_key(backend, request), request.body))


def _upload_policy(backend: Backend, request: Request) -> Reply:
    return json_reply(200, backend.upload_policy(_key(backend, request), request.query))


def _upload(backend: Backend, request: Request) -> Reply:
    backend.upload(parse_multipart(request.headers.get("content-type", ""), request.body))
    return Reply(200, b"", "text/plain", {"x-oss-request-id": uuid.uuid4().hex[:24].upper()})


def _result(backend: Backend, request: Request) -> Reply:
    path = backend.result_file(request.path, request.query)
    return Reply(200, content_type="application/json", file=path, headers={"x-oss-object-type": "Normal"})


#: (methods, path pattern, endpoint name, handler), first match wins.
ROUTES: tuple[tuple[frozenset[str], re.Pattern[str], str, Handler], ...] = tuple(
    (frozenset(methods.split("|")), re.compile(pattern), name, handler)
    for methods, pattern, name, handler in (
        ("POST", r"/api/v1/services/audio/asr/transcription/?", "submit", _submit),
        ("POST", r"/api/v1/services/audio/asr/customization/?", "customization", _customization),
        ("POST", r"/api/v1/tasks/(?P<task_id>[^/]+)/cancel/?", "cancel", _cancel),
        ("GET|POST", r"/api/v1/tasks/(?P<task_id>[^/]+)/?", "query", _query),
        ("GET", r"/api/v1/tasks/?", "list", _list),
        ("GET", r"/api/v1/uploads/?", "upload_policy", _upload_policy),
        ("POST", r"/oss/?", "upload", _upload),
        ("GET", r"/results/[0-9]{8}/[^/]+\.json", "result", _result),
    )
)


def route(method: str, path: str) -> tuple[str, Handler | None, dict[str, str]]:
    """The endpoint name, handler and path parameters of a request (``other`` if none)."""
    for methods, pattern, name, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match and method in methods:
            return name, handler, {k: unquote(v) for k, v in match.groupdict().items()}
    return "other", None, {}


def handle(backend: Backend, handler: Handler | None, request: Request) -> Reply:
    """Run ``handler``, turning every error into the answer the service (or OSS) gives."""
    try:
        if handler is None:
            # No document names the code of an unknown path: the generic InvalidParameter, with 404.
            raise ServiceError(404, "InvalidParameter", f"No such API: {request.method} {request.path}")
        return handler(backend, request)
    except ServiceError as exc:
        return error_reply(exc.status, exc.code, exc.message)
    except OssError as exc:
        return oss_error_reply(exc.status, exc.code, exc.message, exc.details)
    except Exception:
        log.exception("emulator failure on %s %s", request.method, request.path)
        return error_reply(500, "InternalError", "The emulator failed; see its log.")
