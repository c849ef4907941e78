"""A status board per account in the triggerer: one sweep of the task list instead of a poll per task.

Per-task polling is bound by the query quota: ``N`` waits under a budget of ``B`` queries/s see each
task every ``N / B`` seconds. The task list (``GET /tasks``, its own quota) tells the status of 100
tasks a call, so one coroutine per (API host, key) per event loop sweeps the account's PENDING and
RUNNING tasks, page after page, and wakes exactly the triggers whose task is no longer among them.
A woken trigger confirms with one ``GET /tasks/{id}`` (the authority for status, code, message and
files) and fires its event as before. The arithmetic is in docs/scaling.md.

When every registered task names one model, the sweep asks only for that model (``model_name=``),
so the account's open tasks of other models fill no pages.

What a sweep can miss, and what covers it:

* **A page shift.** Pages are cut from the live list: a task that ends while the sweep pages pulls
  the later pages up by one, so one open task can be skipped. The list is newest first, so a
  skipped task was created between the last row of one page and the first of the next. When the
  list's ``total`` shrank between two pages and one of our unseen tasks lies in that stretch, the
  sweep reads the earlier page again (the rows it lost are at its end now); a stretch still unsure
  after that is not woken on that sweep.
* **A list that trails the query.** A task no sweep has listed may have ended already (a short
  one) or be too young for the list: the board wakes a few such tasks a sweep (as many as the query
  budget confirms in one sweep's time), and once one of them is confirmed still open, it
  gives every unlisted task :data:`UNSEEN_GRACE` seconds to appear first. A task woken too early
  is woken again only after a growing pause (:data:`FALSE_WAKE_PAUSE`, doubling).
* **A list that names the model differently** (the model filter hides every task of ours): once
  the list has been seen to trail and a task of that model, registered :data:`UNSEEN_GRACE`
  seconds ago, is still unlisted and confirmed open while no task of its model was ever listed, the
  board drops the filter for that model (logged once) and sweeps every model.
* **The 24 h window**, and anything else: each trigger also times out of its wait after a slow
  *safety poll* interval (:meth:`StatusBoard.safety_interval`, a tenth of the query budget at most),
  and queries its task then.
* **A list that errors, is refused or stays throttled.** The board falls back: it wakes every waiting
  trigger to poll its own task as it did before the board (logged once), and tries the list again
  later (:data:`LIST_RETRY_SECONDS`, doubling up to :data:`LIST_RETRY_MAX_SECONDS`).

List calls spend the list's own rate budget (:mod:`airflow_provider_qwenasr.rate`); confirmations
and safety polls spend the query budget. The board's coroutine runs only while a trigger is
registered: the last one to leave cancels it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import weakref
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from airflow_provider_qwenasr.exceptions import QwenASRError
from airflow_provider_qwenasr.models import AsrTask
from airflow_provider_qwenasr.triggers._pages import PAGE_SIZE, Sweep, read_pass
from airflow_provider_qwenasr.triggers._registration import Counters, Registration, Wake

if TYPE_CHECKING:
    from airflow_provider_qwenasr._api.settings import ApiSettings
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRAsyncHook

__all__ = [
    "FALLBACK_AFTER_SECONDS",
    "FALSE_WAKE_PAUSE",
    "LIST_RETRY_MAX_SECONDS",
    "LIST_RETRY_SECONDS",
    "PAGE_SIZE",
    "SAFETY_POLL_SECONDS",
    "SAFETY_SHARE",
    "SWEEP_INTERVAL",
    "UNSEEN_GRACE",
    "Registration",
    "StatusBoard",
    "Wake",
    "board_for",
]

log = logging.getLogger(__name__)

#: The shortest time between the starts of two sweeps (the list quota is shared with other callers).
SWEEP_INTERVAL = 2.0
#: The shortest safety poll interval of a registered task, in seconds.
SAFETY_POLL_SECONDS = 300.0
#: The largest share of the query budget the safety polls of all registered tasks may spend.
SAFETY_SHARE = 0.1
#: Seconds a task that no sweep has listed yet is given to appear before the board wakes it, once
#: the list has been seen to trail the query.
UNSEEN_GRACE = 15.0
#: After a wake whose confirmation found the task still open, the first pause before the next one.
FALSE_WAKE_PAUSE = 5.0
#: How long the list may keep failing transiently (5xx, 429, dropped) before the board falls back.
FALLBACK_AFTER_SECONDS = 10.0
#: After falling back, the first wait before the list is tried again; it doubles up to the max.
LIST_RETRY_SECONDS = 60.0
LIST_RETRY_MAX_SECONDS = 600.0
#: Statuses a sweep pages through, in this order: a task goes PENDING -> RUNNING, never back, so
#: one that moves on between the two passes is seen by the second.
_OPEN_STATUSES = ("PENDING", "RUNNING")
#: Slack around the window: clocks differ a little, and the list takes whole seconds.
_WINDOW_SLACK = timedelta(seconds=300)
#: The widest window, a minute short of the list's 24 h limit.
_WINDOW = timedelta(hours=24) - timedelta(minutes=1)


class StatusBoard:
    """The board of one account (API host + key) in one event loop; get it with :func:`board_for`.

    :param hook: the async hook whose connection names the account; it sends the list calls.
    :param settings: that connection's settings (for the query budget the safety polls share).
    """

    def __init__(self, hook: QwenASRAsyncHook, settings: ApiSettings) -> None:
        self._hook = hook
        self._query_rate = settings.rate_ceiling
        self._entries: dict[str, Registration] = {}
        self._task: asyncio.Task[None] | None = None
        self._failing_since: float | None = None
        self._failures = 0
        self._fallback_until: float | None = None
        self._retry_wait = LIST_RETRY_SECONDS
        #: Set once a task woken before any sweep listed it was confirmed open: the list trails.
        self._list_trails = False
        #: The model the last sweep filtered on; the models a filtered sweep has listed tasks of;
        #: and the models whose filter was dropped (the list never showed a task of ours under it).
        self._filtered_on: str | None = None
        self._listed_models: set[str] = set()
        self._unfiltered: set[str] = set()
        self.counters = Counters()

    # -- what a trigger calls ------------------------------------------------------------------
    @property
    def sweeping(self) -> bool:
        """Whether the board is sweeping; ``False`` while it has fallen back to per-task polling."""
        return self._fallback_until is None

    def __len__(self) -> int:
        return len(self._entries)

    def register(self, task_id: str, model: str | None = None) -> Registration:
        """Add a task to the board (starting its sweeps if it was idle).

        :param model: the model the task was submitted with, if known; while every registered task
            names the same one, the sweeps list only that model's tasks.
        """
        entry = self._entries.get(task_id)
        if entry is None:
            entry = self._entries[task_id] = Registration(task_id, time.monotonic(), model)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"qwenasr-board-{id(self)}")
        return entry

    def deregister(self, entry: Registration) -> None:
        """Take a task off the board; the last one out stops the board's coroutine."""
        if self._entries.get(entry.task_id) is entry:
            del self._entries[entry.task_id]
        if not self._entries:
            self.close()

    def close(self) -> None:
        """Stop the sweeps (the next registration starts them again)."""
        task, self._task = self._task, None
        if task is not None and not task.done() and task is not _current_task():
            task.cancel()

    def safety_interval(self) -> float:
        """Seconds a registered task waits for a wake before it is queried anyway (±10 %).

        At least :data:`SAFETY_POLL_SECONDS`, and long enough that the safety polls of every
        registered task spend at most :data:`SAFETY_SHARE` of the query budget.
        """
        spread = len(self._entries) / (SAFETY_SHARE * self._query_rate)
        return max(SAFETY_POLL_SECONDS, spread) * random.uniform(0.9, 1.1)

    async def wait(self, entry: Registration, timeout: float) -> Wake:
        """Wait until a sweep wakes ``entry``, the board falls back, or ``timeout`` seconds pass."""
        entry.event.clear()
        entry.reason = None
        entry.waiting = True
        try:
            if not self.sweeping:
                return Wake.FALLBACK
            try:
                await asyncio.wait_for(entry.event.wait(), timeout)
            except asyncio.TimeoutError:
                return Wake.SAFETY
            return entry.reason or Wake.SWEPT
        finally:
            entry.waiting = False

    def confirmed_open(self, entry: Registration, task: AsrTask, wake: Wake | None) -> None:
        """Record a confirmation that found the task still PENDING or RUNNING.

        After a sweep's wake that was wrong (a list trailing the query, a page race), the next wake
        of this task waits a pause that doubles each time, up to the safety poll interval.
        """
        if task.submit_time is not None:
            entry.created_ms = int(task.submit_time.timestamp() * 1000)
        if wake is Wake.SWEPT:
            self.counters.false_wakes += 1
            if not entry.seen:
                self._unlisted_open(entry)
            pause = entry.pause or FALSE_WAKE_PAUSE
            entry.not_before = time.monotonic() + pause
            entry.pause = min(pause * 2, SAFETY_POLL_SECONDS)

    def _unlisted_open(self, entry: Registration) -> None:
        """A task no sweep has listed is still open: the list trails the query, or (the second time,
        after the grace, with no task of its model ever listed under the filter) the model filter
        hides it."""
        model = entry.model
        if (
            self._list_trails
            and model is not None
            and model == self._filtered_on
            and model not in self._listed_models
            and time.monotonic() - entry.registered_at >= UNSEEN_GRACE
        ):
            self._unfiltered.add(model)
            log.warning(
                "No task of model %s was listed under model_name=%s; the sweeps list every model from now on",
                model,
                model,
            )
        self._list_trails = True

    def _model_filter(self) -> str | None:
        """The ``model_name`` to sweep: the one model every registered task names, else ``None``."""
        models = {entry.model for entry in self._entries.values()}
        model = models.pop() if len(models) == 1 else None
        return None if model in self._unfiltered else model

    # -- the sweeps ----------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            while self._entries:
                now = time.monotonic()
                if self._fallback_until is not None and now < self._fallback_until:
                    await asyncio.sleep(self._fallback_until - now)
                    continue
                started = time.monotonic()
                try:
                    sweep = await self._sweep(started)
                except QwenASRError as error:
                    await asyncio.sleep(self._list_failed(error))
                    continue
                self._list_answered()
                self._wake_missing(sweep)
                await asyncio.sleep(max(0.0, started + SWEEP_INTERVAL - time.monotonic()))
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not leave a wait hanging: fall back
            log.exception("The task-list sweep failed; every wait polls its own task")
            self._fallback_until = time.monotonic() + LIST_RETRY_MAX_SECONDS
            self._wake_all(Wake.FALLBACK)

    def _window(self) -> tuple[datetime, datetime]:
        """The list window: from the oldest registered task (the last 24 h while any is unlisted)."""
        now = datetime.now(timezone.utc)
        end = now + _WINDOW_SLACK
        known = [e.created_ms for e in self._entries.values() if e.created_ms is not None]
        if known and len(known) == len(self._entries):
            oldest = datetime.fromtimestamp(min(known) / 1000, timezone.utc) - timedelta(seconds=2)
            return max(oldest, end - _WINDOW), end
        return end - _WINDOW, end

    async def _sweep(self, started: float) -> Sweep:
        start, end = self._window()
        # Whole seconds, as the list takes them: floor the start so the oldest task stays inside.
        start = start.replace(microsecond=0)
        sweep = Sweep(started, int(start.timestamp() * 1000), model=self._model_filter())
        self._filtered_on = sweep.model
        # Our tasks' creation times, sorted: which of them lie between two pages' edges.
        created = sorted(
            (e.created_ms, e.task_id) for e in self._entries.values() if e.created_ms is not None
        )
        for status in _OPEN_STATUSES:
            await read_pass(self._hook, sweep, status, (start, end), created)
        self.counters.sweeps += 1
        self.counters.pages += sweep.pages
        return sweep

    def _wake_missing(self, sweep: Sweep) -> None:
        """Wake the waiting entries whose task the sweep proved is no longer PENDING or RUNNING."""
        now = time.monotonic()
        # Unlisted tasks woken per sweep: what the query budget confirms before the next sweep
        # (which takes about as long as this one did).
        unlisted_left = max(1, int(self._query_rate * max(SWEEP_INTERVAL, now - sweep.started)))
        for entry in self._entries.values():
            if sweep.model is not None and entry.model != sweep.model:
                continue  # registered since the sweep began, and not covered by its filter
            row = sweep.open.get(entry.task_id)
            if row is not None:
                if sweep.model is not None:
                    self._listed_models.add(sweep.model)
                entry.seen = True
                entry.created_ms = row.created_ms or entry.created_ms
                if entry.waiting and row.status is not entry.listed:
                    entry.listed = row.status
                    self._wake(entry, Wake.LISTED)
                continue
            if not entry.waiting or entry.registered_at >= sweep.started or now < entry.not_before:
                continue
            created = entry.created_ms
            if created is not None and (created < sweep.window_start_ms or sweep.may_have_skipped(created)):
                continue  # outside the window (the safety poll's), or hidden by a page shift
            if not entry.seen:  # never listed: ended already, or too young for a trailing list
                if self._list_trails and sweep.started - entry.registered_at < UNSEEN_GRACE:
                    continue
                if unlisted_left <= 0:
                    continue
                unlisted_left -= 1
            self._wake(entry, Wake.SWEPT)

    def _wake(self, entry: Registration, reason: Wake) -> None:
        self.counters.wakes += reason is Wake.SWEPT
        entry.reason = reason
        entry.event.set()

    def _wake_all(self, reason: Wake) -> None:
        for entry in self._waiting():
            self._wake(entry, reason)

    def _waiting(self) -> Iterable[Registration]:
        return [entry for entry in self._entries.values() if entry.waiting]

    def _list_failed(self, error: QwenASRError) -> float:
        """Count a failed list call; fall back when it is refused or has failed for long. Returns how
        long to wait before the next try."""
        now = time.monotonic()
        if self._fallback_until is not None:  # a retry while fallen back: wait longer next time
            self._retry_wait = min(self._retry_wait * 2, LIST_RETRY_MAX_SECONDS)
            self._fallback_until = now + self._retry_wait
            return 0.0
        if self._failing_since is None:
            self._failing_since = now
        self._failures += 1
        if error.is_transient and now - self._failing_since < FALLBACK_AFTER_SECONDS:
            return self._hook.retry_policy.delay(self._failures - 1, error)
        self.counters.fallbacks += 1
        self._fallback_until = now + self._retry_wait
        log.warning(
            "The task list failed (%s); %d wait(s) poll their own task until it answers again "
            "(next try in %.0f s)",
            error.code or error.message,
            len(self._entries),
            self._retry_wait,
        )
        self._wake_all(Wake.FALLBACK)
        return 0.0

    def _list_answered(self) -> None:
        if self._fallback_until is not None:
            log.info("The task list answers again: %d wait(s) are swept again", len(self._entries))
        self._fallback_until = None
        self._failing_since = None
        self._failures = 0
        self._retry_wait = LIST_RETRY_SECONDS


def _current_task() -> asyncio.Task[object] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


_boards: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], StatusBoard]] = (
    weakref.WeakKeyDictionary()
)


def board_for(hook: QwenASRAsyncHook, settings: ApiSettings) -> StatusBoard:
    """The running loop's board for the connection's account (API host + key), created once."""
    boards = _boards.setdefault(asyncio.get_running_loop(), {})
    key = (settings.host, settings.key_fingerprint)
    board = boards.get(key)
    if board is None:
        board = boards[key] = StatusBoard(hook, settings)
    return board
