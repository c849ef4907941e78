"""The ``qwen_asr`` connection: base URL normalisation and reading settings from a connection.

Connections come from ``AIRFLOW_CONN_*`` (URI and JSON forms) as a user would set them, and through
:func:`settings_from_connection` for the field-level cases.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_provider_qwenasr.exceptions import QwenASRInputError
from airflow_provider_qwenasr.hooks.connection import settings_from_connection
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.protocol import DEFAULT_QUERY_QPS, normalize_base_url

KEY = "sk-connection-test-key-0123456789"


@pytest.mark.parametrize(
    ("host", "region", "port", "expected"),
    [
        pytest.param(None, None, None, "https://dashscope.aliyuncs.com/api/v1", id="empty-default-cn"),
        pytest.param("", "cn", None, "https://dashscope.aliyuncs.com/api/v1", id="region-cn"),
        pytest.param("  ", "intl", None, "https://dashscope-intl.aliyuncs.com/api/v1", id="region-intl"),
        pytest.param(None, " INTL ", None, "https://dashscope-intl.aliyuncs.com/api/v1", id="region-case"),
        pytest.param(
            "https://dashscope.aliyuncs.com",
            None,
            None,
            "https://dashscope.aliyuncs.com/api/v1",
            id="no-path",
        ),
        pytest.param(
            "https://dashscope.aliyuncs.com/", None, None, "https://dashscope.aliyuncs.com/api/v1", id="slash"
        ),
        pytest.param(
            "https://dashscope.aliyuncs.com/api/v1",
            None,
            None,
            "https://dashscope.aliyuncs.com/api/v1",
            id="with-path",
        ),
        pytest.param(
            "https://dashscope.aliyuncs.com/api/v1/",
            None,
            None,
            "https://dashscope.aliyuncs.com/api/v1",
            id="with-path-slash",
        ),
        pytest.param(
            "dashscope.aliyuncs.com",
            None,
            None,
            "https://dashscope.aliyuncs.com/api/v1",
            id="no-scheme-https",
        ),
        pytest.param("127.0.0.1:8765", None, None, "http://127.0.0.1:8765/api/v1", id="loopback-http"),
        pytest.param(
            "localhost:8765/api/v1", None, None, "http://localhost:8765/api/v1", id="localhost-http"
        ),
        pytest.param(
            "http://127.0.0.1:8765/api/v1", None, None, "http://127.0.0.1:8765/api/v1", id="emulator"
        ),
        pytest.param("127.0.0.1", None, 8765, "http://127.0.0.1:8765/api/v1", id="separate-port"),
        pytest.param(
            "http://127.0.0.1:9/api/v1", None, 8765, "http://127.0.0.1:9/api/v1", id="port-in-url-wins"
        ),
        pytest.param(
            "https://ws-1.cn-beijing.maas.aliyuncs.com",
            None,
            None,
            "https://ws-1.cn-beijing.maas.aliyuncs.com/api/v1",
            id="workspace-host",
        ),
        pytest.param(
            "https://proxy.example/dashscope",
            None,
            None,
            "https://proxy.example/dashscope/api/v1",
            id="proxy-prefix",
        ),
        pytest.param(
            "https://dashscope.aliyuncs.com",
            "nowhere",
            None,
            "https://dashscope.aliyuncs.com/api/v1",
            id="host-beats-region",
        ),
    ],
)
def test_normalize_base_url(host: str | None, region: str | None, port: int | None, expected: str) -> None:
    assert normalize_base_url(host, region=region, port=port) == expected


@pytest.mark.parametrize(
    ("host", "region", "match"),
    [
        pytest.param(None, "eu", "region", id="bad-region"),
        pytest.param("", "cn-beijing", "region", id="region-long-name"),
        pytest.param("ftp://dashscope.aliyuncs.com", None, "http", id="ftp"),
        pytest.param("https://", None, "http", id="no-host"),
    ],
)
def test_normalize_base_url_refuses(host: str | None, region: str | None, match: str) -> None:
    with pytest.raises(QwenASRInputError, match=match):
        normalize_base_url(host, region=region)


@dataclass
class FakeConnection:
    """The fields of an Airflow connection that :func:`settings_from_connection` reads."""

    host: str | None = None
    port: int | None = None
    schema: str | None = None
    password: str | None = KEY
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def extra_dejson(self) -> dict[str, Any]:
        return self.extra


@pytest.mark.parametrize(
    ("conn", "base_url"),
    [
        pytest.param(
            FakeConnection(host="127.0.0.1", port=8765, schema="api/v1"),
            "http://127.0.0.1:8765/api/v1",
            id="uri-host-schema",
        ),
        pytest.param(
            FakeConnection(host="dashscope.aliyuncs.com", schema="api/v1"),
            "https://dashscope.aliyuncs.com/api/v1",
            id="uri-no-port",
        ),
        pytest.param(
            FakeConnection(host="https://h.example/api/v1", schema="ignored"),
            "https://h.example/api/v1",
            id="host-has-path",
        ),
        pytest.param(
            FakeConnection(extra={"region": "intl"}),
            "https://dashscope-intl.aliyuncs.com/api/v1",
            id="region-only",
        ),
    ],
)
def test_settings_base_url(conn: FakeConnection, base_url: str) -> None:
    assert settings_from_connection(conn, "c").base_url == base_url


def test_settings_fields() -> None:
    conn = FakeConnection(
        password=f"  {KEY} ", extra={"workspace": " ws-9 ", "query_qps": "40", "expected_processes": 4}
    )
    settings = settings_from_connection(conn, "my_conn")
    assert settings.api_key == KEY
    assert settings.workspace == "ws-9"
    assert settings.query_qps == 40.0
    assert settings.rate_ceiling == 10.0


def test_settings_defaults() -> None:
    settings = settings_from_connection(FakeConnection(extra={"workspace": "  "}), "c")
    assert settings.workspace is None
    assert settings.query_qps == DEFAULT_QUERY_QPS
    assert settings.expected_processes == 1
    assert settings.read_timeout is None


def test_read_timeout_extra() -> None:
    assert settings_from_connection(FakeConnection(extra={"read_timeout": "7.5"}), "c").read_timeout == 7.5


@pytest.mark.parametrize(
    "password", [pytest.param(None, id="none"), pytest.param("", id="empty"), pytest.param("   ", id="blank")]
)
def test_missing_key_is_refused(password: str | None) -> None:
    with pytest.raises(QwenASRInputError, match="no API key") as caught:
        settings_from_connection(FakeConnection(password=password), "qwen_x")
    assert "qwen_x" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("query_qps", "fast", id="qps-text"),
        pytest.param("query_qps", 0, id="qps-zero"),
        pytest.param("query_qps", -3, id="qps-negative"),
        pytest.param("query_qps", [5], id="qps-list"),
        pytest.param("expected_processes", "many", id="processes-text"),
        pytest.param("expected_processes", 0, id="processes-zero"),
        pytest.param("read_timeout", "slow", id="read-timeout-text"),
        pytest.param("read_timeout", 0, id="read-timeout-zero"),
    ],
)
def test_bad_numbers_in_extra_are_refused(name: str, value: object) -> None:
    with pytest.raises(QwenASRInputError, match=name):
        settings_from_connection(FakeConnection(extra={name: value}), "c")


def test_bad_region_is_refused() -> None:
    with pytest.raises(QwenASRInputError, match="region"):
        settings_from_connection(FakeConnection(extra={"region": "mars"}), "c")


def test_settings_repr_hides_the_key() -> None:
    assert KEY not in repr(settings_from_connection(FakeConnection(), "c"))


# -- through Airflow's connection lookup (AIRFLOW_CONN_*), as users configure it -------------------


@pytest.mark.parametrize(
    ("value", "base_url"),
    [
        pytest.param(
            json.dumps({"conn_type": "qwen_asr", "host": "http://127.0.0.1:8765/api/v1", "password": KEY}),
            "http://127.0.0.1:8765/api/v1",
            id="json-full-url",
        ),
        pytest.param(
            json.dumps({"conn_type": "qwen_asr", "password": KEY, "extra": {"region": "intl"}}),
            "https://dashscope-intl.aliyuncs.com/api/v1",
            id="json-region",
        ),
        pytest.param(
            f"qwen-asr://:{KEY}@127.0.0.1:8765/api%2Fv1", "http://127.0.0.1:8765/api/v1", id="uri-schema"
        ),
        pytest.param(
            f"qwen-asr://:{KEY}@dashscope.aliyuncs.com",
            "https://dashscope.aliyuncs.com/api/v1",
            id="uri-bare-host",
        ),
    ],
)
def test_hook_reads_environment_connection(
    monkeypatch: pytest.MonkeyPatch, value: str, base_url: str
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_QWEN_ENV_TEST", value)
    settings = QwenASRHook("qwen_env_test").settings
    assert settings.base_url == base_url
    assert settings.api_key == KEY


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, True, id="unset"),
        pytest.param(True, True, id="json-true"),
        pytest.param(False, False, id="json-false"),
        pytest.param("on", True, id="text-on"),
        pytest.param("False", False, id="text-false"),
    ],
)
def test_settings_status_sweep(value: object, expected: bool) -> None:
    extra = {} if value is None else {"status_sweep": value}
    assert settings_from_connection(FakeConnection(extra=extra), "c").status_sweep is expected


def test_settings_status_sweep_refuses_other_values() -> None:
    with pytest.raises(QwenASRInputError, match="status_sweep"):
        settings_from_connection(FakeConnection(extra={"status_sweep": "sometimes"}), "c")
