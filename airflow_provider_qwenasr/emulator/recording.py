"""What the emulator saw: the request log (keys redacted) and counters."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

#: Header values never stored whole.
_SECRET_HEADERS = frozenset({"authorization"})
#: Query parameters never stored whole (the signature of a result URL is a credential).
_SECRET_PARAMS = frozenset({"signature"})


def redact(value: str) -> str:
    """Keep a recognisable prefix of a secret and drop the rest.

    >>> redact("Bearer sk-emulator")
    'Bearer sk-e…(redacted)'
    """
    scheme, _, secret = value.partition(" ")
    if not secret:
        scheme, secret = "", value
    prefix = f"{scheme} " if scheme else ""
    return f"{prefix}{secret[:4]}…(redacted)"


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with credentials redacted."""
    return {k: redact(v) if k.lower() in _SECRET_HEADERS else v for k, v in headers.items()}


def redact_query(query: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``query`` with signatures redacted."""
    return {k: "(redacted)" if k.lower() in _SECRET_PARAMS else v for k, v in query.items()}


class RequestLog:
    """Every DashScope-side request received, in order (control-API calls are not recorded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def append(self, entry: Mapping[str, Any]) -> None:
        """Record one request (the caller has redacted it already)."""
        with self._lock:
            self._entries.append(dict(entry))

    def entries(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """The recorded requests, optionally only those of one endpoint."""
        with self._lock:
            return [dict(e) for e in self._entries if endpoint is None or e["endpoint"] == endpoint]

    def clear(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._entries.clear()


class Stats:
    """Counters for the control API's ``/emulator-api/stats``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.connections_opened = 0
        self.requests: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.submits = 0

    def connection_opened(self) -> None:
        """Count one accepted TCP connection."""
        with self._lock:
            self.connections_opened += 1

    def request(self, endpoint: str, status: int | None) -> None:
        """Count one answered (or dropped) request; a 429 counts as throttled too."""
        with self._lock:
            self.requests[endpoint] += 1
            if endpoint == "submit":
                self.submits += 1
            if status == 429:
                self.throttled[endpoint] += 1

    def clear(self) -> None:
        """Zero every counter."""
        with self._lock:
            self.connections_opened = 0
            self.requests.clear()
            self.throttled.clear()
            self.submits = 0

    def snapshot(self, tasks: int) -> dict[str, Any]:
        """The counters as JSON; ``tasks`` is how many tasks the backend holds."""
        with self._lock:
            return {
                "connections_opened": self.connections_opened,
                "requests": dict(self.requests),
                "throttled": dict(self.throttled),
                "submits": self.submits,
                "tasks": tasks,
            }
