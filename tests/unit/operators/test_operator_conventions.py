"""The conventions an Airflow user expects of every operator: templated ids, defaults, names."""

from __future__ import annotations

import warnings

import pytest
from airflow.exceptions import AirflowProviderDeprecationWarning, TaskDeferred

from airflow_provider_qwenasr.exceptions import QwenASRInputError
from airflow_provider_qwenasr.hooks.base import HookBase
from airflow_provider_qwenasr.operators.qwen_asr import (
    FetchTranscriptionOperator,
    QwenASRFetchTranscriptionOperator,
    QwenASRSubmitTranscriptionOperator,
    QwenASRTranscribeOperator,
)
from airflow_provider_qwenasr.sensors.qwen_asr import QwenASRTaskSensor
from airflow_provider_qwenasr.triggers.qwen_asr import QwenASRTaskTrigger
from tests.airflow_runner import fresh_interpreter_json


@pytest.mark.parametrize(
    ("operator", "fields"),
    [
        (QwenASRSubmitTranscriptionOperator, {"qwen_asr_conn_id", "audio_conn_id", "asr_resources"}),
        (
            QwenASRFetchTranscriptionOperator,
            {"qwen_asr_conn_id", "output_conn_id", "xcom_output", "format_options"},
        ),
        (
            QwenASRTranscribeOperator,
            {"qwen_asr_conn_id", "audio_conn_id", "asr_resources", "output_conn_id", "xcom_output"},
        ),
        (QwenASRTaskSensor, {"qwen_asr_conn_id", "asr_task_id", "model"}),
    ],
)
def test_connection_ids_and_options_are_templated(operator: type, fields: set[str]) -> None:
    assert fields <= set(operator.template_fields)


def test_every_default_connection_id_is_the_hooks() -> None:
    kwargs = {"task_id": "t", "asr_task_id": "a"}
    assert QwenASRFetchTranscriptionOperator(**kwargs).qwen_asr_conn_id == HookBase.default_conn_name
    assert QwenASRTaskSensor(**kwargs).qwen_asr_conn_id == HookBase.default_conn_name
    assert QwenASRSubmitTranscriptionOperator(task_id="s").qwen_asr_conn_id == HookBase.default_conn_name
    assert QwenASRTaskTrigger("a").qwen_asr_conn_id == HookBase.default_conn_name


def test_the_old_fetch_name_still_works_and_says_it_is_deprecated() -> None:
    with pytest.warns(AirflowProviderDeprecationWarning, match="QwenASRFetchTranscriptionOperator"):
        old = FetchTranscriptionOperator(task_id="f", asr_task_id="a")
    assert isinstance(old, QwenASRFetchTranscriptionOperator)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AirflowProviderDeprecationWarning)
        QwenASRFetchTranscriptionOperator(task_id="g", asr_task_id="a")


@pytest.mark.parametrize(
    ("given", "passed"),
    [("qwen3-asr-flash-filetrans", "qwen3-asr-flash-filetrans"), ("", None), (None, None)],
)
def test_the_sensor_hands_its_model_to_the_trigger(given: str | None, passed: str | None) -> None:
    """The board filters the list by it; a template rendered empty means unknown, not a model ''."""
    sensor = QwenASRTaskSensor(task_id="w", asr_task_id="a", model=given, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        sensor._defer("8fab76d0-0000-4000-8000-000000000000")
    trigger = deferred.value.trigger
    assert isinstance(trigger, QwenASRTaskTrigger)
    assert trigger.model == passed
    assert trigger.serialize()[1]["model"] == passed


def test_the_fetch_operator_keeps_one_hook() -> None:
    operator = QwenASRFetchTranscriptionOperator(task_id="f", asr_task_id="a")
    assert operator.hook is operator.hook


@pytest.mark.parametrize("configured", [True, False])
def test_the_one_shot_operator_defers_as_airflow_is_configured(
    monkeypatch: pytest.MonkeyPatch, configured: bool
) -> None:
    """Its default is ``[operators] default_deferrable`` (read in a fresh interpreter: at import)."""
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", str(configured))
    script = (
        "import json\n"
        "from airflow_provider_qwenasr.operators.qwen_asr import QwenASRTranscribeOperator\n"
        "op = QwenASRTranscribeOperator(task_id='t', file_url='https://a/x.wav')\n"
        "print('DEFERRABLE=' + json.dumps(op.deferrable))\n"
    )
    assert fresh_interpreter_json(script, "DEFERRABLE=") is configured


def test_the_one_shot_operator_refuses_not_waiting() -> None:
    with pytest.raises(QwenASRInputError, match="wait_for_completion=False"):
        QwenASRTranscribeOperator(task_id="t", file_url="https://a/x.wav", wait_for_completion=False)
    assert QwenASRTranscribeOperator(
        task_id="u", file_url="https://a/x.wav", wait_for_completion=True
    ).wait_for_completion
