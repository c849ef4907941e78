"""The ``qwenasr-emulator`` command and the package's public names."""

from __future__ import annotations

import signal
import subprocess
import sys

import requests

import airflow_provider_qwenasr.emulator as emulator_package
from airflow_provider_qwenasr.emulator.testing import dashscope_headers


def test_public_names() -> None:
    assert sorted(emulator_package.__all__) == ["EmulatorConfig", "EmulatorServer"]
    for name in emulator_package.__all__:
        assert getattr(emulator_package, name).__doc__


def test_cli_prints_the_base_url_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_qwenasr.emulator.cli", "--port", "0", "--api-key", "sk-cli"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/api/v1")
        answer = requests.get(f"{base_url}/tasks/x", headers=dashscope_headers("sk-cli"), timeout=10)
        assert answer.json()["output"]["task_status"] == "UNKNOWN"
        assert requests.get(f"{base_url}/tasks/x", headers=dashscope_headers(), timeout=10).status_code == 401
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
