"""A local DashScope file-transcription service for tests, demos and offline DAG development.

Run ``qwenasr-emulator`` or start one in-process::

    from airflow_provider_qwenasr.emulator import EmulatorConfig, EmulatorServer

    with EmulatorServer(EmulatorConfig(api_keys=("sk-emulator",))).start() as server:
        print(server.base_url)  # http://127.0.0.1:<port>/api/v1

See ``docs/emulator.md`` for the endpoints, the audio-URL hints and the ``/emulator-api/`` control API.
"""

from __future__ import annotations

from .config import EmulatorConfig
from .server import EmulatorServer

__all__ = ["EmulatorConfig", "EmulatorServer"]
