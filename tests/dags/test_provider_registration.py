"""The provider registers in a real Airflow: providers list, connection type and form, test button."""

from __future__ import annotations

import importlib.util
import json
import subprocess

import pytest

from tests.airflow_runner import AIRFLOW, AirflowHome, cli_json
from tests.airflow_versions import airflow_at_least
from tests.conftest import EMULATOR_API_KEY


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    return AirflowHome(tmp_path_factory.mktemp("airflow-home"))


def _airflow(home: AirflowHome, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [AIRFLOW, *args],
        env={**home.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_providers_list_shows_the_provider(home: AirflowHome) -> None:
    providers = cli_json(_airflow(home, "providers", "list", "-o", "json"))
    assert "airflow-provider-qwenasr" in {p["package_name"] for p in providers}


def test_connection_form_fields_are_registered(home: AirflowHome) -> None:
    widgets = cli_json(_airflow(home, "providers", "widgets", "-o", "json"))
    ours = {
        w["connection_parameter_name"] for w in widgets if w["package_name"] == "airflow-provider-qwenasr"
    }
    expected = {
        f"extra__qwen_asr__{name}"
        for name in ("region", "workspace", "query_qps", "expected_processes", "status_sweep", "read_timeout")
    }
    if not airflow_at_least("3.2") and importlib.util.find_spec("wtforms") is None:
        # Before 3.2 the fields come from the hook as wtforms fields: without wtforms (FAB) this
        # command lists none (3.1's UI stands in for wtforms and still shows them, 3.0's does not).
        expected = set()
    assert ours == expected
    hooks = cli_json(_airflow(home, "providers", "hooks", "-o", "json"))
    assert any(h.get("connection_type") == "qwen_asr" for h in hooks), hooks


def test_added_connection_keeps_its_type_and_tests_green(home: AirflowHome, emulator) -> None:  # type: ignore[no-untyped-def]
    """An unregistered type would silently become 'generic'; the Test button calls test_connection."""
    _airflow(
        home,
        "connections",
        "add",
        "qwen_cli",
        "--conn-type",
        "qwen_asr",
        "--conn-host",
        emulator.base_url,
        "--conn-password",
        EMULATOR_API_KEY,
        "--conn-extra",
        json.dumps({"extra__qwen_asr__query_qps": 5}),
    )
    stored = cli_json(_airflow(home, "connections", "get", "qwen_cli", "-o", "json"))
    assert stored[0]["conn_type"] == "qwen_asr"
    output = _airflow(
        home, "connections", "test", "qwen_cli", env={"AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}
    )
    assert "success" in output.lower()
    assert EMULATOR_API_KEY not in output


def test_the_transcript_link_is_registered(home: AirflowHome) -> None:
    """``extra-links`` in the provider info: Airflow imports the class and lists it."""
    links = cli_json(_airflow(home, "providers", "links", "-o", "json"))
    assert "airflow_provider_qwenasr.operators.links.QwenASRTranscriptLink" in {
        link["extra_link_class_name"] for link in links
    }
