"""Waiting for a task: the wait options' floor, the poll cadence, the blocking poll, the final cancel.

How a wait *ends* (which error a finished task stands for) is :mod:`airflow_provider_qwenasr.outcomes`;
``outcome_error`` and ``error_from_event`` stay importable from here.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_qwenasr import metrics
from airflow_provider_qwenasr.exceptions import QwenASRError, QwenASRInputError
from airflow_provider_qwenasr.models import AsrTask, TaskStatus
from airflow_provider_qwenasr.outcomes import (
    TerminationReason,
    error_from_event,
    outcome_error,
    timeout_error,
)

if TYPE_CHECKING:
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook

__all__ = [
    "MIN_POLL_INTERVAL",
    "PollSchedule",
    "cancel_quietly",
    "check_wait_options",
    "error_from_event",
    "floored_interval",
    "outcome_error",
    "poll_until_done",
]

#: The shortest interval, in seconds, between two status queries of one task. DashScope allows an
#: account 20 queries a second in all; below one second a single wait would spend a large share of
#: it. The operators and the sensor refuse a shorter interval; the trigger and the blocking poll
#: stretch one to this floor (a trigger row written by other code cannot bypass it).
MIN_POLL_INTERVAL = 1.0


def check_wait_options(
    *, interval_name: str, poll_interval: float, max_poll_interval: float, timeout: float
) -> None:
    """Refuse wait options that would spend the account's query quota or give up at once.

    Called by the operators and the sensor before anything is billed or queried.

    :raises QwenASRInputError: naming the argument and the fix.
    """
    for name, value in ((interval_name, poll_interval), ("max_poll_interval", max_poll_interval)):
        seconds = _seconds(value)
        if seconds is None or seconds < MIN_POLL_INTERVAL:
            raise QwenASRInputError(
                f"{name}={value!r} is below the minimum of {MIN_POLL_INTERVAL:g} s between status queries",
                hint=f"Pass {name}>={MIN_POLL_INTERVAL:g}: the account's query quota (20/s) is shared by "
                "every wait; the interval grows on its own while a task runs",
            )
    seconds = _seconds(timeout)
    if seconds is None or seconds <= 0:
        raise QwenASRInputError(
            f"timeout={timeout!r} must be a positive number of seconds",
            hint="Pass how long to wait for the transcription, e.g. timeout=3600; a task still "
            "PENDING then is canceled",
        )


def _seconds(value: object) -> float | None:
    """A number of seconds from a number or a ``timedelta``; ``None`` for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else None


def floored_interval(seconds: float) -> float:
    """``seconds``, or :data:`MIN_POLL_INTERVAL` when shorter (read at call time, so tests may lower it)."""
    return max(float(seconds), MIN_POLL_INTERVAL)


@dataclass
class PollSchedule:
    """When to query a task next: the one cadence of the trigger and the blocking poll.

    Polls start ``poll_interval`` apart and stretch by half each poll up to ``max_poll_interval``,
    with ±10 % jitter (so thousands of waits do not poll in lockstep), and shrink back when the
    status changes (:meth:`reset`). Both intervals are stretched to :data:`MIN_POLL_INTERVAL`.
    Every wait is clipped to ``deadline`` (UNIX time); once it has passed, :meth:`next_wait` is
    ``None``.
    """

    poll_interval: float
    max_poll_interval: float
    deadline: float | None = None
    _interval: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.poll_interval = floored_interval(self.poll_interval)
        self.max_poll_interval = max(floored_interval(self.max_poll_interval), self.poll_interval)
        self._interval = self.poll_interval

    def first_wait(self) -> float | None:
        """A random moment within the first interval: waits created together spread out."""
        return self._clip(random.uniform(0, self.poll_interval))

    def next_wait(self) -> float | None:
        """Seconds until the next poll (then the interval grows); ``None`` once the deadline passed."""
        wait = self._clip(self._interval * random.uniform(0.9, 1.1))
        self._interval = min(self.max_poll_interval, self._interval * 1.5)
        return wait

    def reset(self) -> None:
        """The status changed: poll again soon."""
        self._interval = self.poll_interval

    def clip(self, wait: float) -> float | None:
        """``wait``, shortened to the time left before the deadline; ``None`` once it has passed."""
        return self._clip(wait)

    def _clip(self, wait: float) -> float | None:
        if self.deadline is None:
            return wait
        left = self.deadline - time.time()
        return min(wait, left) if left > 0 else None


def poll_until_done(
    hook: QwenASRHook,
    task_id: str,
    *,
    poll_interval: float,
    max_poll_interval: float,
    deadline: float | None,
    log: logging.Logger | Any,
    model: str | None = None,
) -> AsrTask:
    """Poll (blocking this worker) until the task ends, on the trigger's :class:`PollSchedule`.

    How the wait ended is recorded as the trigger records it (:func:`.metrics.wait_ended`), with
    ``model`` as the billed seconds' tag.

    :raises QwenASRTimeoutError: when ``deadline`` (UNIX time) passes first.
    """
    schedule = PollSchedule(poll_interval, max_poll_interval, deadline)
    last: TaskStatus | None = None
    while True:
        try:
            task = hook.get_task(task_id)
        except QwenASRError:  # transient ones were retried by the hook: this one ends the wait
            metrics.wait_ended(TerminationReason.ERROR, waiter="worker", model=model)
            raise
        if task.status is not last:
            log.info("Task %s: %s -> %s", task_id, last.value if last else "start", task.raw_status)
            last = task.status
            schedule.reset()
        if task.is_terminal:
            metrics.task_ended(task, waiter="worker", model=model)
            return task
        wait = schedule.next_wait()
        if wait is None:
            metrics.wait_ended(TerminationReason.TIMEOUT, task, waiter="worker", model=model)
            raise timeout_error(task_id, task.raw_status)
        time.sleep(wait)


def cancel_quietly(hook: QwenASRHook, task_id: str, log: logging.Logger | Any) -> None:
    """Cancel a task if it is still PENDING; never raise (we are already failing or being killed)."""
    try:
        if hook.cancel_task(task_id):
            log.info("Canceled DashScope task %s (it was still PENDING)", task_id)
        else:
            log.info("DashScope task %s was no longer PENDING, so it was not canceled", task_id)
    except Exception as error:  # a failing cancel must not hide the reason we are stopping
        log.warning("Could not cancel DashScope task %s: %s", task_id, error)
