"""The operators' OpenLineage facets, from real runs against the emulator (without a DAG run).

``tests/dags/test_lineage.py`` has the listener emit them under ``airflow dags test``; here each case
the DAG does not reach: several files with one failed, a fetch of a failed task, a submit that does
not wait, S3 outputs, and the provider with OpenLineage not importable at all.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_qwenasr.exceptions import QwenASRTaskFailedError
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.lineage.record import record_of
from airflow_provider_qwenasr.operators.fetch import QwenASRFetchTranscriptionOperator
from airflow_provider_qwenasr.operators.submit import QwenASRSubmitTranscriptionOperator
from airflow_provider_qwenasr.operators.transcribe import QwenASRTranscribeOperator
from tests.conftest import EMULATOR_API_KEY, connection_json
from tests.security.secret_scan import find_secrets

pytest.importorskip("airflow.providers.openlineage", reason="the OpenLineage provider is not installed")

SIGNED = (
    "https://bucket.oss-cn-beijing.aliyuncs.com/calls/{name}.wav?Expires=1767225600&Signature=c2lnbmF0dXJl{n}"
)
SECRETS = ("c2lnbmF0dXJl", EMULATOR_API_KEY)


def _event_json(lineage: Any) -> str:
    """The facets and datasets as the OpenLineage client serializes them into an event."""
    from openlineage.client.serde import Serde

    text = json.dumps(
        {
            "inputs": [json.loads(Serde.to_json(d)) for d in lineage.inputs],
            "outputs": [json.loads(Serde.to_json(d)) for d in lineage.outputs],
            "run": {k: json.loads(Serde.to_json(v)) for k, v in lineage.run_facets.items()},
        }
    )
    assert not find_secrets(text, SECRETS)
    assert not [s for s in SECRETS if s in text]
    return text


def _names(datasets: list[Any]) -> list[tuple[str, str]]:
    return [(d.namespace, d.name) for d in datasets]


def test_funasr_with_one_failed_file_reports_each_file(emulator: Any, qwen_conn: str, tmp_path: Path) -> None:
    good, bad = SIGNED.format(name="good", n=1), SIGNED.format(name="bad", n=2) + "&fail=DECODE_ERROR"
    operator = QwenASRTranscribeOperator(
        task_id="t",
        model="fun-asr",
        file_urls=[good, bad],
        output_path=f"file://{tmp_path}",
        output_formats=["txt"],
        deferrable=False,
        poll_interval=1,
    )
    emulator.backend.update_config({"pending_seconds": 0, "running_seconds": 0})
    manifest = operator.execute({})  # type: ignore[arg-type]
    lineage = operator.get_openlineage_facets_on_complete(None)
    event = json.loads(_event_json(lineage))

    host = "https://bucket.oss-cn-beijing.aliyuncs.com"
    assert _names(lineage.inputs) == [(host, "/calls/good.wav"), (host, "/calls/bad.wav")]
    [written] = manifest["outputs"]
    assert _names(lineage.outputs) == [("file", written.removeprefix("file://"))]
    facet = event["run"]["qwenAsr"]
    assert facet["model"] == "fun-asr"
    assert facet["asrTaskId"] == manifest["asr_task_id"]
    assert facet["usageSeconds"] == manifest["usage_seconds"]
    assert facet["files"] == [
        {"index": 0, "fileUrl": f"{host}/calls/good.wav?…", "status": "SUCCEEDED"},
        {"index": 1, "fileUrl": f"{host}/calls/bad.wav?…", "status": "FAILED", "code": "DECODE_ERROR"},
    ]
    assert "errorMessage" not in event["run"]
    # The listener may pickle an event to hand it to another process: the facet must survive it.
    assert pickle.loads(pickle.dumps(lineage.run_facets["qwenAsr"])) == lineage.run_facets["qwenAsr"]


def test_a_fetch_of_a_failed_task_has_the_error_facet(emulator: Any, qwen_conn: str, tmp_path: Path) -> None:
    hook = QwenASRHook()
    task = hook.submit_transcription(
        "qwen3-asr-flash-filetrans", file_url=SIGNED.format(name="gone", n=3) + "&fail=FILE_404_NOT_FOUND"
    )
    emulator.backend.clock.advance(60)
    operator = QwenASRFetchTranscriptionOperator(
        task_id="fetch", asr_task_id=task.task_id, output_path=f"file://{tmp_path}"
    )
    with pytest.raises(QwenASRTaskFailedError):
        operator.execute({})  # type: ignore[arg-type]
    lineage = operator.get_openlineage_facets_on_failure(None)
    event = json.loads(_event_json(lineage))
    assert lineage.outputs == []
    assert "FILE_404_NOT_FOUND" in event["run"]["errorMessage"]["message"]
    assert event["run"]["errorMessage"]["programmingLanguage"] == "python"
    assert event["run"]["qwenAsr"]["error"]["code"] == "FILE_404_NOT_FOUND"
    assert event["run"]["qwenAsr"]["error"]["type"] == "QwenASRTaskFailedError"
    assert event["run"]["qwenAsr"]["asrTaskId"] == task.task_id
    assert event["run"]["qwenAsr"]["taskStatus"] == "FAILED"


def test_a_submit_that_does_not_wait_names_the_task_and_no_usage(emulator: Any, qwen_conn: str) -> None:
    operator = QwenASRSubmitTranscriptionOperator(task_id="s", file_url=SIGNED.format(name="a", n=4))
    asr_task_id = operator.execute({})  # type: ignore[arg-type]
    event = json.loads(_event_json(operator.get_openlineage_facets_on_complete(None)))
    assert event["outputs"] == []
    assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [
        ("https://bucket.oss-cn-beijing.aliyuncs.com", "/calls/a.wav")
    ]
    assert event["run"]["qwenAsr"]["asrTaskId"] == asr_task_id
    assert event["run"]["qwenAsr"]["model"] == "qwen3-asr-flash-filetrans"
    assert "usageSeconds" not in event["run"]["qwenAsr"]


def test_audio_path_and_s3_outputs_are_named_by_bucket_and_key() -> None:
    operator = QwenASRTranscribeOperator(
        task_id="t",
        audio_path="s3://calls/in/call.wav",
        output_path="s3://transcripts/out",
        output_formats=["txt"],
    )
    # The names come from the arguments and a manifest as the fetch writes it; nothing is run.
    record_of(operator).manifest = {"outputs": ["s3://transcripts/out/t1/call.txt"], "files": []}
    lineage = operator.get_openlineage_facets_on_complete(None)
    assert _names(lineage.inputs) == [("s3://calls", "in/call.wav")]
    assert _names(lineage.outputs) == [("s3://transcripts", "out/t1/call.txt")]


_WITHOUT_OPENLINEAGE = """
import importlib.abc, json, sys

