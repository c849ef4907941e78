"""Secrets never leak: the API key and the signature of a signed result URL (issue 7, item 4).

The session-wide scan lives in :mod:`tests.security.secret_scan`; these tests check the scanner
itself (in a child pytest run) and the targeted promises: the key is registered with Airflow's secret
masker, and errors, reprs, summaries, XCom values, trigger kwargs and trigger events hold neither
the key nor a signature.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest

from airflow_provider_qwenasr.emulator import EmulatorServer
from airflow_provider_qwenasr.exceptions import QwenASRError
from airflow_provider_qwenasr.hooks.connection import settings_from_connection
from airflow_provider_qwenasr.hooks.pool import close_shared_clients
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.models import AsrTask
from airflow_provider_qwenasr.triggers.qwen_asr import QwenASRTaskTrigger
from tests.conftest import EMULATOR_API_KEY, connection_json
from tests.security.secret_scan import SecretScan, find_secrets

ROOT = Path(__file__).resolve().parents[2]
QWEN3 = "qwen3-asr-flash-filetrans"
#: A URL followed by a real query (``?…`` is the provider's redaction marker).
URL_WITH_QUERY = re.compile(r"https?://[^\s\"'?]*\?(?!…|\\u2026)")


def run_child_pytest(directory: Path) -> subprocess.CompletedProcess[str]:
    """Run pytest on ``directory`` in a child process with only the secret scan plugin loaded."""
    (directory / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "tests.security.secret_scan",
        "-p",
        "no:cacheprovider",
    ]
    command += ["--rootdir", str(directory), "-c", str(directory / "pytest.ini"), str(directory)]
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


# -- the scanner -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        pytest.param(f"Bearer {EMULATOR_API_KEY}", ["API key"], id="key"),
        pytest.param(
            "http://h/r.json?Expires=1&OSSAccessKeyId=a&Signature=hdJCeFKz%2BP1A%3D",
            ["signed URL signature"],
            id="signature",
        ),
        pytest.param("{'Signature': 'x'} Signature=(redacted)", [], id="redacted-marker"),
        pytest.param("Signature=%28redacted%29 Signature=*** Signature=…", [], id="other-markers"),
        pytest.param("https://h/r.json?… and Bearer sk-e…(redacted) and ***", [], id="provider-redaction"),
        pytest.param("nothing to see", [], id="clean"),
        pytest.param(
            '127.0.0.1 "GET /a.wav?AWSAccessKeyId=t&Signature=abcdefgh HTTP/1.1" 200 - [werkzeug] loc=x.py:1',
            [],
            id="moto-access-log",
        ),
        pytest.param(
            "DEBUG    botocore.endpoint:endpoint.py:1 Signature=abcdef0123", [], id="botocore-debug"
        ),
        pytest.param(
            "ok line [werkzeug]\nleak Signature=abcdefgh [airflow_provider_qwenasr.hooks]",
            ["signed URL signature"],
            id="only-ignored-lines-skipped",
        ),
    ],
)
def test_find_secrets(text: str, kinds: list[str]) -> None:
    found = find_secrets(text, [EMULATOR_API_KEY])
    assert [what for what, _ in found] == kinds
    for _, excerpt in found:
        assert EMULATOR_API_KEY not in excerpt
        assert "hdJCeFKz" not in excerpt


def test_scan_records_where() -> None:
    scan = SecretScan(["sk-extra-secret-0123456789"])
    scan.register_secret("another-secret-value-xyz")
    assert not scan.scan({"xcom": "fine"}, "xcom")
    (finding,) = scan.scan({"xcom": "another-secret-value-xyz"}, "xcom of t1")
    assert finding.where == "xcom of t1"
    assert "another-secret" not in finding.excerpt


def test_plugin_fails_a_session_that_leaks(tmp_path: Path) -> None:
    """A child pytest run whose tests all pass, but print the key and log a signed URL, must fail."""
    (tmp_path / "test_leaky.py").write_text(
        textwrap.dedent(
            f"""
            import logging
            import sys

            def test_prints_the_key():
                print("connecting with {EMULATOR_API_KEY}")

            def test_logs_a_signed_url():
                logging.getLogger("leaky").warning("got http://h/r.json?Expires=1&Signature=c2VjcmV0c2ln")

            def test_writes_stderr():
                sys.stderr.write("key={EMULATOR_API_KEY}\\n")

            def test_clean():
                print("https://h/r.json?… Signature=(redacted) ***")
            """
        ),
        encoding="utf-8",
    )
    run = run_child_pytest(tmp_path)
    output = run.stdout + run.stderr
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, output
    assert "4 passed" in output
    assert "secret scan: secrets found" in output
    assert "test_prints_the_key" in output
    assert "test_logs_a_signed_url" in output
    assert "test_writes_stderr" in output
    assert "test_clean" not in output.split("secret scan: secrets found", 1)[1]
    assert EMULATOR_API_KEY not in output.split("secret scan: secrets found", 1)[1]
    assert "c2VjcmV0c2ln" not in output.split("secret scan: secrets found", 1)[1]


def test_plugin_passes_a_clean_session(tmp_path: Path) -> None:
    (tmp_path / "test_clean.py").write_text("def test_ok():\n    print('nothing secret')\n", encoding="utf-8")
    run = run_child_pytest(tmp_path)
    assert run.returncode == pytest.ExitCode.OK, run.stdout + run.stderr
    assert "secret scan: nothing found" in run.stdout


# -- the secret masker -----------------------------------------------------------------------------


@dataclass
class FakeConnection:
    """A connection object that is not Airflow's: only the provider can register its key."""

    password: str
    host: str | None = "http://127.0.0.1:1/api/v1"
    port: int | None = None
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def extra_dejson(self) -> dict[str, Any]:
        return self.extra


