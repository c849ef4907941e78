"""Fault injection: make the next matching requests fail the way networks and gateways fail."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import default_error

#: Names of the DashScope-side endpoints, as recorded and as faults select them.
ENDPOINTS = (
    "submit",
    "query",
    "cancel",
    "list",
    "customization",
    "result",
    "upload_policy",
    "upload",
    "other",
)

#: Endpoints without side effects: a fault on them lets the request run first by default, so a
#: ``reset`` or ``truncate`` cuts the real answer (say, a result document) and not a stand-in.
READ_ENDPOINTS = frozenset({"query", "list", "result", "upload_policy"})

KINDS = ("status", "latency", "drop", "reset", "truncate", "invalid_json")


@dataclass
class Fault:
    """One armed fault.

    :param endpoint: an entry of :data:`ENDPOINTS`, or ``any``.
    :param kind: ``status`` (an error answer), ``latency`` (sleep, then answer normally), ``drop``
        (close without answering), ``reset`` (headers and part of the body, then a TCP reset),
        ``truncate`` (a ``Content-Length`` larger than the bytes sent, then close), or
        ``invalid_json`` (a 200 whose body is not JSON).
    :param count: how many matching requests it hits; -1 = until cleared.
    :param process_request: whether the backend handles the request before the fault replaces the
        answer (so a dropped submit still creates a task). Default: yes for reads, no for writes.
    """

    endpoint: str
    kind: str
    status: int = 500
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    delay_seconds: float = 1.0
    count: int = 1
    process_request: bool | None = None

    def __post_init__(self) -> None:
        if self.endpoint != "any" and self.endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {self.endpoint!r}; one of {', '.join(ENDPOINTS)} or any")
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.count == 0 or self.count < -1:
            raise ValueError("count must be positive, or -1 for until cleared")
        default_code, default_message = default_error(self.status)
        if self.code is None:
            self.code = default_code
        if self.message is None:
            self.message = default_message

    def matches(self, endpoint: str) -> bool:
        """Whether this fault applies to a request for ``endpoint``."""
        return self.endpoint in ("any", endpoint)

    def processes(self, endpoint: str) -> bool:
        """Whether the backend should still handle the faulted request."""
        if self.kind == "latency":
            return True
        if self.process_request is None:
            return endpoint in READ_ENDPOINTS
        return self.process_request

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description, for the control API."""
        return {
            "endpoint": self.endpoint,
            "kind": self.kind,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "retry_after": self.retry_after,
            "delay_seconds": self.delay_seconds,
            "count": self.count,
            "process_request": self.process_request,
        }


class FaultRegistry:
    """The armed faults; the first matching one is used up by each request, in the order added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, endpoint: str = "any", kind: str = "status", **options: Any) -> Fault:
        """Arm a fault (see :class:`Fault` for the options) and return it."""
        fault = Fault(endpoint=endpoint, kind=kind, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_from_json(self, spec: Mapping[str, Any]) -> Fault:
        """Arm a fault from a control-API JSON object; unknown keys are an error."""
        allowed = set(Fault.__dataclass_fields__)
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        options = dict(spec)
        for name, cast in (("status", int), ("count", int), ("delay_seconds", float)):
            if name in options:
                options[name] = cast(options[name])
        return self.add(**options)

    def take(self, endpoint: str) -> Fault | None:
        """The fault that hits this request, if any, counting it as used."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(endpoint):
                    if fault.count > 0:
                        fault.count -= 1
                        if fault.count == 0:
                            del self._faults[index]
                    return fault
        return None

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()

    def active(self) -> list[dict[str, Any]]:
        """The armed faults, described."""
        with self._lock:
            return [fault.describe() for fault in self._faults]
