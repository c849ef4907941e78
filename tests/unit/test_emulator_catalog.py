"""The emulator serves the provider's model table: no list of its own, one answer per family."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_qwenasr._api.catalog import FAMILIES, ModelFamily, family_of, known_models
from airflow_provider_qwenasr.emulator.config import EmulatorConfig
from airflow_provider_qwenasr.emulator.hints import audio_facts
from airflow_provider_qwenasr.emulator.quota import RateLimiter
from airflow_provider_qwenasr.emulator.results import write_result
from airflow_provider_qwenasr.emulator.submit import served_model

EMULATOR = Path(__file__).resolve().parents[2] / "airflow_provider_qwenasr" / "emulator"


@pytest.mark.parametrize("model", known_models())
def test_every_model_of_the_table_and_its_dated_versions_are_served(model: str) -> None:
    family = family_of(model)
    assert served_model(model) == (model, family)
    assert served_model(f"{model}-2025-11-17") == (model, family)


@pytest.mark.parametrize(
    "model",
    ["", "FUN-ASR", "fun-asr ", "fun-asr-x", "fun-asr-2025-11", "qwen3-asr-flash", None, 3, "speech-biasing"],
)
def test_nothing_else_is_served(model: object) -> None:
    assert served_model(model) is None


def test_the_emulator_keeps_no_model_list_of_its_own() -> None:
    for path in EMULATOR.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for name in ("paraformer-8k-v2", "sensevoice-v1", "qwen-audio-3.0", "QWEN3_PREFIX", "FUNASR_MODELS"):
            assert name not in source, f"{path.name} names {name}: read the model table instead"


def test_file_limits_the_table_then_the_config() -> None:
    config = EmulatorConfig()
    assert config.max_files_for("qwen-audio-3.1-asr-flash-filetrans", 1) == 1
    assert config.max_files_for("fun-asr", 100) == 100
    config = EmulatorConfig(max_files_per_task=5, max_files_per_model={"fun-asr": 2, "fun-asr-2025-11-07": 3})
    assert config.max_files_for("fun-asr", 100) == 2
    assert config.max_files_for("fun-asr-2025-11-07", 100) == 3
    assert config.max_files_for("fun-asr-2026-01-01", 100) == 2
    assert config.max_files_for("paraformer-v2", 100) == 5
    assert config.updated({"max_files_per_task": None}).max_files_for("paraformer-v2", 100) == 100


def test_live_settings_check_their_values() -> None:
    config = EmulatorConfig()
    assert config.updated({"speaker_id_style": "spk", "submit_per_second": "2"}).submit_per_second == 2.0
    with pytest.raises(ValueError, match="speaker_id_style"):
        config.updated({"speaker_id_style": "name"})
    with pytest.raises(ValueError, match="speaker_id_style"):
        EmulatorConfig(speaker_id_style="x")


def test_a_window_quota_counts_what_it_lets_through() -> None:
    limiter = RateLimiter()
    assert [limiter.allow_window("k", "submit:x", 3) for _ in range(5)] == [True, True, True, False, False]
    assert limiter.allow_window("other", "submit:x", 3)
    assert limiter.allow_window("k", "submit:y", 3)
    limiter.clear()
    assert limiter.allow_window("k", "submit:x", 3)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.key)
def test_each_family_writes_its_result_format(tmp_path: Path, family: ModelFamily) -> None:
    url = "https://audio.test/a.wav?audio_seconds=30"
    path = tmp_path / "r.json"
    write_result(path, family, url, audio_facts(url, "m", [0]), {"diarization_enabled": True}, "spk")
    document = json.loads(path.read_text(encoding="utf-8"))
    sentences = document["transcripts"][0]["sentences"]
    if family.result_format == "qwen3":
        assert "audio_info" in document
        assert all({"language", "emotion"} <= set(s) for s in sentences)
    else:
        assert "properties" in document
        assert {s["speaker_id"] for s in sentences} <= {"spk0", "spk1", "spk2"}
    tagged = any(s["text"].startswith("<|") for s in sentences)
    assert tagged == family.inline_tags
