"""Emulator usage shown in docs/emulator.md; tests/unit/test_docs.py runs this file."""

from __future__ import annotations

# [START emulator_in_process]
from airflow_provider_qwenasr.emulator import EmulatorConfig, EmulatorServer

config = EmulatorConfig(api_keys=("sk-emulator",), pending_seconds=0.2, running_seconds=0.5)
with EmulatorServer(config, host="127.0.0.1", port=0).start() as server:
    print(server.base_url)  # "http://127.0.0.1:<port>/api/v1"
    print(server.root_url)  # "http://127.0.0.1:<port>"
    server.backend.clock.advance(60)  # jump a minute ahead
    server.backend.faults.add(endpoint="query", kind="status", status=503)
    print(server.backend.requests.entries("submit"))  # what was received, keys redacted
# [END emulator_in_process]

# [START emulator_testing_helper]
from airflow_provider_qwenasr.emulator.testing import running_emulator

with running_emulator(pending_seconds=0, running_seconds=0.1) as server:
    print(server.base_url)
# [END emulator_testing_helper]
