"""The manifest's one typed home: what the fetch writes passes the check the UI applies, field by field."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_qwenasr.output_signing import OutputOwner, sign_manifest
from airflow_provider_qwenasr.results import fetch_transcription_outputs
from airflow_provider_qwenasr.results.manifest import (
    ChannelSummary,
    FileRecord,
    Manifest,
    ManifestInvalid,
    Totals,
    check_manifest,
    is_manifest,
)
from airflow_provider_qwenasr.results.parse import ChannelStats, ResultStats
from tests.unit.results.test_results_fetch import FakeHook, _example, _funasr_task, _signed


def _fetched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A real manifest: a Fun-ASR task with one file that succeeded and one that failed, signed."""
    monkeypatch.setenv("AIRFLOW__QWEN_ASR__UI_SIGNING_KEY", "unit-test-signing-key")
    ok = {
        "file_url": "https://media.test/a.wav?token=1",
        "transcription_url": _signed("a"),
        "subtask_status": "SUCCEEDED",
    }
    failed = {
        "file_url": "https://media.test/b.wav",
        "subtask_status": "FAILED",
        "code": "X",
        "message": "bad",
    }
    manifest = fetch_transcription_outputs(
        FakeHook({_signed("a"): [_example()]}),  # type: ignore[arg-type]
        _funasr_task([ok, failed]),
        output_path=tmp_path.as_uri(),
        output_formats=["json", "txt", "jsonl"],
        xcom_output="text",
    )
    assert sign_manifest(manifest, OutputOwner("d", "r", "t", -1))
    return json.loads(json.dumps(manifest))  # as XCom stores it


def test_what_the_fetch_writes_is_a_manifest_the_check_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fetch's manifest (signed, with text) is recognised and passes check_manifest."""
    manifest = _fetched(tmp_path, monkeypatch)
    assert is_manifest(manifest)
    check_manifest(manifest)
    assert [f["status"] for f in manifest["files"]] == ["SUCCEEDED", "FAILED"]


def test_every_key_the_fetch_writes_is_declared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The typed dicts name every key the fetch writes: the schema is the whole of it, not a subset."""
    manifest = _fetched(tmp_path, monkeypatch)
    declared = typing.get_type_hints(Manifest)
    assert set(manifest) == set(declared)
    assert set(manifest["totals"]) == set(typing.get_type_hints(Totals))
    file_keys = set(typing.get_type_hints(FileRecord))
    for record in manifest["files"]:
        assert set(record) <= file_keys, set(record) - file_keys
    for channel in manifest["files"][0]["channels"]:
        assert set(channel) == set(typing.get_type_hints(ChannelSummary))


def test_the_channel_summary_matches_the_parsers_stats() -> None:
    """ChannelSummary has the fields of the parser's ChannelStats.summary()."""
    stats = ResultStats(channels=[ChannelStats(0, 3, 1)])
    assert set(stats.channels[0].summary()) == set(typing.get_type_hints(ChannelSummary))


@pytest.mark.parametrize(
    ("change", "named"),
    [
        pytest.param({"asr_task_id": 5}, "asr_task_id must be a string", id="id"),
        pytest.param({"usage_seconds": True}, "usage_seconds must be a number", id="bool-is-no-number"),
        pytest.param({"outputs": ["a", None]}, "outputs must be a list of str", id="null-output"),
        pytest.param({"files": [{"index": -1}]}, "files[0].index must be a non-negative integer", id="index"),
        pytest.param({"files": [{"channels": [3]}]}, "files[0].channels[0] must be an object", id="channel"),
        pytest.param(
            {"files": [{"channels": [{"channel_id": "0"}]}]},
            "files[0].channels[0].channel_id must be a number",
            id="channel-id",
        ),
        pytest.param(
            {"files": [{"speakers": [1.5]}]}, "files[0].speakers must be a list of values", id="speakers"
        ),
        pytest.param({"totals": {"files": "2"}}, "totals.files must be a number", id="totals"),
    ],
)
def test_the_check_names_the_first_wrong_field(change: dict[str, Any], named: str) -> None:
    """Each declared field is checked against its declared type, nested records included."""
    base: dict[str, Any] = {"asr_task_id": "t", "files": [], "outputs": []}
    with pytest.raises(ManifestInvalid, match=named.replace("[", r"\[").replace("]", r"\]")):
        check_manifest({**base, **change})


def test_the_check_allows_nulls_unknown_keys_and_whole_floats() -> None:
    """A null is an absent field, a newer provider's key is ignored, JSON's 3.0 is a whole number."""
    check_manifest(
        {
            "asr_task_id": "t",
            "status": None,
            "outputs": [],
            "files": [{"index": 0, "duration_ms": 3.0, "result": {"any": ["thing"]}, "future": object()}],
            "totals": {"characters": 1.0},
            "added_later": {"x": 1},
        }
    )
