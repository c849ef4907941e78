"""OpenLineage for real: the example DAG under ``airflow dags test``, the events read back from a file.

The OpenLineage provider (in the test extra) is configured with a file transport; its listener
calls the operators' ``get_openlineage_facets_on_complete``/``_on_failure`` as it does in any
deployment. The events must name the audio (without its signed query) as input, every object
written as an output, carry the ``qwenAsr`` run facet, an error facet when the task failed, and hold
neither the API key nor a signature (``tests/security/secret_scan.py``'s scanner).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.airflow_runner import AirflowHome
from tests.conftest import EMULATOR_API_KEY, connection_json
from tests.security.secret_scan import find_secrets

pytest.importorskip("airflow.providers.openlineage", reason="the OpenLineage provider is not installed")

EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "example_qwenasr_lineage.py"
DAG_ID = "example_qwenasr_lineage"
SECRETS = ("LTAI5tSecretKeyId", "c2lnbmF0dXJlLW9zcw", EMULATOR_API_KEY)
SIGNED = (
    "https://bucket.oss-cn-beijing.aliyuncs.com/calls/meeting.wav"
    "?OSSAccessKeyId=LTAI5tSecretKeyId&Expires=1767225600&Signature=c2lnbmF0dXJlLW9zcw%3D%3D"
)
AUDIO = {"namespace": "https://bucket.oss-cn-beijing.aliyuncs.com", "name": "/calls/meeting.wav"}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    home = AirflowHome(tmp_path_factory.mktemp("airflow-home"))
    home.add_dag(EXAMPLE)
    return home


def _run(home: AirflowHome, emulator: Any, tmp_path: Path, audio_url: str, *, succeed: bool) -> list[Any]:
    """Run the example with a file transport; return the task events it wrote, parsed."""
    events = tmp_path / "openlineage.jsonl"
    env = {
        "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url, query_qps=50),
        "AIRFLOW_VAR_QWENASR_OUTPUT_PATH": f"file://{tmp_path}/out",
        "AIRFLOW_VAR_QWENASR_AUDIO_URL": audio_url,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "qwenasr-test",
    }
    result = home.dags_test(DAG_ID, env=env)
    if succeed:
        result.assert_succeeded()
    else:
        assert "state=failed" in result.output.replace(" ", ""), result.output[-6000:]
    assert events.exists(), f"no OpenLineage event was written:\n{result.output[-6000:]}"
    text = events.read_text(encoding="utf-8")
    findings = [excerpt for _, excerpt in find_secrets(text, SECRETS)]  # secrets blanked out
    assert not findings, "a secret in the OpenLineage events"
    leaked = [i for i, secret in enumerate(SECRETS) if secret in text]
    assert not leaked, "a secret in the OpenLineage events"
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _final(events: list[Any], task_id: str) -> Any:
    """The task's COMPLETE or FAIL event."""
    [event] = [
        e
        for e in events
        if e["job"]["name"] == f"{DAG_ID}.{task_id}" and e["eventType"] in ("COMPLETE", "FAIL")
    ]
    return event


def _datasets(items: list[Any]) -> list[dict[str, str]]:
    return [{"namespace": d["namespace"], "name": d["name"]} for d in items]


def test_events_name_the_audio_every_output_and_the_task(
    home: AirflowHome, emulator: Any, tmp_path: Path
) -> None:
    events = _run(home, emulator, tmp_path, SIGNED, succeed=True)
    submit, fetch, transcribe = (_final(events, t) for t in ("submit", "fetch", "transcribe"))
    assert {e["eventType"] for e in (submit, fetch, transcribe)} == {"COMPLETE"}

    written = sorted(p for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert len(written) == 4  # txt + srt (two steps), json + txt (one shot)
    for event in (submit, fetch, transcribe):
        assert _datasets(event["inputs"]) == [AUDIO]
    assert _datasets(submit["outputs"]) == []
    expected = {
        "fetch": sorted(str(p) for p in written if "two-steps" in str(p)),
        "transcribe": sorted(str(p) for p in written if "one-shot" in str(p)),
    }
    for task_id, event in (("fetch", fetch), ("transcribe", transcribe)):
        outputs = _datasets(event["outputs"])
        assert {d["namespace"] for d in outputs} == {"file"}
        assert sorted(d["name"] for d in outputs) == expected[task_id]

    facet = transcribe["run"]["facets"]["qwenAsr"]
    assert facet["model"] == "qwen3-asr-flash-filetrans"
    assert facet["taskStatus"] == "SUCCEEDED"
    assert facet["usageSeconds"] > 0
    assert facet["files"] == [
        {"index": 0, "fileUrl": AUDIO["namespace"] + AUDIO["name"] + "?…", "status": "SUCCEEDED"}
    ]  # no code: OpenLineage's serializer leaves out what is None
    assert facet["_schemaURL"].endswith("QwenASRRunFacet/1-0-0")
    assert facet["asrTaskId"]
    assert facet["asrTaskId"] in expected["transcribe"][0]
    # The submit and the fetch report the same DashScope task, and what it billed.
    assert submit["run"]["facets"]["qwenAsr"]["asrTaskId"] == fetch["run"]["facets"]["qwenAsr"]["asrTaskId"]
    assert (
        fetch["run"]["facets"]["qwenAsr"]["usageSeconds"]
        == submit["run"]["facets"]["qwenAsr"]["usageSeconds"]
    )
    assert "model" not in fetch["run"]["facets"]["qwenAsr"]  # the fetch is not told the model


def test_a_failed_transcription_has_the_error_facet_and_no_secret(
    home: AirflowHome, emulator: Any, tmp_path: Path
) -> None:
    events = _run(home, emulator, tmp_path, SIGNED + "&fail=FILE_404_NOT_FOUND", succeed=False)
    for task_id in ("submit", "transcribe"):
        event = _final(events, task_id)
        assert event["eventType"] == "FAIL"
        assert _datasets(event["inputs"]) == [AUDIO]
        assert _datasets(event["outputs"]) == []
        facets = event["run"]["facets"]
        assert "FILE_404_NOT_FOUND" in facets["errorMessage"]["message"]
        assert facets["qwenAsr"]["taskStatus"] == "FAILED"
        assert facets["qwenAsr"]["error"]["code"] == "FILE_404_NOT_FOUND"
        assert facets["qwenAsr"]["asrTaskId"]
        assert facets["qwenAsr"]["model"] == "qwen3-asr-flash-filetrans"
