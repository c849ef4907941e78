"""Per-key request-rate limits, counted in real time (clock speed-ups do not refill them)."""

from __future__ import annotations

import threading

from .clock import Clock


class RateLimiter:
    """A token bucket per (API key, endpoint group): ``qps`` requests a second, bursts of ``qps``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

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
        """Refill every bucket."""
        with self._lock:
            self._buckets.clear()
