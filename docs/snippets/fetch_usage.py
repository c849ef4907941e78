"""Library use of the fetch path shown in docs/fetch.md; tests/unit/test_docs.py runs this file."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time

from airflow_provider_qwenasr.emulator import EmulatorConfig, EmulatorServer

log = logging.getLogger("fetch_usage")
KEY = "sk-emulator-docs-key-0123456789"
out = tempfile.mkdtemp()
with EmulatorServer(
    EmulatorConfig(api_keys=(KEY,), pending_seconds=0, running_seconds=0.2)
).start() as emulator:
    os.environ["AIRFLOW_CONN_QWEN_ASR_DEFAULT"] = json.dumps(
        {"conn_type": "qwen_asr", "host": emulator.base_url, "password": KEY}
    )
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook

    asr_task_id = (
        QwenASRHook().submit_transcription("fun-asr", file_urls=["https://example.com/a.wav"]).task_id
    )
    time.sleep(0.5)

    # [START fetch_library]
    from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
    from airflow_provider_qwenasr.results import fetch_transcription_outputs

    hook = QwenASRHook("qwen_asr_default")
    task = hook.get_task(asr_task_id)  # holds the signed URLs: keep it out of XCom
    manifest = fetch_transcription_outputs(
        hook, task, output_path=f"file://{out}", output_formats=["json", "vtt"], log=log
    )
    # [END fetch_library]
    assert manifest["totals"]["succeeded"] == 1
    assert len(manifest["outputs"]) == 2
