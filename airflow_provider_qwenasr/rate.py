"""A query-rate budget per API host and key, shared by everything in one process.

DashScope's query quota (20 queries/s) belongs to the *account*: every triggerer, every worker and
every other client of the key draw on it, and none of them can see the others. So each process paces
itself without coordination, the way TCP does:

* it starts at ``query_qps / expected_processes`` (the ceiling, never exceeded);
* on a 429 it halves its rate (at most once per second, so one burst of 429s counts once) and
  honours ``Retry-After`` when the service sends one;
* while queries succeed it adds the rate back slowly (``increase_per_second`` per second), up to
  the ceiling.

Callers take a slot with :meth:`RateBudget.reserve` (sync) or :meth:`RateBudget.acquire` (async).
Slots are handed out first come, first served, and callers come when their poll is due, so a cut rate
delays every waiting task a little instead of starving some. The budget holds no connection and no
loop: it is plain arithmetic under a lock, safe for threads and for any number of event loops.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateBudget", "budget_for", "reset_budgets"]


@dataclass
class _Counters:
    granted: int = 0
    throttled: int = 0
    cuts: int = 0


class RateBudget:
    """An AIMD-paced slot dispenser for one API host + key in this process.

    :param ceiling: the highest rate, queries per second.
    :param minimum: the lowest rate a run of 429s can push it to.
    :param increase_per_second: how fast the rate climbs back while queries succeed.
    :param clock: a monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self,
        ceiling: float,
        *,
        minimum: float = 0.2,
        increase_per_second: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ceiling <= 0:
            raise ValueError(f"A rate ceiling must be positive, got {ceiling}")
        self._lock = threading.Lock()
        self._clock = clock
        self.ceiling = float(ceiling)
        self.minimum = min(minimum, self.ceiling)
        self.increase_per_second = increase_per_second
        self._rate = self.ceiling
        self._next_slot = 0.0
        self._last_cut = -1e9
        self.counters = _Counters()

    @property
    def rate(self) -> float:
        """The current rate, queries per second."""
        return self._rate

    def reserve(self) -> float:
        """Take the next free slot; return how many seconds to wait before using it."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / self._rate
            self.counters.granted += 1
            return slot - now

    async def acquire(self) -> None:
        """Wait (without blocking the event loop) until a slot is ours."""
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)

    def acquire_blocking(self) -> None:
        """Wait (blocking this thread) until a slot is ours: for workers, never for triggers."""
        delay = self.reserve()
        if delay > 0:
            time.sleep(delay)

    def on_success(self) -> None:
        """Record an answered query: climb back towards the ceiling, additively."""
        with self._lock:
            if self._rate < self.ceiling:
                # Spread the per-second increase over the queries of one second at the current rate.
                self._rate = min(self.ceiling, self._rate + self.increase_per_second / self._rate)

    def on_throttled(self, retry_after: float | None = None) -> None:
        """Record a 429: halve the rate (once per second at most) and pause for ``retry_after``."""
        with self._lock:
            now = self._clock()
            self.counters.throttled += 1
            if now - self._last_cut >= 1.0:
                self._rate = max(self.minimum, self._rate / 2)
                self._last_cut = now
                self.counters.cuts += 1
            pause = retry_after if retry_after is not None else 1.0 / self._rate
            self._next_slot = max(self._next_slot, now + pause)


_budgets: dict[tuple[str, str], RateBudget] = {}
_budgets_lock = threading.Lock()


def budget_for(host: str, key_fingerprint: str, ceiling: float) -> RateBudget:
    """Return this process's budget for ``host`` and key, creating it at ``ceiling`` the first time.

    A later caller with a lower ceiling lowers it (the strictest connection setting wins).
    """
    with _budgets_lock:
        budget = _budgets.get((host, key_fingerprint))
        if budget is None:
            budget = _budgets[(host, key_fingerprint)] = RateBudget(ceiling)
        elif ceiling < budget.ceiling:
            budget.ceiling = ceiling
            budget._rate = min(budget._rate, ceiling)
        return budget


def reset_budgets() -> None:
    """Forget every budget (tests, and benchmarks that compare settings in one process)."""
    with _budgets_lock:
        _budgets.clear()
