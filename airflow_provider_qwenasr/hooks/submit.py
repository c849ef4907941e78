"""A billed submit, paid for once: what is sent again, and what is reconciled instead.

A submit has no idempotency key. A 429 or a refused connection means the service never took it, so
it is sent again with backoff. When the outcome is unknown (a 5xx, or no complete answer: timeout,
reset, truncated or garbled) the task it may have created is looked for
(:func:`~airflow_provider_qwenasr.hooks.lost_submit.find_lost_task`): found, it is the answer;
proven absent, the submit is sent again; otherwise :class:`QwenASRSubmitUnknownError` names the
candidates and nothing is sent again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from airflow_provider_qwenasr._api.request import ApiRequest
from airflow_provider_qwenasr.exceptions import (
    QwenASRConnectionError,
    QwenASRError,
    QwenASRSubmitUnknownError,
    QwenASRThrottledError,
)
from airflow_provider_qwenasr.hooks.lost_submit import LostSubmit, SubmitAttempt, find_lost_task
from airflow_provider_qwenasr.models import AsrTask

if TYPE_CHECKING:
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook

__all__ = ["LIST_LAG", "reconcile", "submit_once"]

#: Seconds a task the service just created may take to show in the task list.
LIST_LAG = 2.0


def submit_once(
    hook: QwenASRHook, body: Mapping[str, Any], on_attempt: Callable[[SubmitAttempt], None] | None
) -> AsrTask:
    """Send the submit ``body`` (built and checked already) until it is known to have created one task.

    ``on_attempt`` is called with each attempt just before its POST.
    """
    urls = body["input"].get("file_urls") or [body["input"].get("file_url")]
    request = ApiRequest.submit(hook.settings, body, oss_resolve=any(u.startswith("oss://") for u in urls))
    retry = 0
    while True:
        # The service may create the task until twice the read timeout after the request left,
        # and needs a moment more before the task shows in the list.
        settle = 2 * hook.timeout_for(hook.settings)[1] + LIST_LAG
        attempt = SubmitAttempt.begin(body["model"], urls, settle_seconds=settle)
        if on_attempt is not None:
            on_attempt(attempt)
        try:
            return AsrTask.from_response(hook._send_once(request))
        except QwenASRError as error:
            if not error.is_transient:
                raise
            if not _never_arrived(error):
                if not isinstance(error, QwenASRConnectionError) or error.answer_started:
                    # An answer began (a gateway's error, or a body cut short): the service has
                    # settled; it needs a moment to list a task.
                    attempt = replace(attempt, settle_by=time.time() + LIST_LAG)
                found = reconcile(hook, attempt, cause=error)
                if found.task is not None:
                    hook.log.warning(
                        "The submit got no answer (%s), but DashScope task %s is its task; "
                        "continuing with it, nothing is sent again",
                        error.code or error.message,
                        found.task.task_id,
                    )
                    return found.task
            if retry >= hook.max_retries:
                raise
            delay = hook.retry_policy.delay(retry, error)
            hook.log.warning(
                "Submit %s; no task was created, so it is sent again in %.2fs",
                error.code or error.message,
                delay,
            )
        retry += 1
        time.sleep(delay)


def reconcile(hook: QwenASRHook, attempt: SubmitAttempt, *, cause: QwenASRError | None = None) -> LostSubmit:
    """Find the task ``attempt`` created: ours, or proof that none was created.

    :raises QwenASRSubmitUnknownError: when a task may exist but cannot be identified, or the
        task list cannot be read; it names the candidates and what to check.
    """
    what = "An earlier try's submit got no answer"
    if cause is not None:
        what = f"The submit got no answer ({cause.message})"
    try:
        found = find_lost_task(hook, attempt, identify_timeout=hook.identify_timeout)
    except QwenASRError as list_error:
        raise QwenASRSubmitUnknownError(
            f"{what} and the task list could not be read to check whether a {attempt.model} task "
            f"was created ({list_error.message})",
            hint="Check the DashScope console for a task created then before submitting again; "
            "pass its id as asr_task_id to reuse it",
        ) from cause
    if found.undecided:
        ids = found.undecided
        shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        raise QwenASRSubmitUnknownError(
            f"{what}; {len(ids)} {attempt.model} task(s) created then could be it and could not be "
            f"told apart by their input files: {shown}",
            hint="Not resubmitted, to avoid paying twice. Check each in the DashScope console (its "
            "input file); once they have ended, clear this task instance to reconcile again, or pass "
            "the right one as asr_task_id",
        ) from cause
    return found


def _never_arrived(error: QwenASRError) -> bool:
    """Whether the request provably never reached the service: refused, or throttled (429)."""
    if isinstance(error, QwenASRThrottledError):
        return True
    return isinstance(error, QwenASRConnectionError) and not error.request_sent
