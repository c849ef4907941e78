"""Fixtures shared by the whole suite: an isolated Airflow home, and the emulator over real HTTP."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from airflow_provider_qwenasr.emulator import EmulatorServer
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook

# Fails the session if the test API key or a signed URL's signature shows up in any log or output.
pytest_plugins = ["tests.security.secret_scan"]

#: The key every test uses against the emulator. It is long enough for Airflow's secret masker.
EMULATOR_API_KEY = "sk-emulator-test-key-0123456789"

# Every test process gets its own Airflow home, before anything imports airflow.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="qwenasr-airflow-home-"))
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """A fresh emulator on 127.0.0.1 (a free port), fast lifecycle, stopped after the test."""
    from airflow_provider_qwenasr.emulator import EmulatorConfig, EmulatorServer

    config = EmulatorConfig(api_keys=(EMULATOR_API_KEY,), pending_seconds=0.2, running_seconds=0.4)
    server = EmulatorServer(config, host="127.0.0.1", port=0).start()
    try:
        yield server
    finally:
        server.stop()


def connection_json(base_url: str, api_key: str = EMULATOR_API_KEY, **extra: object) -> str:
    """The ``AIRFLOW_CONN_*`` JSON of a ``qwen_asr`` connection."""
    return json.dumps(
        {"conn_type": "qwen_asr", "host": base_url, "password": api_key, "extra": extra or None}
    )


@pytest.fixture
def qwen_conn(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the default ``qwen_asr`` connection at the emulator; return its id.

    Rate budgets are per process, so each test starts from a clean one.
    """
    from airflow_provider_qwenasr.rate import reset_budgets

    reset_budgets()
    monkeypatch.setenv("AIRFLOW_CONN_QWEN_ASR_DEFAULT", connection_json(emulator.base_url, query_qps=200))
    return "qwen_asr_default"


@pytest.fixture
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lower the one-second floor between status queries, for in-process tests of the wait loops."""
    from airflow_provider_qwenasr import waiting

    monkeypatch.setattr(waiting, "MIN_POLL_INTERVAL", 0.01)


class S3Server:
    """A moto S3 server on 127.0.0.1, an ``aws`` connection to it (``conn_id``) and a boto3 client."""

    def __init__(self, endpoint: str, conn_id: str, client: object) -> None:
        self.endpoint = endpoint
        self.conn_id = conn_id
        self.client = client


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    """Real S3 over HTTP (moto's server, started and stopped by the test) with an Airflow connection."""
    import boto3
    from moto.server import ThreadedMotoServer

    # moto's server logs each request it serves (pre-signed URLs included) on ``werkzeug`` at INFO.
    # The secret scan skips that logger by name, but Airflow 3.0's console format has no logger name
    # in it, so the line is kept out of the captured output instead.
    access_log = logging.getLogger("werkzeug")
    access_level = access_log.level
    access_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # One connection id per server: Airflow and fsspec cache a store's file system per connection,
    # so a reused id would reach a server an earlier module already stopped.
    conn_id = f"aws_moto_{port}"
    variable = f"AIRFLOW_CONN_{conn_id.upper()}"
    os.environ[variable] = json.dumps(
        {
            "conn_type": "aws",
            "login": "testing",
            "password": "testing",
            "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        }
    )
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    try:
        yield S3Server(endpoint, conn_id, client)
    finally:
        os.environ.pop(variable, None)
        server.stop()
        access_log.setLevel(access_level)


#: Retry options for hooks in tests: quick backoff, short timeouts, a few retries.
FAST_RETRIES: dict[str, Any] = {
    "max_retries": 4,
    "retry_base_delay": 0.01,
    "retry_max_delay": 0.05,
    "timeout": (2.0, 5.0),
}


@pytest.fixture
def fast_hook(qwen_conn: str) -> Iterator[QwenASRHook]:
    """A sync hook on the emulator's connection with :data:`FAST_RETRIES`, closed after the test."""
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook

    hook = QwenASRHook(qwen_conn, **FAST_RETRIES)
    yield hook
    hook.close()
