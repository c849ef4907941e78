"""Every example DAG runs for real: ``airflow dags test`` against the emulator over 127.0.0.1.

The docs show these files (scripts/sync_doc_examples.py), so what users copy is what CI runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.airflow_runner import AirflowHome
from tests.conftest import EMULATOR_API_KEY, connection_json

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    """One migrated Airflow home holding every example DAG."""
    home = AirflowHome(tmp_path_factory.mktemp("airflow-home"))
    for example in [*EXAMPLES.glob("example_*.py"), *EXAMPLES.glob("example_*.json")]:
        home.add_dag(example)
    return home


def _run(  # type: ignore[no-untyped-def]
    home: AirflowHome, emulator, tmp_path: Path, dag_id: str, conf: dict[str, object] | None = None
) -> str:
    env = {
        "AIRFLOW_CONN_QWEN_ASR_DEFAULT": connection_json(emulator.base_url, query_qps=50),
        "AIRFLOW_VAR_QWENASR_OUTPUT_PATH": f"file://{tmp_path}/out",
    }
    result = home.dags_test(dag_id, env=env, conf=conf)
    result.assert_succeeded()
    assert "Signature=" not in result.output
    return result.output


def _submits(emulator) -> int:  # type: ignore[no-untyped-def]
    log = requests.get(f"{emulator.root_url}/emulator-api/requests", timeout=10).json()["requests"]
    return sum(1 for r in log if r["endpoint"] == "submit")


def test_meeting_example_writes_and_prints_the_transcript(
    home: AirflowHome, emulator, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Long enough that the sensor's first poke finds the task running however slowly Airflow starts
    # it (3.0 takes seconds longer than 3.3), so it does defer.
    emulator.backend.update_config({"running_seconds": 8})
    output = _run(home, emulator, tmp_path, "example_qwenasr_meeting")
    assert "=== TRANSCRIPT ===" in output
    written = sorted(p.suffix for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written == [".json", ".srt", ".txt", ".vtt"]
    assert "deferring to the triggerer" in output
    assert _submits(emulator) == 1


def test_mapped_example_keeps_outputs_apart(home: AirflowHome, emulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    output = _run(home, emulator, tmp_path, "example_qwenasr_mapped")
    assert "BATCH_TOTALS=" in output
    texts = list((tmp_path / "out").rglob("*.txt"))
    assert len(texts) == 3
    assert len({p.parent for p in texts}) == 3  # one folder per DashScope task
    assert _submits(emulator) == 3


def test_taskflow_example_returns_text(home: AirflowHome, emulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    output = _run(home, emulator, tmp_path, "example_qwenasr_taskflow")
    count = int(output.split("WORD_COUNT=", 1)[1].split()[0])
    assert count > 0
    assert sorted(p.suffix for p in (tmp_path / "out").rglob("*") if p.is_file()) == [".json", ".srt"]


def test_funasr_example_labels_speakers(home: AirflowHome, emulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    output = _run(home, emulator, tmp_path, "example_qwenasr_funasr_diarization")
    line = output.split("SPEAKERS=", 1)[1].split(" FAILED=", 1)[0]
    speakers = json.loads(line.replace("'", '"'))
    assert set(speakers) == {"alice", "bob"}
    assert all(ids for ids in speakers.values())
    assert "Speaker" in "".join(p.read_text() for p in (tmp_path / "out").rglob("*.txt"))


def _bodies(emulator, endpoint: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [r["body"] for r in emulator.backend.requests.entries(endpoint)]


def test_hot_words_example_uses_one_table_and_reuses_it(home: AirflowHome, emulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The table from the JSON file reaches every Fun-ASR submit; a second run reuses it; delete is last."""
    words = json.loads((EXAMPLES / "example_qwenasr_hot_words.json").read_text(encoding="utf-8"))
    output = _run(home, emulator, tmp_path, "example_qwenasr_hot_words", conf={"delete_table": False})
    table_id = output.split("HOT_WORD_TABLE=", 1)[1].split()[0]
    assert "BATCH_OUTPUTS=3" in output  # one txt per file: 2 + 1
    submits = _bodies(emulator, "submit")
    by_model: dict[str, list[dict[str, Any]]] = {}
    for body in submits:
        by_model.setdefault(body["model"], []).append(body)
    assert sorted((m, len(b)) for m, b in by_model.items()) == [
        ("fun-asr", 2),
        ("qwen-audio-3.1-asr-flash-filetrans", 1),
        ("qwen3-asr-flash-filetrans", 1),
    ]
    assert all(b["parameters"]["vocabulary_id"] == table_id for b in by_model["fun-asr"])
    assert by_model["qwen3-asr-flash-filetrans"][0]["parameters"]["text"].startswith("Weekly review")
    assert by_model["qwen-audio-3.1-asr-flash-filetrans"][0]["parameters"]["vocabulary"] == {
        "Qwen-ASR": 5,
        "DashScope": 4,
    }
    actions = [b["input"]["action"] for b in _bodies(emulator, "customization")]
    assert actions.count("create_vocabulary") == 1
    assert "delete_vocabulary" not in actions  # the param said to keep it
    table = emulator.backend.vocabularies.find(EMULATOR_API_KEY, table_id)
    assert table is not None
    assert table.target_model == "fun-asr"
    assert [w["text"] for w in table.words] == [w["text"] for w in words]
    assert len(list((tmp_path / "out").rglob("*.txt"))) == 5

    emulator.backend.requests.clear()
    again = _run(home, emulator, tmp_path, "example_qwenasr_hot_words")  # delete_table: True
    assert again.split("HOT_WORD_TABLE=", 1)[1].split()[0] == table_id
    actions = [b["input"]["action"] for b in _bodies(emulator, "customization")]
    assert "create_vocabulary" not in actions  # the same prefix and words: reused
    assert actions[-1] == "delete_vocabulary"
    assert _bodies(emulator, "customization")[-1]["input"]["vocabulary_id"] == table_id
    assert emulator.backend.vocabularies.find(EMULATOR_API_KEY, table_id) is None
