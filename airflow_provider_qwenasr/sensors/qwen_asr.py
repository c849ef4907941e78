"""The sensor that waits for a DashScope transcription task."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_qwenasr._compat import AirflowFailException, AirflowSkipException, default_deferrable
from airflow_provider_qwenasr.failure_record import records_failure
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.operators.links import QwenASRTranscriptLink
from airflow_provider_qwenasr.outcomes import DEFERRAL_GRACE

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_qwenasr.exceptions import QwenASRError
    from airflow_provider_qwenasr.models import AsrTask

__all__ = ["QwenASRTaskSensor"]


class QwenASRTaskSensor(BaseSensorOperator):
    """Wait until a DashScope task is SUCCEEDED; fail on FAILED, CANCELED or UNKNOWN.

    Works in the three sensor modes: ``poke`` (holds a worker slot), ``reschedule`` (frees it between
    pokes) and ``deferrable=True`` (frees it entirely: the wait runs in the triggerer through
    :class:`~airflow_provider_qwenasr.triggers.qwen_asr.QwenASRTaskTrigger`). Deferrable mode pokes
    once first, so a task that already finished never costs a deferral.

    A task that failed fails the sensor without retries (``AirflowFailException``: a retry would find
    the same failed task); with ``soft_fail=True`` the sensor is skipped instead, in every mode.
    Errors carry DashScope's code, message and request id. An ``asr_task_id`` that is not a task id
    (``"None"`` from an upstream task that returned nothing, say) or a poke interval under one
    second is refused before any query.

    :param asr_task_id: the DashScope task id (templated), e.g. ``submit.output``.
    :param qwen_asr_conn_id: the ``qwen_asr`` connection.
    :param poke_interval: seconds between pokes; in deferrable mode, the trigger's first interval.
        At least :data:`~airflow_provider_qwenasr.waiting.MIN_POLL_INTERVAL` (1 s).
    :param max_poll_interval: deferrable mode: the longest interval the trigger stretches to.
    :param allow_partial_failure: for Fun-ASR tasks with several files: succeed when some files
        failed (their status is in the return value); ``False`` fails the sensor instead.
    :param deferrable: run the wait in the triggerer (default: ``[operators] default_deferrable``).
    :param model: the model the task was submitted with, if you know it (templated; empty means
        unknown). It tags the task's billed audio seconds (:mod:`airflow_provider_qwenasr.metrics`),
        and in deferrable mode lets the triggerer's status board list only that model's tasks.

    Returns (XCom) the task's summary: ``asr_task_id``, ``status``, times, ``usage_seconds`` and
    per-file ``files`` statuses, never a signed URL.
    """

    template_fields: Sequence[str] = ("asr_task_id", "qwen_asr_conn_id", "model")
    ui_color = "#c6e2ff"
    operator_extra_links = (QwenASRTranscriptLink(),)

    def __init__(
        self,
        *,
        asr_task_id: str,
        qwen_asr_conn_id: str = QwenASRHook.default_conn_name,
        poke_interval: float = 5.0,
        max_poll_interval: float = 30.0,
        allow_partial_failure: bool = True,
        deferrable: bool = default_deferrable(),
        model: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.asr_task_id = asr_task_id
        self.model = model
        self.qwen_asr_conn_id = qwen_asr_conn_id
        self.max_poll_interval = max_poll_interval
        self.allow_partial_failure = allow_partial_failure
        self.deferrable = deferrable

    @cached_property
    def hook(self) -> QwenASRHook:
        """The sync hook, created on first use (not at DAG parse time)."""
        return QwenASRHook(self.qwen_asr_conn_id)

    @records_failure
    def execute(self, context: Context) -> Any:
        """Poke once; then wait in the mode chosen (deferring when ``deferrable``).

        In deferrable mode a transient error at that first poke (an outage, a dropped answer)
        defers anyway: the trigger rides it out as it does any later one.
        """
        from airflow_provider_qwenasr.exceptions import QwenASRError
        from airflow_provider_qwenasr.protocol import validate_task_id
        from airflow_provider_qwenasr.waiting import check_wait_options

        task_id = validate_task_id(self.asr_task_id)
        check_wait_options(
            interval_name="poke_interval",
            poll_interval=self.poke_interval,
            max_poll_interval=self.max_poll_interval if self.deferrable else self.poke_interval,
            timeout=self.timeout,
        )
        if not self.deferrable:
            return super().execute(context)
        try:
            task = self.hook.get_task(task_id)
        except QwenASRError as error:
            if not error.is_transient:
                raise
            self.log.warning(
                "Task %s: first query failed (%s); deferring, the trigger retries", task_id, error
            )
        else:
            if task.is_terminal:
                return self._finish(task)
            self.log.info("Task %s is %s; deferring to the triggerer", task.task_id, task.raw_status)
        self._defer(task_id)

    def _defer(self, task_id: str) -> None:
        from airflow_provider_qwenasr.triggers.qwen_asr import QwenASRTaskTrigger

        self.defer(
            trigger=QwenASRTaskTrigger(
                asr_task_id=task_id,
                qwen_asr_conn_id=self.qwen_asr_conn_id,
                poll_interval=self.poke_interval,
                max_poll_interval=self.max_poll_interval,
                deadline=time.time() + self.timeout,
                model=self._model,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) + DEFERRAL_GRACE,
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """Query the task once: done when terminal (raising for a failure)."""
        task = self.hook.get_task(self.asr_task_id)
        if not task.is_terminal:
            self.log.info("Task %s is %s", task.task_id, task.raw_status)
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._finish(task))

    @records_failure
    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: return the summary, or raise the failure it reports."""
        from airflow_provider_qwenasr.outcomes import error_from_event

        error = error_from_event(event, allow_partial_failure=self.allow_partial_failure)
        if error is not None:
            self._fail(error)
        assert event is not None  # error_from_event returns an error for a missing event
        self.log.info("Task %s succeeded", event["asr_task_id"])
        return dict(event["task"])

    @property
    def _model(self) -> str | None:
        """The model as given, ``None`` when not given or rendered empty."""
        if self.model is None:
            return None
        return str(self.model).strip() or None

    def _finish(self, task: AsrTask) -> dict[str, Any]:
        from airflow_provider_qwenasr import metrics
        from airflow_provider_qwenasr.outcomes import outcome_error

        metrics.task_ended(task, waiter="worker", model=self._model)
        error = outcome_error(task, allow_partial_failure=self.allow_partial_failure)
        if error is not None:
            self._fail(error)
        self.log.info("Task %s succeeded", task.task_id)
        return task.summary()

    def _fail(self, error: QwenASRError) -> NoReturn:
        # Logged as well as raised: the skip's message alone would lose DashScope's code and
        # request id. Raised as a skip here because the deferrable path (the first poke and
        # execute_complete) bypasses BaseSensorOperator's own soft_fail conversion.
        self.log.error("%s", error)
        if self.soft_fail or getattr(self, "never_fail", False):
            raise AirflowSkipException(str(error)) from error
        raise AirflowFailException(str(error)) from error
