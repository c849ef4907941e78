"""Bad input is refused with a clear error before any billed call (issue 7, item 3).

Each case runs the public entry point a DAG uses (operator, sensor, trigger, hook) against the
emulator, and then reads the emulator's request log: a refused input must not have produced a
submit (and, where the input is a task id, no request at all).
"""

from __future__ import annotations

import socket
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.exceptions import QwenASRInputError
from airflow_provider_qwenasr.hooks.pool import close_shared_clients
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.operators.submit import QwenASRSubmitTranscriptionOperator
from airflow_provider_qwenasr.sensors.qwen_asr import QwenASRTaskSensor
from airflow_provider_qwenasr.triggers.qwen_asr import QwenASRTaskTrigger, TerminationReason

QWEN3 = "qwen3-asr-flash-filetrans"
AUDIO = "https://example.com/a.wav"
BAD_TASK_IDS = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param(None, id="none"),
    pytest.param("None", id="rendered-none"),
    pytest.param(" null ", id="rendered-null"),
    pytest.param("8fab76d0 0eed", id="space"),
    pytest.param("../tasks/other", id="path-traversal"),
    pytest.param("{{ ti.xcom_pull(task_ids='submit') }}", id="unrendered-template"),
    pytest.param("x" * 300, id="too-long"),
]


def no_billed_call(emulator: EmulatorServer) -> None:
    assert emulator.backend.requests.entries("submit") == []
    assert emulator.backend.task_count() == 0


def nothing_sent(emulator: EmulatorServer) -> None:
    assert emulator.backend.requests.entries() == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"file_url": "ftp://example.com/a.wav"}, "file_url", id="ftp-url"),
        pytest.param({"file_url": "/data/a.wav"}, "file_url", id="local-path"),
        pytest.param({"file_url": "file:///data/a.wav"}, "file_url", id="file-url"),
        pytest.param({"file_url": "s3://bucket/a.wav"}, "file_url", id="s3-url"),
        pytest.param({"file_url": ""}, "No audio|file_url", id="empty-url"),
        pytest.param({}, "No audio", id="no-audio"),
        pytest.param(
            {"file_url": AUDIO, "parameters": "language=en"}, "parameters must be a dict", id="params-str"
        ),
        pytest.param(
            {"file_url": AUDIO, "parameters": ["en"]}, "parameters must be a dict", id="params-list"
        ),
        pytest.param({"file_url": AUDIO, "parameters": 5}, "parameters must be a dict", id="params-int"),
        pytest.param(
            {"model": "fun-asr", "file_urls": [f"https://e.com/{i}.wav" for i in range(101)]},
            "at most 100",
            id="101-files",
        ),
        pytest.param({"model": "fun-asr", "file_urls": AUDIO}, "list", id="file-urls-str"),
        pytest.param({"file_urls": [AUDIO, AUDIO]}, "exactly one", id="qwen3-two-files"),
        pytest.param({"file_url": AUDIO, "file_urls": [AUDIO]}, "not both", id="both"),
        pytest.param({"model": "", "file_url": AUDIO}, "model", id="empty-model"),
        pytest.param(
            {"model": "fun-asr", "file_urls": [AUDIO, "gs://b/a.wav?Signature=s3cr3t"]},
            "file_url",
            id="one-bad-of-many",
        ),
    ],
)
def test_submit_operator_refuses_before_submitting(
    qwen_conn: str, emulator: EmulatorServer, kwargs: dict[str, Any], match: str
) -> None:
    operator = QwenASRSubmitTranscriptionOperator(
        task_id="submit", qwen_asr_conn_id=qwen_conn, **{"model": QWEN3, **kwargs}
    )
    with pytest.raises(QwenASRInputError, match=match) as caught:
        operator.execute({})  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert "s3cr3t" not in str(caught.value)
    nothing_sent(emulator)


@pytest.mark.parametrize("task_id", BAD_TASK_IDS)
def test_sensor_refuses_a_bad_task_id(qwen_conn: str, emulator: EmulatorServer, task_id: object) -> None:
    for deferrable in (False, True):
        sensor = QwenASRTaskSensor(
            task_id="wait", asr_task_id=task_id, qwen_asr_conn_id=qwen_conn, deferrable=deferrable
        )  # type: ignore[arg-type]
        with pytest.raises(QwenASRInputError, match="asr_task_id"):
            sensor.poke({}) if not deferrable else sensor.execute({})  # type: ignore[arg-type]
    nothing_sent(emulator)


