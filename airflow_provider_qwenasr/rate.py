"""A query-rate budget per API host and key, shared by everything in one process.

DashScope's query quota (20 queries/s) belongs to the *account*: every triggerer, every worker and
every other client of the key draw on it, and none of them can see the others. So each process paces
itself without coordination, the way TCP does:

* it starts at ``query_qps / expected_processes`` (the ceiling, never exceeded);
* on a 429 it halves its rate (at most once per second, so one burst of 429s counts once) and
  pauses for ``Retry-After`` when the service sends one;
* while queries succeed it adds the rate back slowly (``increase_per_second`` per second), up to
  the ceiling.

Async callers (triggers) queue in :meth:`RateBudget.acquire`; one pacer per event loop releases them
in arrival order, one every ``1 / rate`` seconds at the rate *of that moment*. Triggers arrive when
their poll is due, so a cut rate delays every waiting task a little instead of starving some, and a
cut applies at once: no slot is ever booked ahead at an old rate (booking ahead let a backlog of
waiters keep drawing 429s long after a cut). A pacer that wakes late (a busy loop oversleeps) makes
up to half a slot of the lateness on the next one, so loop lag does not lower the rate. Sync
callers (workers: a handful of threads) take the next slot with :meth:`RateBudget.reserve`. The
budget holds no connection; its arithmetic is done under a lock, safe for threads and any number of
event loops. Each budget of :func:`budget_for` reports its rate, whenever it changes, as the
``qwen_asr.budget.rate`` gauge (:mod:`airflow_provider_qwenasr.metrics`).
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from airflow_provider_qwenasr import metrics

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
    :param on_rate: called with the new rate after each change (outside the lock), and once at the start.
    """

    def __init__(
        self,
        ceiling: float,
        *,
        minimum: float = 0.2,
        increase_per_second: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        on_rate: Callable[[float], None] | None = None,
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
        self._pacers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pacer] = (
            weakref.WeakKeyDictionary()
        )
        self.counters = _Counters()
        self._on_rate = on_rate
        self._report(self._rate)

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

    def _try_take(self) -> float:
        """Take the slot if it is due (return 0), else return how long until it is; books nothing.

        A pacer woken late (a busy event loop oversleeps) keeps to the schedule: up to half a slot
        of lateness comes off the next wait instead of being lost, so the rate holds at the ceiling
        under loop lag. After a quiet spell the schedule starts afresh: no slots are banked.
        """
        with self._lock:
            now = self._clock()
            if now < self._next_slot:
                return self._next_slot - now
            interval = 1.0 / self._rate
            self._next_slot = max(self._next_slot, now - interval / 2) + interval
            self.counters.granted += 1
            return 0.0

    async def acquire(self) -> None:
        """Wait (without blocking the event loop) until a slot is ours, in arrival order."""
        loop = asyncio.get_running_loop()
        pacer = self._pacers.get(loop)
        if pacer is None:
            pacer = self._pacers[loop] = _Pacer(self)
        await pacer.wait()

    def acquire_blocking(self) -> None:
        """Wait (blocking this thread) until a slot is ours: for workers, never for triggers."""
        delay = self.reserve()
        if delay > 0:
            time.sleep(delay)

    def on_success(self) -> None:
        """Record an answered query: climb back towards the ceiling, additively."""
        if self._rate >= self.ceiling:  # the common case, without the lock: nothing to change
            return
        with self._lock:
            before = self._rate
            # Spread the per-second increase over the queries of one second at the current rate.
            self._rate = min(self.ceiling, self._rate + self.increase_per_second / self._rate)
            after = self._rate
        if after != before:
            self._report(after)

    def on_throttled(self, retry_after: float | None = None) -> None:
        """Record a 429: halve the rate (once per second at most) and pause for ``retry_after``."""
        cut = None
        with self._lock:
            now = self._clock()
            self.counters.throttled += 1
            if now - self._last_cut >= 1.0:
                self._rate = cut = max(self.minimum, self._rate / 2)
                self._last_cut = now
                self.counters.cuts += 1
            pause = retry_after if retry_after is not None else 1.0 / self._rate
            self._next_slot = max(self._next_slot, now + pause)
        if cut is not None:
            self._report(cut)

    def set_ceiling(self, ceiling: float) -> None:
        """Lower (or raise) the ceiling; the current rate is clipped to it."""
        with self._lock:
            before = self._rate
            self.ceiling = float(ceiling)
            self._rate = after = min(self._rate, self.ceiling)
        if after != before:
            self._report(after)

    def _report(self, rate: float) -> None:
        if self._on_rate is not None:
            self._on_rate(rate)


class _Pacer:
    """One loop's queue of waiters for a budget, released one slot at a time by a single task."""

    def __init__(self, budget: RateBudget) -> None:
        self._budget = budget
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._task: asyncio.Task[None] | None = None

    async def wait(self) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._release())
        await future

    async def _release(self) -> None:
        while self._waiters:
            if self._waiters[0].done():  # cancelled while queued: its slot goes to the next one
                self._waiters.popleft()
                continue
            delay = self._budget._try_take()
            if delay > 0:
                # Re-checked after the sleep: a 429 may have pushed the slot, or the rate changed.
                await asyncio.sleep(delay)
                continue
            self._waiters.popleft().set_result(None)


_budgets: dict[tuple[str, str], RateBudget] = {}
_budgets_lock = threading.Lock()


def budget_for(host: str, key_fingerprint: str, ceiling: float, *, kind: str = "query") -> RateBudget:
    """Return this process's budget for ``host`` and key, creating it at ``ceiling`` the first time.

    A later caller with a lower ceiling lowers it (the strictest connection setting wins). ``kind``
    names the budget in its rate gauge (``query``, or ``submit.<family>``), beside ``host``'s host
    and port; the key is never named.
    """
    with _budgets_lock:
        budget = _budgets.get((host, key_fingerprint))
        if budget is None:
            report = partial(metrics.budget_rate, host, kind)
            budget = _budgets[(host, key_fingerprint)] = RateBudget(ceiling, on_rate=report)
        elif ceiling < budget.ceiling:
            budget.set_ceiling(ceiling)
        return budget


def reset_budgets() -> None:
    """Forget every budget (tests, and benchmarks that compare settings in one process)."""
    with _budgets_lock:
        _budgets.clear()
