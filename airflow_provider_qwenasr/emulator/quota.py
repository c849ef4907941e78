"""Per-key request-rate limits, counted in real time (clock speed-ups do not refill them)."""

from __future__ import annotations

import threading
from collections import deque

from .clock import Clock


class RateLimiter:
    """Per (API key, group) limits: a token bucket (:meth:`allow`) or a sliding window (:meth:`allow_window`).

    A group is an endpoint (``query``, ``list``, ``cancel``, ``customization``) or a submit quota
    (``submit:<family>`` for a per-minute quota, ``submit-rate:<family>`` for the test knob).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._windows: dict[tuple[str, str], deque[float]] = {}

    def allow_window(self, api_key: str, group: str, limit: int, seconds: float = 60.0) -> bool:
        """Count one request; ``False`` when ``limit`` were already counted in the last ``seconds``
        (a "600 a minute" quota: the 601st within any minute is throttled, and not counted)."""
        if limit <= 0:
            return True
        now = Clock.monotonic()
        with self._lock:
            window = self._windows.setdefault((api_key, group), deque())
            while window and window[0] <= now - seconds:
                window.popleft()
            if len(window) >= limit:
                return False
            window.append(now)
            return True

    def allow(self, api_key: str, group: str, qps: float) -> bool:
        """Take one token; ``False`` when the bucket is empty (the request is throttled)."""
        if qps <= 0:
            return True
        now = Clock.monotonic()
        capacity = max(qps, 1.0)
        with self._lock:
            tokens, last = self._buckets.get((api_key, group), (capacity, now))
            tokens = min(capacity, tokens + (now - last) * qps)
            if tokens < 1.0:
                self._buckets[(api_key, group)] = (tokens, now)
                return False
            self._buckets[(api_key, group)] = (tokens - 1.0, now)
            return True

    def clear(self) -> None:
        """Refill every bucket and empty every window."""
        with self._lock:
            self._buckets.clear()
            self._windows.clear()