@pytest.mark.parametrize("task_id", BAD_TASK_IDS)
def test_hook_refuses_a_bad_task_id(qwen_conn: str, emulator: EmulatorServer, task_id: object) -> None:
    hook = QwenASRHook(qwen_conn)
    for call in (hook.get_task, hook.cancel_task):
        with pytest.raises(QwenASRInputError, match="asr_task_id"):
            call(task_id)  # type: ignore[arg-type]
    nothing_sent(emulator)


@pytest.mark.usefixtures("fast_polls")
@pytest.mark.parametrize("task_id", BAD_TASK_IDS)
async def test_trigger_reports_a_bad_task_id_as_an_error_event(
    qwen_conn: str, emulator: EmulatorServer, task_id: object
) -> None:
    """A bad id is permanent: one ``error`` event at once, not polling until the deadline."""
    trigger = QwenASRTaskTrigger(
        asr_task_id=task_id, qwen_asr_conn_id=qwen_conn, poll_interval=0.01, deadline=time.time() + 30
    )  # type: ignore[arg-type]
    events = [event async for event in trigger.run()]
    await close_shared_clients()
    assert len(events) == 1
    assert events[0].payload["status"] == TerminationReason.ERROR.value
    assert events[0].payload["error"]["error"] == "QwenASRInputError"
    nothing_sent(emulator)


@pytest.mark.parametrize("task_id", BAD_TASK_IDS)
def test_fetch_operator_refuses_a_bad_task_id(
    qwen_conn: str, emulator: EmulatorServer, task_id: object, tmp_path: Any
) -> None:
    from airflow_provider_qwenasr.operators.fetch import QwenASRFetchTranscriptionOperator

    operator = QwenASRFetchTranscriptionOperator(
        task_id="fetch", asr_task_id=task_id, qwen_asr_conn_id=qwen_conn, output_path=str(tmp_path)
    )  # type: ignore[arg-type]
    with pytest.raises(QwenASRInputError, match="asr_task_id"):
        operator.execute({})  # type: ignore[arg-type]
    nothing_sent(emulator)