def test_reading_the_connection_registers_the_key_with_the_masker() -> None:
    from airflow.sdk.log import mask_logs, redact

    key = f"sk-masker-{time.time_ns()}-abcdefghijkl"
    assert redact(f"x {key}") == f"x {key}"  # not known before
    settings_from_connection(FakeConnection(password=key), "c")
    assert key not in str(redact(f"using {key} now"))
    # What a task log line goes through (Airflow's structlog processor for task logs):
    event = mask_logs(None, "info", {"event": f"Authorization: Bearer {key}", "key": key})
    assert key not in json.dumps(event)


def test_hook_registers_the_environment_connection_key(qwen_conn: str) -> None:
    from airflow.sdk.log import redact

    QwenASRHook(qwen_conn).settings  # noqa: B018 - reading the settings is the act under test
    assert EMULATOR_API_KEY not in str(redact(f"Bearer {EMULATOR_API_KEY}"))


# -- targeted: nothing the provider hands out holds a secret -----------------------------------------


def assert_clean(value: object, signature: str, where: str) -> None:
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, default=repr)
        if not isinstance(value, BaseException)
        else f"{value} {value!r}"
    )
    assert EMULATOR_API_KEY not in text, where
    assert signature not in text, where
    assert "Signature=" not in text, where
    assert not URL_WITH_QUERY.search(text), (where, text)


@pytest.fixture
def hook(qwen_conn: str) -> Iterator[QwenASRHook]:
    hook = QwenASRHook(
        qwen_conn, max_retries=1, retry_base_delay=0.01, retry_max_delay=0.02, timeout=(2.0, 5.0)
    )
    yield hook
    hook.close()


def finished(hook: QwenASRHook, audio: str, model: str = QWEN3) -> AsrTask:
    task = hook.submit_transcription(model, file_url=audio)
    for _ in range(300):
        task = hook.get_task(task.task_id)
        if task.is_terminal:
            return task
        time.sleep(0.02)
    raise AssertionError("the task did not finish")


def signature_of(task: AsrTask) -> str:
    url = task.succeeded_files[0].transcription_url or ""
    (signature,) = parse_qs(urlsplit(url).query)["Signature"]
    return signature


def test_task_repr_summary_and_errors_hold_no_signature(
    hook: QwenASRHook, emulator: EmulatorServer, secret_scan: SecretScan
) -> None:
    task = finished(hook, "https://example.com/a.wav?X-Amz-Signature=inputsig123&Signature=inputsig456")
    signature = signature_of(task)
    secret_scan.register_secret(signature)
    url = task.succeeded_files[0].transcription_url or ""
    assert_clean(repr(task), signature, "AsrTask repr")
    assert_clean(task.summary(), signature, "AsrTask summary")
    assert "inputsig456" not in json.dumps(task.summary())
    assert_clean(repr(hook.settings), signature, "settings repr")

    errors: list[QwenASRError] = []
    parts = urlsplit(url)
    tampered = urlunsplit(parts._replace(query=parts.query.replace("Expires=", "Expires=9")))
    refused = urlunsplit(parts._replace(netloc="127.0.0.1:1"))
    for bad in (tampered, refused):
        with pytest.raises(QwenASRError) as caught:
            hook.download_result(bad, io.BytesIO())
        errors.append(caught.value)
    emulator.backend.faults.add("result", "truncate", count=-1)
    with pytest.raises(QwenASRError) as caught:
        hook.download_result(url, io.BytesIO())
    errors.append(caught.value)
    emulator.backend.faults.clear()
    emulator.backend.clock.advance(25 * 3600)
    with pytest.raises(QwenASRError) as caught:
        hook.download_result(url, io.BytesIO())
    errors.append(caught.value)
    for error in errors:
        assert_clean(error, signature, f"{type(error).__name__}")
        assert_clean(error.to_dict(), signature, f"{type(error).__name__}.to_dict()")
        assert error.__cause__ is None or signature not in str(error.__cause__)
        secret_scan.scan(f"{error} {error!r} {error.to_dict()}", "download errors")