# Airflow's provider discovery still reads the installed provider's metadata (its package and
# get_provider_info); everything else of OpenLineage, the client above all, cannot be imported.
ALLOWED = ("airflow.providers.openlineage", "airflow.providers.openlineage.get_provider_info")

class NoOpenLineage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        blocked = name == "openlineage" or name.startswith(("openlineage.", "airflow.providers.openlineage."))
        if blocked and name not in ALLOWED:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, NoOpenLineage())
from airflow_provider_qwenasr.operators.qwen_asr import QwenASRTranscribeOperator

operator = QwenASRTranscribeOperator(
    task_id="t", file_url=sys.argv[1], output_path=sys.argv[2], output_formats=["txt"],
    deferrable=False, poll_interval=1,
)
manifest = operator.execute({})
loaded = sorted(m for m in sys.modules if "openlineage" in m and m not in ALLOWED)
print("RESULT=" + json.dumps({"outputs": manifest["outputs"], "loaded": loaded}))
"""


def test_the_provider_works_where_openlineage_cannot_be_imported(emulator: Any, tmp_path: Path) -> None:
    """Leaves nothing to chance on a machine without the OpenLineage provider: the operator runs."""
    emulator.backend.update_config({"pending_seconds": 0, "running_seconds": 0})
    env_conn = connection_json(emulator.base_url, query_qps=50)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(_WITHOUT_OPENLINEAGE),
            "https://a.test/x.wav",
            f"file://{tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "AIRFLOW_CONN_QWEN_ASR_DEFAULT": env_conn},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    [line] = [x for x in result.stdout.splitlines() if x.startswith("RESULT=")]
    found = json.loads(line.removeprefix("RESULT="))
    assert len(found["outputs"]) == 1
    assert found["loaded"] == []