@pytest.mark.parametrize(
    "model",
    [
        pytest.param("fun-asr-nano-next", id="funasr-like"),
        pytest.param("qwen3-asr-flash-filetrans-next", id="qwen3-like"),
    ],
)
def test_unknown_model_warns_and_passes_through(qwen_conn: str, emulator: EmulatorServer, model: str) -> None:
    """A name the table does not hold is sent as is, with one warning: the service decides."""
    from airflow_provider_qwenasr.exceptions import QwenASRApiError

    operator = QwenASRSubmitTranscriptionOperator(
        task_id="submit", qwen_asr_conn_id=qwen_conn, model=model, file_url=AUDIO
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(QwenASRApiError, match="Model not exist"):
            operator.execute({})  # type: ignore[arg-type]
    assert [str(w.message) for w in caught if issubclass(w.category, UserWarning)] == [
        f"Model {model!r} is not one this provider knows; sending it as is, shaped like "
        + ("Qwen3-ASR filetrans" if model.startswith("qwen3") else "Fun-ASR")
    ]
    (submit,) = emulator.backend.requests.entries("submit")
    assert submit["body"]["model"] == model
    assert submit["status"] == 400  # the emulator, like the service, knows no such model


@pytest.mark.parametrize(
    "model", ["fun-asr-2025-11-07", "qwen3-asr-flash-filetrans-2025-11-17", "fun-asr-mtl-2025-08-25"]
)
def test_dated_versions_are_known_models(qwen_conn: str, emulator: EmulatorServer, model: str) -> None:
    operator = QwenASRSubmitTranscriptionOperator(
        task_id="submit", qwen_asr_conn_id=qwen_conn, model=model, file_url=AUDIO
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        task_id = operator.execute({})  # type: ignore[arg-type]
    (submit,) = emulator.backend.requests.entries("submit")
    assert submit["body"]["model"] == model
    assert submit["status"] == 200
    assert task_id


def test_known_model_does_not_warn(qwen_conn: str, emulator: EmulatorServer) -> None:
    operator = QwenASRSubmitTranscriptionOperator(
        task_id="submit", qwen_asr_conn_id=qwen_conn, model="paraformer-v2", file_url=AUDIO
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        operator.execute({})  # type: ignore[arg-type]


def test_missing_qwen_connection_is_refused_before_submitting(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import connection_json

    monkeypatch.setenv("AIRFLOW_CONN_QWEN_NOKEY", connection_json(emulator.base_url, api_key=""))
    operator = QwenASRSubmitTranscriptionOperator(
        task_id="submit", qwen_asr_conn_id="qwen_nokey", file_url=AUDIO
    )
    with pytest.raises(QwenASRInputError, match="no API key"):
        operator.execute({})  # type: ignore[arg-type]
    nothing_sent(emulator)


@pytest.fixture
def unreachable_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point any S3 client at a closed loopback port, so nothing in this test leaves the machine."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    return


def test_fetch_output_on_a_missing_connection_is_refused_first(
    qwen_conn: str, emulator: EmulatorServer, unreachable_s3: None
) -> None:
    from airflow_provider_qwenasr.operators.fetch import QwenASRFetchTranscriptionOperator

    hook = QwenASRHook(qwen_conn)
    task = hook.submit_transcription(QWEN3, file_url=AUDIO)
    deadline = time.monotonic() + 10
    while not hook.get_task(task.task_id).is_terminal and time.monotonic() < deadline:
        time.sleep(0.05)
    emulator.backend.requests.clear()
    operator = QwenASRFetchTranscriptionOperator(
        task_id="fetch",
        asr_task_id=task.task_id,
        qwen_asr_conn_id=qwen_conn,
        output_path="s3://bucket/out",
        output_conn_id="no_such_conn",
    )
    with pytest.raises(QwenASRInputError, match="no_such_conn"):
        operator.execute({})  # type: ignore[arg-type]
    nothing_sent(emulator)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"xcom_output": "bogus"}, "xcom_output", id="xcom-output-bogus"),
        pytest.param({"max_result_bytes": 0}, "max_result_bytes", id="max-result-bytes-0"),
        pytest.param({"max_xcom_bytes": -1}, "max_xcom_bytes", id="max-xcom-bytes-negative"),
        pytest.param({"format_options": {"srt": {"bogus_key": 1}}}, "format_options", id="unknown-option"),
        pytest.param({"format_options": {"json": {"indent": 2}}}, "format_options", id="json-options"),
        pytest.param({"output_path": "file:///proc/x"}, "output_path", id="proc"),
        pytest.param({"output_path": "out/transcripts"}, "output_path.*absolute", id="relative"),
    ],
)
def test_transcribe_operator_refuses_output_options_before_submitting(
    qwen_conn: str, emulator: EmulatorServer, kwargs: dict[str, Any], match: str
) -> None:
    from airflow_provider_qwenasr.operators.transcribe import QwenASRTranscribeOperator

    operator = QwenASRTranscribeOperator(
        task_id="transcribe",
        qwen_asr_conn_id=qwen_conn,
        model=QWEN3,
        file_url=AUDIO,
        deferrable=False,
        output_formats=("json", "txt", "srt"),
        **kwargs,
    )
    with pytest.raises(QwenASRInputError, match=match):
        operator.execute({})  # type: ignore[arg-type]
    no_billed_call(emulator)


def test_transcribe_operator_refuses_a_path_under_a_regular_file(
    qwen_conn: str, emulator: EmulatorServer, tmp_path: Any
) -> None:
    from airflow_provider_qwenasr.operators.transcribe import QwenASRTranscribeOperator

    regular = tmp_path / "a-file"
    regular.write_text("x")
    operator = QwenASRTranscribeOperator(
        task_id="transcribe",
        qwen_asr_conn_id=qwen_conn,
        model=QWEN3,
        file_url=AUDIO,
        deferrable=False,
        output_path=(regular / "out").as_uri(),
    )
    with pytest.raises(QwenASRInputError, match=r"output_path.*not a directory"):
        operator.execute({})  # type: ignore[arg-type]
    no_billed_call(emulator)


def test_transcribe_operator_refuses_a_missing_s3_bucket(
    qwen_conn: str, emulator: EmulatorServer, s3_server: Any
) -> None:
    from airflow_provider_qwenasr.operators.transcribe import QwenASRTranscribeOperator

    operator = QwenASRTranscribeOperator(
        task_id="transcribe",
        qwen_asr_conn_id=qwen_conn,
        model=QWEN3,
        file_url=AUDIO,
        deferrable=False,
        output_path="s3://no-such-bucket-qwenasr/out",
        output_conn_id=s3_server.conn_id,
    )
    with pytest.raises(QwenASRInputError, match=r"output_path.*bucket"):
        operator.execute({})  # type: ignore[arg-type]
    no_billed_call(emulator)
