"""The version shims in ``airflow_provider_qwenasr._compat``, on whichever Airflow runs the suite."""

from __future__ import annotations

import importlib

import pytest

from airflow_provider_qwenasr import _compat
from tests.airflow_versions import AIRFLOW_VERSION, airflow_at_least, before_airflow
from tests.conftest import connection_json


def test_version_is_parsed_without_local_parts() -> None:
    assert AIRFLOW_VERSION.major == 3
    assert airflow_at_least("3.0")
    assert not airflow_at_least(f"{AIRFLOW_VERSION.major}.{AIRFLOW_VERSION.minor + 1}")


def test_base_hook_is_the_one_airflow_exports() -> None:
    module = "airflow.sdk" if airflow_at_least("3.1") else "airflow.hooks.base"
    assert _compat.BaseHook is importlib.import_module(module).BaseHook


def test_exceptions_are_the_ones_the_task_runner_catches() -> None:
    # Airflow 3.0 and 3.1 keep them in airflow.exceptions; 3.2 moved them to airflow.sdk.exceptions.
    module = importlib.import_module(
        "airflow.sdk.exceptions" if airflow_at_least("3.2") else "airflow.exceptions"
    )
    for name in ("AirflowFailException", "AirflowSkipException", "AirflowTaskTimeout"):
        assert getattr(_compat, name) is getattr(module, name)


@pytest.fixture
def env_connection(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_QWEN_ASR_COMPAT", connection_json("http://127.0.0.1:9", region="intl"))
    return "qwen_asr_compat"


async def test_aget_connection_reads_a_connection(env_connection: str) -> None:
    conn = await _compat.aget_connection(env_connection)
    assert conn.host == "http://127.0.0.1:9"
    assert conn.extra_dejson == {"region": "intl"}


async def test_aget_connection_falls_back_to_the_sync_lookup_in_a_thread(
    env_connection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow 3.0's BaseHook has no ``aget_connection``: the sync lookup runs off the event loop."""
    import threading

    monkeypatch.delattr(_compat.BaseHook, "aget_connection", raising=False)
    lookup = _compat.BaseHook.get_connection
    threads: list[threading.Thread] = []

    def recording_lookup(conn_id: str) -> object:
        threads.append(threading.current_thread())
        return lookup(conn_id)

    monkeypatch.setattr(_compat.BaseHook, "get_connection", staticmethod(recording_lookup))
    conn = await _compat.aget_connection(env_connection)
    assert conn.host == "http://127.0.0.1:9"
    assert threads
    assert threads[0] is not threading.current_thread()


@before_airflow("3.1", "BaseHook.aget_connection arrived in 3.1")
def test_airflow_3_0_has_no_async_connection_lookup() -> None:
    assert not hasattr(_compat.BaseHook, "aget_connection")
