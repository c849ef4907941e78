"""The one retry loop (:class:`~airflow_provider_qwenasr.protocol.RetryPolicy`), sync and async."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from airflow_provider_qwenasr.exceptions import QwenASRApiError, QwenASRServerError, QwenASRThrottledError
from airflow_provider_qwenasr.protocol import RetryPolicy

POLICY = RetryPolicy(max_retries=2, base_delay=0.5, max_delay=4.0)
log = logging.getLogger("tests.retry")


class Flaky:
    """Fails with each of ``errors`` in turn, then returns ``"done"``; counts its calls."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"

    async def acall(self) -> str:
        return self()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []

    async def asleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(time, "sleep", recorded.append)
    monkeypatch.setattr(asyncio, "sleep", asleep)
    return recorded


def _server_error() -> QwenASRServerError:
    return QwenASRServerError("DashScope query failed with HTTP 503", code="ServiceUnavailable")


def test_transient_errors_are_retried_with_backoff_and_logged(
    sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    flaky = Flaky(_server_error(), QwenASRThrottledError("429", code="Throttling", retry_after=3.5))
    with caplog.at_level(logging.INFO, "tests.retry"):
        assert POLICY.call(flaky, what="DashScope query", log=log) == "done"
    assert flaky.calls == 3
    assert 0.25 <= sleeps[0] <= 0.5  # the first ceiling, full jitter down to half
    assert sleeps[1] == 3.5  # Retry-After wins over a shorter backoff
    assert [r.getMessage().split(" in ")[0] for r in caplog.records] == [
        "DashScope query: ServiceUnavailable; retry 1/2",
        "DashScope query: Throttling; retry 2/2",
    ]


def test_retries_are_bounded_and_the_last_error_is_raised(sleeps: list[float]) -> None:
    last = _server_error()
    flaky = Flaky(_server_error(), _server_error(), last)
    with pytest.raises(QwenASRServerError) as raised:
        POLICY.call(flaky, what="DashScope query", log=log)
    assert raised.value is last
    assert flaky.calls == 3
    assert len(sleeps) == 2


def test_a_permanent_error_is_raised_at_once(sleeps: list[float]) -> None:
    flaky = Flaky(QwenASRApiError("400", code="InvalidParameter"))
    with pytest.raises(QwenASRApiError):
        POLICY.call(flaky, what="DashScope query", log=log)
    assert flaky.calls == 1
    assert sleeps == []


def test_retry_on_chooses_what_is_retried(sleeps: list[float]) -> None:
    flaky = Flaky(ValueError("bad body"))
    assert POLICY.call(flaky, what="scan", log=log, retry_on=lambda e: isinstance(e, ValueError)) == "done"
    with pytest.raises(QwenASRServerError):
        POLICY.call(
            Flaky(_server_error()), what="scan", log=log, retry_on=lambda e: isinstance(e, ValueError)
        )


async def test_async_retries_the_same_way_and_logs(
    sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    flaky = Flaky(_server_error())
    with caplog.at_level(logging.INFO, "tests.retry"):
        assert await POLICY.acall(flaky.acall, what="DashScope query", log=log) == "done"
    assert flaky.calls == 2
    assert len(sleeps) == 1
    assert "DashScope query: ServiceUnavailable; retry 1/2" in caplog.text
