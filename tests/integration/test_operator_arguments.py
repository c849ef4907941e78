"""The operators' issue-15 arguments against the emulator over HTTP: context, hot words, tables.

Each operator runs its ``execute`` as a worker would; the emulator's request log shows what was
sent, and that a refused argument sent nothing billed (and, before an upload, nothing at all).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.exceptions import QwenASRApiError, QwenASRInputError
from airflow_provider_qwenasr.operators.qwen_asr import (
    QwenASRCreateVocabularyOperator,
    QwenASRDeleteVocabularyOperator,
    QwenASRSubmitTranscriptionOperator,
    QwenASRTranscribeOperator,
)
from tests.conftest import EMULATOR_API_KEY, connection_json

QWEN3 = "qwen3-asr-flash-filetrans"
AUDIO = "https://example.com/a.wav"
WORDS = [{"text": "Qwen-ASR", "weight": 4, "lang": "en"}]


def _submits(emulator: EmulatorServer) -> list[dict]:  # type: ignore[type-arg]
    return [entry["body"] for entry in emulator.backend.requests.entries("submit")]


def test_context_file_is_read_beside_the_dag(
    qwen_conn: str, emulator: EmulatorServer, tmp_path: Path
) -> None:
    from airflow.sdk import DAG

    (tmp_path / "agenda.txt").write_text("Agenda: Qwen-ASR, DashScope, 通义千问\n", encoding="utf-8")
    with DAG("context_dag", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        operator = QwenASRSubmitTranscriptionOperator(
            task_id="submit", model=QWEN3, file_url=AUDIO, context_file="agenda.txt"
        )
    dag.fileloc = str(tmp_path / "context_dag.py")
    operator.execute({})  # type: ignore[arg-type]
    (body,) = _submits(emulator)
    assert body["parameters"]["text"] == "Agenda: Qwen-ASR, DashScope, 通义千问\n"


def test_a_missing_context_file_is_refused_before_any_request(
    qwen_conn: str, emulator: EmulatorServer, tmp_path: Path
) -> None:
    operator = QwenASRSubmitTranscriptionOperator(
        task_id="submit", model=QWEN3, file_url=AUDIO, context_file=str(tmp_path / "nope.txt")
    )
    with pytest.raises(QwenASRInputError, match=r"context_file .*nope\.txt.* cannot be read"):
        operator.execute({})  # type: ignore[arg-type]
    assert emulator.backend.requests.entries() == []


def test_context_and_context_file_together_are_refused() -> None:
    with pytest.raises(QwenASRInputError, match="context or context_file, not both"):
        QwenASRSubmitTranscriptionOperator(
            task_id="submit", file_url=AUDIO, context="a", context_file="b.txt"
        )


def test_a_bad_parameter_is_refused_before_the_audio_is_uploaded(
    qwen_conn: str, emulator: EmulatorServer, tmp_path: Path
) -> None:
    """The plan is checked first: a local file is not uploaded for a submit that cannot be sent."""
    audio = tmp_path / "call.wav"
    audio.write_bytes(b"RIFF" + b"\0" * 100)
    operator = QwenASRSubmitTranscriptionOperator(
        task_id="submit", model="fun-asr", audio_path=str(audio), parameters={"speaker_count": 1}
    )
    with pytest.raises(QwenASRInputError, match="speaker_count"):
        operator.execute({})  # type: ignore[arg-type]
    assert emulator.backend.requests.entries() == []


def test_a_local_audio_path_is_refused_on_an_intl_connection(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_QWEN_ASR_INTL", connection_json(emulator.base_url, region="intl", query_qps=200)
    )
    audio = tmp_path / "call.wav"
    audio.write_bytes(b"RIFF" + b"\0" * 100)
    operator = QwenASRSubmitTranscriptionOperator(
        task_id="submit", model=QWEN3, audio_path=str(audio), qwen_asr_conn_id="qwen_asr_intl"
    )
    with pytest.raises(QwenASRInputError, match="Beijing") as raised:
        operator.execute({})  # type: ignore[arg-type]
    assert "object-storage path" in str(raised.value)
    assert emulator.backend.requests.entries() == []


def test_transcribe_refuses_hot_words_for_fun_asr_before_submitting(
    qwen_conn: str, emulator: EmulatorServer, tmp_path: Path
) -> None:
    operator = QwenASRTranscribeOperator(
        task_id="transcribe",
        model="fun-asr",
        file_urls=[AUDIO],
        hot_words={"Qwen": 5},
        output_path=f"file://{tmp_path}/out",
    )
    with pytest.raises(QwenASRInputError, match="instant hot words") as raised:
        operator.execute({})  # type: ignore[arg-type]
    assert "vocabulary_id" in str(raised.value)  # the hint says what to use instead
    assert _submits(emulator) == []


def test_a_table_made_by_the_operator_reaches_a_transcription(
    qwen_conn: str, emulator: EmulatorServer, tmp_path: Path
) -> None:
    """Create → transcribe with it → delete, then the delete again is fine with ``missing_ok``."""
    create = QwenASRCreateVocabularyOperator(
        task_id="table", target_model="fun-asr", prefix="demo", vocabulary=WORDS
    )
    table_id = create.execute({})  # type: ignore[arg-type]
    assert create.execute({}) == table_id  # the same words: reused, not created again  # type: ignore[arg-type]
    actions = [e["body"]["input"]["action"] for e in emulator.backend.requests.entries("customization")]
    assert actions.count("create_vocabulary") == 1

    manifest = QwenASRTranscribeOperator(
        task_id="transcribe",
        model="fun-asr",
        file_urls=[AUDIO],
        vocabulary_id=table_id,
        output_path=f"file://{tmp_path}/out",
        output_formats=["txt"],
        deferrable=False,
        poll_interval=1,
    ).execute({})  # type: ignore[arg-type]
    assert manifest["status"] == "SUCCEEDED"
    assert _submits(emulator)[0]["parameters"]["vocabulary_id"] == table_id

    QwenASRDeleteVocabularyOperator(task_id="delete", vocabulary_id=table_id).execute({})  # type: ignore[arg-type]
    QwenASRDeleteVocabularyOperator(task_id="delete", vocabulary_id=table_id).execute({})  # type: ignore[arg-type]
    with pytest.raises(QwenASRApiError):
        QwenASRDeleteVocabularyOperator(task_id="delete", vocabulary_id=table_id, missing_ok=False).execute(
            {}
        )  # type: ignore[arg-type]


def test_the_create_operator_reads_its_words_from_a_file(
    qwen_conn: str, emulator: EmulatorServer, tmp_path: Path
) -> None:
    (tmp_path / "words.json").write_text('[{"text": "Airflow", "weight": 3, "lang": "en"}]')
    table_id = QwenASRCreateVocabularyOperator(
        task_id="table",
        target_model="paraformer-v2",
        prefix="demo",
        vocabulary_file=str(tmp_path / "words.json"),
    ).execute({})  # type: ignore[arg-type]
    table = emulator.backend.vocabularies.find(EMULATOR_API_KEY, table_id)
    assert table is not None
    assert [w["text"] for w in table.words] == ["Airflow"]
    assert table.target_model == "paraformer-v2"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"vocabulary": WORDS, "vocabulary_file": "w.json"}, "exactly one", id="both"),
        pytest.param({}, "exactly one", id="neither"),
        pytest.param({"vocabulary_file": "/nonexistent/w.json"}, "cannot be read", id="missing-file"),
        pytest.param({"vocabulary": WORDS, "prefix": "Has-Caps"}, "prefix", id="bad-prefix"),
        pytest.param({"vocabulary": [{"text": "x", "weight": 9, "lang": "en"}]}, "weight", id="bad-weight"),
    ],
)
def test_the_create_operator_refuses_bad_input_before_any_request(
    qwen_conn: str,
    emulator: EmulatorServer,
    kwargs: dict,
    match: str,  # type: ignore[type-arg]
) -> None:
    arguments = {"task_id": "table", "target_model": "fun-asr", "prefix": "demo", **kwargs}
    with pytest.raises(QwenASRInputError, match=match):
        QwenASRCreateVocabularyOperator(**arguments).execute({})  # type: ignore[arg-type]
    assert emulator.backend.requests.entries() == []
