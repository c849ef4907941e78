"""When a failed read is tried again, and how long to wait first: the one retry loop of the package.

Reads (query, list, cancel, result downloads) are retried on transient errors
(:attr:`~airflow_provider_qwenasr.exceptions.QwenASRError.is_transient`: 429, 5xx, no complete
answer) with full-jitter exponential backoff, honouring a server's ``Retry-After``. A submit is
billed and is never retried by this loop: the hook reconciles it first and only then asks
:meth:`RetryPolicy.delay` how long to wait.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from airflow_provider_qwenasr.exceptions import QwenASRError, QwenASRThrottledError

__all__ = ["DEFAULT_MAX_RETRIES", "RetryPolicy", "backoff_delay"]

T = TypeVar("T")
#: Reads are retried this many times on transient errors.
DEFAULT_MAX_RETRIES = 5


def backoff_delay(
    attempt: int, *, base: float = 1.0, cap: float = 30.0, retry_after: float | None = None
) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): full-jitter exponential backoff.

    A server's ``Retry-After`` wins when it is longer than the jittered delay.
    """
    ceiling = min(cap, base * (2**attempt))
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def _transient(error: Exception) -> bool:
    return isinstance(error, QwenASRError) and error.is_transient


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry, and the backoff between tries.

    :param max_retries: retries after the first try (so at most ``max_retries + 1`` tries).
    :param base_delay: the first backoff ceiling in seconds; it doubles per retry, with jitter.
    :param max_delay: the largest backoff ceiling in seconds.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, retry: int, error: Exception | None = None) -> float:
        """Seconds before retry number ``retry`` (0-based) after ``error`` (a 429's hint wins if longer)."""
        retry_after = error.retry_after if isinstance(error, QwenASRThrottledError) else None
        return backoff_delay(retry, base=self.base_delay, cap=self.max_delay, retry_after=retry_after)

    def call(
        self,
        attempt: Callable[[], T],
        *,
        what: str,
        log: logging.Logger | Any,
        retry_on: Callable[[Exception], bool] = _transient,
    ) -> T:
        """Run ``attempt`` until it returns, retrying errors ``retry_on`` accepts; blocks while waiting.

        Each retry is logged once at INFO (``what``: the call, as the log should name it). The last
        error is raised as it came once the retries are spent.
        """
        retry = 0
        while True:
            try:
                return attempt()
            except Exception as error:
                wait = self._next(retry, error, what=what, log=log, retry_on=retry_on)
            retry += 1
            time.sleep(wait)

    async def acall(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        what: str,
        log: logging.Logger | Any,
        retry_on: Callable[[Exception], bool] = _transient,
    ) -> T:
        """:meth:`call` for coroutines: waits with ``asyncio.sleep``, never blocking the loop."""
        retry = 0
        while True:
            try:
                return await attempt()
            except Exception as error:
                wait = self._next(retry, error, what=what, log=log, retry_on=retry_on)
            retry += 1
            await asyncio.sleep(wait)

    def _next(
        self,
        retry: int,
        error: Exception,
        *,
        what: str,
        log: logging.Logger | Any,
        retry_on: Callable[[Exception], bool],
    ) -> float:
        """The wait before the next try, or re-raise ``error`` when it is not retried."""
        if not retry_on(error) or retry >= self.max_retries:
            raise error
        wait = self.delay(retry, error)
        reason = (error.code or error.message) if isinstance(error, QwenASRError) else str(error)
        log.info("%s: %s; retry %d/%d in %.1fs", what, reason, retry + 1, self.max_retries, wait)
        return wait