def test_api_errors_hold_no_key(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Errors from every endpoint, with the key refused or the service failing."""
    monkeypatch.setenv("AIRFLOW_CONN_QWEN_WRONG", connection_json(emulator.base_url, EMULATOR_API_KEY[::-1]))
    wrong = QwenASRHook("qwen_wrong", max_retries=0, retry_base_delay=0.01)
    calls = [
        lambda: wrong.get_task("t-1"),
        lambda: wrong.cancel_task("t-1"),
        lambda: wrong.list_tasks(),
        lambda: wrong.submit_transcription(QWEN3, file_url="https://example.com/a.wav"),
    ]
    for call in calls:
        with pytest.raises(QwenASRError) as caught:
            call()
        assert EMULATOR_API_KEY[::-1] not in f"{caught.value} {caught.value!r} {caught.value.to_dict()}"
    ok, message = wrong.test_connection()
    assert not ok
    assert EMULATOR_API_KEY[::-1] not in message


@pytest.mark.usefixtures("fast_polls")
async def test_trigger_kwargs_and_events_hold_no_secret(hook: QwenASRHook, secret_scan: SecretScan) -> None:
    task = hook.submit_transcription(
        "fun-asr",
        file_urls=[
            "https://example.com/a.wav?Signature=inputsig789",
            "https://example.com/b.wav?fail=FILE_404_NOT_FOUND",
        ],
    )
    trigger = QwenASRTaskTrigger(
        task.task_id, poll_interval=0.05, max_poll_interval=0.1, deadline=time.time() + 20
    )
    classpath, kwargs = trigger.serialize()
    events = [event async for event in trigger.run()]
    await close_shared_clients()
    signature = signature_of(hook.get_task(task.task_id))
    assert_clean(kwargs, signature, "trigger kwargs")
    assert_clean(repr(trigger), signature, "trigger repr")
    (event,) = events
    assert_clean(event.payload, signature, "trigger event")
    assert "inputsig789" not in json.dumps(event.payload)
    secret_scan.scan(json.dumps(event.payload), "trigger event")
    secret_scan.scan(json.dumps([classpath, kwargs]), "trigger row")


def test_operator_xcom_values_hold_no_secret(
    hook: QwenASRHook, qwen_conn: str, tmp_path: Path, secret_scan: SecretScan
) -> None:
    from airflow_provider_qwenasr.operators.fetch import QwenASRFetchTranscriptionOperator
    from airflow_provider_qwenasr.operators.submit import QwenASRSubmitTranscriptionOperator
    from airflow_provider_qwenasr.sensors.qwen_asr import QwenASRTaskSensor

    submit = QwenASRSubmitTranscriptionOperator(
        task_id="submit", qwen_asr_conn_id=qwen_conn, file_url="https://example.com/a.wav"
    )
    task_id = submit.execute({})  # type: ignore[arg-type]
    signature = signature_of(finished_task_by_id(hook, task_id))
    secret_scan.register_secret(signature)
    sensor = QwenASRTaskSensor(
        task_id="wait", asr_task_id=task_id, qwen_asr_conn_id=qwen_conn, deferrable=False
    )
    sensed = sensor.poke({})  # type: ignore[arg-type]
    fetch = QwenASRFetchTranscriptionOperator(
        task_id="fetch",
        asr_task_id=task_id,
        qwen_asr_conn_id=qwen_conn,
        output_path=str(tmp_path),
        xcom_output="full",
    )
    manifest = fetch.execute({})  # type: ignore[arg-type]
    for where, value in (
        ("submit", task_id),
        ("sensor", getattr(sensed, "xcom_value", sensed)),
        ("fetch", manifest),
    ):
        assert_clean(value, signature, f"{where} XCom")
        secret_scan.scan(json.dumps(value, default=repr), f"{where} XCom")
    for written in tmp_path.rglob("*"):
        if written.is_file():
            content = written.read_text(encoding="utf-8", errors="replace")
            assert signature not in content, written
            assert EMULATOR_API_KEY not in content, written


def finished_task_by_id(hook: QwenASRHook, task_id: str) -> AsrTask:
    for _ in range(300):
        task = hook.get_task(task_id)
        if task.is_terminal:
            return task
        time.sleep(0.02)
    raise AssertionError("the task did not finish")
