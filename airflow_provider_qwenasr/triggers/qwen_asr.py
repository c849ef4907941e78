"""The trigger that waits for a DashScope task in the triggerer, without holding a worker slot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_qwenasr import metrics
from airflow_provider_qwenasr.exceptions import QwenASRError
from airflow_provider_qwenasr.hooks.base import HookBase
from airflow_provider_qwenasr.models import AsrTask, TaskStatus
from airflow_provider_qwenasr.outcomes import TerminationReason, termination_reason
from airflow_provider_qwenasr.waiting import PollSchedule

if TYPE_CHECKING:
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRAsyncHook
    from airflow_provider_qwenasr.triggers.board import Registration, StatusBoard, Wake

__all__ = ["QwenASRTaskTrigger", "TerminationReason"]


class QwenASRTaskTrigger(BaseTrigger):
    """Poll one DashScope task until it ends, then fire exactly one event.

    The first poll comes at a random moment within ``poll_interval``; later polls start
    ``poll_interval`` apart and stretch by half each poll up to ``max_poll_interval`` (with ±10 %
    jitter, so thousands of triggers do not poll in lockstep), and shrink back when the status
    changes. Every trigger in the triggerer shares one connection pool and one AIMD query
    budget per API host and key (:mod:`airflow_provider_qwenasr.rate`). 429s, 5xx and dropped
    connections are transient: the trigger waits and polls again until ``deadline``.

    With the connection's ``extra.status_sweep`` on (the default), the trigger does not poll on a schedule: it
    registers with its account's status board (:mod:`airflow_provider_qwenasr.triggers.board`),
    which sweeps the task list and wakes it when its task is no longer PENDING or RUNNING; it then
    queries the task once and fires as above. It falls back to the schedule while the list fails.

    Its kwargs are plain values (no key, no URL), so a triggerer that restarts, or another
    triggerer that takes the trigger over, re-creates it and simply goes on polling.

    :param asr_task_id: the DashScope task id.
    :param qwen_asr_conn_id: the ``qwen_asr`` connection, read asynchronously.
    :param poll_interval: seconds before the first poll and after a status change (at least
        :data:`~airflow_provider_qwenasr.waiting.MIN_POLL_INTERVAL`: a shorter one is stretched).
    :param max_poll_interval: the longest wait between polls.
    :param deadline: absolute UNIX time after which a ``timeout`` event fires; ``None`` for none.
    :param model: the model the task was submitted with, when known: the ``model`` tag of its billed
        audio seconds (:mod:`airflow_provider_qwenasr.metrics`), and the status board's list filter
        while every wait on it names the same model; ``None`` tags it ``unknown`` and sweeps every model.
    """

    def __init__(
        self,
        asr_task_id: str,
        qwen_asr_conn_id: str = HookBase.default_conn_name,
        poll_interval: float = 5.0,
        max_poll_interval: float = 30.0,
        deadline: float | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__()
        self.asr_task_id = asr_task_id
        self.qwen_asr_conn_id = qwen_asr_conn_id
        self.poll_interval = float(poll_interval)
        self.max_poll_interval = max(float(max_poll_interval), self.poll_interval)
        self.deadline = deadline
        self.model = model

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the classpath and the kwargs that re-create this trigger."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "asr_task_id": self.asr_task_id,
                "qwen_asr_conn_id": self.qwen_asr_conn_id,
                "poll_interval": self.poll_interval,
                "max_poll_interval": self.max_poll_interval,
                "deadline": self.deadline,
                "model": self.model,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the task ends or the deadline passes; yield one event."""
        from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRAsyncHook

        hook = QwenASRAsyncHook(self.qwen_asr_conn_id)
        schedule = PollSchedule(self.poll_interval, self.max_poll_interval, self.deadline)
        board = await _status_board(hook, self.asr_task_id)
        entry = board.register(self.asr_task_id, self.model) if board is not None else None
        try:
            async for event in self._wait_for_end(hook, schedule, board, entry):
                yield event
                return
        finally:
            # Cancelled, ended, or the triggerer shutting down: nothing of this wait stays behind.
            if board is not None and entry is not None:
                board.deregister(entry)

    async def _wait_for_end(
        self,
        hook: QwenASRAsyncHook,
        schedule: PollSchedule,
        board: StatusBoard | None,
        entry: Registration | None,
    ) -> AsyncIterator[TriggerEvent]:
        self._last_status: TaskStatus | None = None
        transient_streak = 0
        # The operator queried the task just before deferring, and a restarted triggerer re-creates
        # every trigger at once: spread the first polls so they do not all land in one instant.
        _due, wake = await self._pause(schedule, board, entry, first=True)
        while True:
            try:
                # No retry inside the hook: this loop paces itself and honours the deadline.
                task = await hook.get_task(self.asr_task_id, retry=False)
            except QwenASRError as error:
                if not error.is_transient:
                    yield self._event(TerminationReason.ERROR, error=error)
                    return
                transient_streak += 1
                if transient_streak in (1, 10) or transient_streak % 100 == 0:
                    self.log.warning(
                        "Task %s: query failed (%s), %d time(s) in a row; polling on",
                        self.asr_task_id,
                        error.code or error.message,
                        transient_streak,
                    )
            else:
                transient_streak = 0
                if task.status is not self._last_status:
                    self._log_change(task, self._last_status)
                    self._last_status = task.status
                    schedule.reset()
                if task.is_terminal:
                    yield self._terminal_event(task)
                    return
                if board is not None and entry is not None:
                    board.confirmed_open(entry, task, wake)
            due, wake = await self._pause(schedule, board, entry, first=False)
            if not due:
                last_status = self._last_status
                yield self._event(
                    TerminationReason.TIMEOUT,
                    message=f"still {last_status.value if last_status else 'not answered'} at the deadline",
                    task_status=last_status.value if last_status else None,
                )
                return

    async def _pause(
        self, schedule: PollSchedule, board: StatusBoard | None, entry: Registration | None, *, first: bool
    ) -> tuple[bool, Wake | None]:
        """Wait until the next query is due; ``(False, None)`` once the deadline has passed.

        On the board: until a sweep wakes this wait or the safety poll is due. Without one (or
        while it has fallen back): on the poll schedule. The first wait queries even past the deadline.
        """
        from airflow_provider_qwenasr.triggers.board import Wake

        while board is not None and entry is not None and board.sweeping:
            timeout = schedule.clip(board.safety_interval())
            if timeout is None:
                return first, None
            wake = await board.wait(entry, timeout)
            if wake is Wake.LISTED:
                self._log_listed(entry)
                continue
            if wake is not Wake.FALLBACK:
                return True, wake
            first = True  # the board has just fallen back: spread the polls as new waits do
        wait = schedule.first_wait() if first else schedule.next_wait()
        if wait is None:
            return first, None
        if wait:
            await asyncio.sleep(wait)
        return True, None

    def _log_listed(self, entry: Registration) -> None:
        """Log a status change the task list showed (PENDING -> RUNNING), once, without a query."""
        if entry.listed is None or entry.listed is self._last_status:
            return
        previous = self._last_status
        self.log.info(
            "Task %s: %s -> %s (as the task list shows it)",
            self.asr_task_id,
            previous.value if previous else "start",
            entry.listed.value,
        )
        self._last_status = entry.listed

    def _log_change(self, task: AsrTask, previous: TaskStatus | None) -> None:
        self.log.info(
            "Task %s: %s -> %s (submitted %s, scheduled %s%s)",
            self.asr_task_id,
            previous.value if previous else "start",
            task.raw_status,
            task.submit_time.isoformat() if task.submit_time else "?",
            task.scheduled_time.isoformat() if task.scheduled_time else "?",
            f", ended {task.end_time.isoformat()}" if task.end_time else "",
        )

    def _terminal_event(self, task: AsrTask) -> TriggerEvent:
        reason = termination_reason(task) or TerminationReason.EXPIRED
        if reason is TerminationReason.FAILED and task.status is TaskStatus.SUCCEEDED:
            return self._event(reason, task=task, message="every file failed")
        return self._event(reason, task=task)

    def _event(
        self,
        reason: TerminationReason,
        *,
        task: AsrTask | None = None,
        error: QwenASRError | None = None,
        message: str | None = None,
        task_status: str | None = None,
    ) -> TriggerEvent:
        """Build the one event, and record how the wait ended (:func:`.metrics.wait_ended`).

        Small, JSON-safe, and never a signed URL (summaries leave them out).
        """
        metrics.wait_ended(reason, task, waiter="triggerer", model=self.model)
        payload: dict[str, Any] = {
            "status": reason.value,
            "asr_task_id": self.asr_task_id,
            "task_status": task_status,
            "message": message,
        }
        if task is not None:
            payload.update(
                task_status=task.raw_status,
                code=task.code,
                message=message or task.message,
                request_id=task.request_id,
                task=task.summary(),
            )
        if error is not None:
            payload["error"] = error.to_dict()
            payload["message"] = str(error)
        return TriggerEvent(payload)


async def _status_board(hook: QwenASRAsyncHook, task_id: str) -> StatusBoard | None:
    """The account's status board when the connection sweeps (``extra.status_sweep``), else ``None``.

    A bad task id or a connection that cannot be read gives ``None``: the first query then fails
    with the same error, before anything is sent.
    """
    from airflow_provider_qwenasr._api.validate import validate_task_id

    try:
        validate_task_id(task_id)
        settings = await hook.get_settings()
    except QwenASRError:
        return None
    if not settings.status_sweep:
        return None
    from airflow_provider_qwenasr.triggers.board import board_for

    return board_for(hook, settings)
