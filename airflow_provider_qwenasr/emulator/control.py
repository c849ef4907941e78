"""The control API under ``/emulator-api/``: recorded requests, faults, clock, stats, config, reset.

Like moto's ``/moto-api/``, it lives beside the emulated service and is never part of it: no
authentication, not recorded, never faulted, and refused to non-loopback clients.
"""

from __future__ import annotations

import json
from typing import Any

from .backend import Backend
from .config import LIVE_SETTINGS
from .replies import Reply, json_reply

PREFIX = "/emulator-api/"


def _live_config(backend: Backend) -> dict[str, Any]:
    config = backend.config
    values = {name: getattr(config, name) for name in LIVE_SETTINGS}
    values["max_files_per_model"] = dict(config.max_files_per_model)
    return values


def handle(backend: Backend, method: str, path: str, query: dict[str, str], body: bytes) -> Reply:
    """Answer one control-API request."""
    resource = path[len(PREFIX) :].strip("/")
    try:
        document = json.loads(body) if body.strip() else {}
        if not isinstance(document, dict):
            raise ValueError("the body must be a JSON object")
        return _route(backend, method, resource, query, document)
    except (ValueError, TypeError) as exc:
        return json_reply(400, {"error": str(exc)})


def _route(backend: Backend, method: str, resource: str, query: dict[str, str], doc: dict[str, Any]) -> Reply:
    if resource == "requests" and method == "GET":
        return json_reply(200, {"requests": backend.requests.entries(query.get("endpoint"))})
    if resource == "requests" and method == "DELETE":
        backend.requests.clear()
        return json_reply(200, {"cleared": True})
    if resource == "faults" and method == "GET":
        return json_reply(200, {"faults": backend.faults.active()})
    if resource == "faults" and method == "POST":
        return json_reply(200, {"fault": backend.faults.add_from_json(doc).describe()})
    if resource == "faults" and method == "DELETE":
        backend.faults.clear()
        return json_reply(200, {"cleared": True})
    if resource == "clock" and method == "POST":
        if "speed" in doc:
            backend.clock.set_speed(float(doc["speed"]))
        if "advance_seconds" in doc:
            backend.clock.advance(float(doc["advance_seconds"]))
        return json_reply(200, {"now": backend.clock.now(), "speed": backend.clock.speed})
    if resource == "clock" and method == "GET":
        return json_reply(200, {"now": backend.clock.now(), "speed": backend.clock.speed})
    if resource == "stats" and method == "GET":
        return json_reply(200, backend.stats.snapshot(backend.task_count()))
    if resource == "config" and method == "POST":
        backend.update_config(doc)
        return json_reply(200, _live_config(backend))
    if resource == "config" and method == "GET":
        return json_reply(200, _live_config(backend))
    if resource == "reset" and method == "POST":
        backend.reset()
        return json_reply(200, {"reset": True})
    return json_reply(404, {"error": f"no control endpoint {method} {PREFIX}{resource}"})
