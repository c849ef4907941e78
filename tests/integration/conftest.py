"""Fixtures shared by the trigger tests (test_trigger.py, test_status_sweep.py), on top of tests/conftest.py.

Each module sets up its connection by overriding ``qwen_conn``; ``hook`` is keyed on it. Modules with
a ``hook`` of their own (test_hooks.py, for one) keep theirs. ``_close_clients`` is not autouse: a
module that runs triggers names it in its ``pytestmark``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from airflow_provider_qwenasr.hooks.pool import close_shared_clients
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook


@pytest.fixture
def hook(qwen_conn: str) -> Iterator[QwenASRHook]:
    """A sync hook on ``qwen_conn`` with quick retry backoff, closed after the test."""
    hook = QwenASRHook(qwen_conn, retry_base_delay=0.01, retry_max_delay=0.05)
    yield hook
    hook.close()


@pytest.fixture
async def _close_clients() -> AsyncIterator[None]:
    """Close the shared async HTTP clients the triggers opened, in the test's own event loop."""
    yield
    await close_shared_clients()
