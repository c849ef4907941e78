"""A failed try's error, recorded as data: pushed to XCom so the UI need not parse it out of the log.

When a provider operator or the sensor fails with a :class:`~airflow_provider_qwenasr.exceptions.QwenASRError`
(raised as is, or as the cause of the ``AirflowFailException`` that stops retries), the error's
:meth:`~airflow_provider_qwenasr.exceptions.QwenASRError.to_dict` is pushed under the XCom key
:data:`FAILURE_XCOM_KEY` before the exception goes on. The Transcript tab shows it on the failed
task's panel (to users who may read the task's logs) and reads the log only for a try that has none.

Airflow clears a task instance's XComs when a new try starts (not when a deferred try resumes), so
the record always belongs to the latest try; it also names its ``try_number``. Its strings never hold
a URL's query (which may be a signature) or a secret Airflow masks: they are scrubbed before the push.

Apply :func:`records_failure` to ``execute`` and ``execute_complete``::

    @records_failure
    def execute(self, context): ...
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from airflow_provider_qwenasr.exceptions import QwenASRError
from airflow_provider_qwenasr.masking import scrub

__all__ = ["FAILURE_XCOM_KEY", "failure_record", "qwen_asr_error_of", "record_failure", "records_failure"]

#: The XCom key of a failed try's error record.
FAILURE_XCOM_KEY = "qwen_asr_error"

_Method = TypeVar("_Method", bound=Callable[..., Any])
#: How far along ``__cause__`` a QwenASRError is looked for (an AirflowFailException from one is 1).
_CAUSE_DEPTH = 5
#: Marks an error already pushed, so nested recorded methods (a subclass calling super()) push once.
_RECORDED = "_qwen_asr_failure_recorded"


def qwen_asr_error_of(exc: BaseException) -> QwenASRError | None:
    """``exc`` itself when it is a QwenASRError, else the first one among its explicit causes."""
    current: BaseException | None = exc
    for _ in range(_CAUSE_DEPTH):
        if current is None:
            return None
        if isinstance(current, QwenASRError):
            return current
        current = current.__cause__
    return None


def failure_record(error: QwenASRError, try_number: int | None = None) -> dict[str, Any]:
    """The XCom value recorded for ``error``: its ``to_dict()`` (scrubbed) and the try it ended."""
    record: dict[str, Any] = scrub(error.to_dict())
    record["try_number"] = try_number
    return record


def record_failure(context: Mapping[str, Any], error: QwenASRError, log: Any = None) -> None:
    """Push :func:`failure_record` of ``error`` for the running task instance; never raises.

    A record that cannot be pushed must not hide the error itself: the UI then falls back to the log.
    """
    if getattr(error, _RECORDED, False):
        return
    ti = context.get("ti")
    if ti is None:
        return
    try:
        ti.xcom_push(key=FAILURE_XCOM_KEY, value=failure_record(error, getattr(ti, "try_number", None)))
        setattr(error, _RECORDED, True)
    except Exception as exc:  # the XCom API failed: the log still has the error
        if log is not None:
            log.warning("Could not record the failure in XCom (%s); the UI reads the log", type(exc).__name__)


def records_failure(method: _Method) -> _Method:
    """Decorate an operator's ``execute``/``execute_complete``: record a QwenASRError it fails with.

    The exception is re-raised unchanged. A skip (``soft_fail``) and a deferral are not failures and
    are not recorded. The error is also kept in the operator's lineage record, for the OpenLineage
    error facet (:mod:`airflow_provider_qwenasr.lineage.record`).
    """

    @functools.wraps(method)
    def recording(self: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, context, *args, **kwargs)
        except Exception as exc:
            from airflow_provider_qwenasr._compat import AirflowSkipException

            error = qwen_asr_error_of(exc)
            if error is not None and not isinstance(exc, AirflowSkipException):
                from airflow_provider_qwenasr.lineage.record import record_of

                record_of(self).error = error
                record_failure(context, error, getattr(self, "log", None))
            raise

    return cast("_Method", recording)
