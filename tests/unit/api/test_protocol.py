"""Unit tests of :mod:`airflow_provider_qwenasr.protocol`: the one place that builds requests,
validates input before a billed call, decides what is transient and translates error answers.

Pure functions, no HTTP: every case is a row of a table with an id.
"""

from __future__ import annotations

import json
import random
import warnings
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http import HTTPStatus
from typing import Any

import pytest

from airflow_provider_qwenasr.exceptions import (
    QwenASRApiError,
    QwenASRAuthError,
    QwenASRConnectionError,
    QwenASRError,
    QwenASRInputError,
    QwenASRServerError,
    QwenASRThrottledError,
    redact_url,
)
from airflow_provider_qwenasr.protocol import (
    MAX_FILES_PER_TASK,
    ApiRequest,
    ApiSettings,
    backoff_delay,
    build_submit_body,
    decode_answer,
    error_from_response,
    is_transient_status,
    model_family,
    parse_retry_after,
    validate_file_url,
    validate_task_id,
)

KEY = "sk-unit-test-key-abcdefghijklmnop"
SETTINGS = ApiSettings(base_url="https://dashscope.aliyuncs.com/api/v1", api_key=KEY, workspace="ws-1")
QWEN3 = "qwen3-asr-flash-filetrans"


# -- request builder -----------------------------------------------------------------------------


def test_submit_request_carries_async_and_json_headers() -> None:
    body = build_submit_body(QWEN3, file_url="https://example.com/a.wav")
    request = ApiRequest.submit(SETTINGS, body)
    assert request.method == "POST"
    assert request.url == "https://dashscope.aliyuncs.com/api/v1/services/audio/asr/transcription"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["X-DashScope-Async"] == "enable"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-DashScope-WorkSpace"] == "ws-1"
    assert "X-DashScope-OssResourceResolve" not in request.headers


def test_submit_request_asks_oss_resolution_when_told() -> None:
    body = build_submit_body(QWEN3, file_url="oss://dir/a.wav")
    request = ApiRequest.submit(SETTINGS, body, oss_resolve=True)
    assert request.headers["X-DashScope-OssResourceResolve"] == "enable"


@pytest.mark.parametrize(
    ("request_", "method", "path", "endpoint"),
    [
        pytest.param(ApiRequest.query(SETTINGS, "t-1"), "GET", "/tasks/t-1", "query", id="query"),
        pytest.param(ApiRequest.cancel(SETTINGS, "t-1"), "POST", "/tasks/t-1/cancel", "cancel", id="cancel"),
        pytest.param(ApiRequest.list_tasks(SETTINGS, {"page_no": "1"}), "GET", "/tasks", "list", id="list"),
        pytest.param(
            ApiRequest.upload_policy(SETTINGS, QWEN3), "GET", "/uploads", "upload_policy", id="policy"
        ),
    ],
)
def test_reads_carry_no_content_type(request_: ApiRequest, method: str, path: str, endpoint: str) -> None:
    """Only the submit has a body; DashScope must not be sent ``Content-Type`` elsewhere."""
    assert request_.method == method
    assert request_.url == SETTINGS.base_url + path
    assert request_.endpoint == endpoint
    assert "Content-Type" not in request_.headers
    assert request_.headers["Authorization"] == f"Bearer {KEY}"


def test_no_workspace_header_without_workspace() -> None:
    settings = ApiSettings(base_url=SETTINGS.base_url, api_key=KEY)
    assert "X-DashScope-WorkSpace" not in ApiRequest.query(settings, "t").headers


def test_reprs_hold_no_key() -> None:
    """The key sits in settings and headers, both left out of ``repr`` (which ends up in logs)."""
    assert KEY not in repr(SETTINGS)
    assert KEY not in repr(ApiRequest.query(SETTINGS, "t-1"))
    assert KEY not in SETTINGS.key_fingerprint


@pytest.mark.parametrize(
    ("qps", "processes", "ceiling"),
    [
        pytest.param(15.0, 1, 15.0, id="one"),
        pytest.param(20.0, 4, 5.0, id="four"),
        pytest.param(10, 0, 10.0, id="zero"),
    ],
)
def test_rate_ceiling_is_split_between_processes(qps: float, processes: int, ceiling: float) -> None:
    settings = ApiSettings(
        base_url=SETTINGS.base_url, api_key=KEY, query_qps=qps, expected_processes=processes
    )
    assert settings.rate_ceiling == ceiling
    assert settings.host == "https://dashscope.aliyuncs.com"


# -- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            "8fab76d0-0eed-4d20-929f-0123456789ab", "8fab76d0-0eed-4d20-929f-0123456789ab", id="uuid"
        ),
        pytest.param("  abc-1  ", "abc-1", id="stripped"),
        pytest.param("a.b_c:d", "a.b_c:d", id="punctuation"),
    ],
)
def test_valid_task_ids(value: str, expected: str) -> None:
    assert validate_task_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param(None, id="none"),
        pytest.param(123, id="int"),
        pytest.param("a/b", id="slash"),
        pytest.param("../tasks", id="traversal"),
        pytest.param("a b", id="space"),
        pytest.param("{{ ti.xcom_pull('submit') }}", id="unrendered-template"),
        pytest.param("x" * 200, id="too-long"),
        pytest.param("-leading-dash", id="leading-dash"),
    ],
)
def test_invalid_task_ids_are_refused(value: object) -> None:
    with pytest.raises(QwenASRInputError, match="asr_task_id"):
        validate_task_id(value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://example.com/a.wav", "https://example.com/a.wav", id="https"),
        pytest.param("http://example.com/a.wav", "http://example.com/a.wav", id="http"),
        pytest.param("oss://dir/a.wav", "oss://dir/a.wav", id="oss"),
        pytest.param("https://example.com/my file.wav", "https://example.com/my%20file.wav", id="space"),
        pytest.param(
            "https://example.com/会议.wav", "https://example.com/%E4%BC%9A%E8%AE%AE.wav", id="non-ascii"
        ),
        pytest.param("https://example.com/a%20b.wav", "https://example.com/a%20b.wav", id="already-encoded"),
        pytest.param(
            "https://b.example/a.wav?X-Sig=a%2Fb&e=1",
            "https://b.example/a.wav?X-Sig=a%2Fb&e=1",
            id="presigned",
        ),
    ],
)
def test_valid_file_urls(url: str, expected: str) -> None:
    assert validate_file_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
        pytest.param("/data/a.wav", id="path"),
        pytest.param("file:///data/a.wav", id="file"),
        pytest.param("s3://bucket/a.wav", id="s3"),
        pytest.param("ftp://example.com/a.wav", id="ftp"),
        pytest.param("https:///a.wav", id="no-host"),
        pytest.param(["https://example.com/a.wav"], id="list"),
    ],
)
def test_invalid_file_urls_are_refused(url: object) -> None:
    with pytest.raises(QwenASRInputError, match="file_url"):
        validate_file_url(url)


def test_refused_file_url_message_hides_its_query() -> None:
    """A pre-signed URL with a bad scheme must not leak its signature in the error."""
    with pytest.raises(QwenASRInputError) as caught:
        validate_file_url("gs://bucket/a.wav?Signature=secret123")
    assert "secret123" not in str(caught.value)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        pytest.param(QWEN3, "qwen3", id="qwen3"),
        pytest.param("Qwen3-ASR-flash-filetrans-2025", "qwen3", id="qwen3-case"),
        pytest.param("qwen-asr-x", "qwen3", id="qwen-asr"),
        pytest.param("fun-asr", "fun-asr", id="fun-asr"),
        pytest.param("fun-asr-2025-11-07", "fun-asr", id="fun-asr-dated"),
        pytest.param("paraformer-v2", "paraformer", id="paraformer"),
        pytest.param("qwen-audio-3.1-asr-flash-filetrans", "qwen-audio", id="qwen-audio"),
        pytest.param("qwen-audio-9-asr", "qwen-audio", id="qwen-audio-unknown"),
        pytest.param("some-new-model", "fun-asr", id="unknown"),
    ],
)
def test_model_family(model: str, family: str) -> None:
    assert model_family(model) == family


def test_qwen3_body() -> None:
    body = build_submit_body(QWEN3, file_url="https://example.com/a.wav", parameters={"language": "en"})
    assert body == {
        "model": QWEN3,
        "input": {"file_url": "https://example.com/a.wav"},
        "parameters": {"language": "en"},
    }


def test_funasr_body_wraps_a_single_url_and_sends_empty_parameters() -> None:
    """``"parameters": {}`` is always sent, like the SDK (400 ``BadRequest.EmptyParameters`` exists)."""
    body = build_submit_body("fun-asr", file_url="https://example.com/a.wav")
    assert body == {
        "model": "fun-asr",
        "input": {"file_urls": ["https://example.com/a.wav"]},
        "parameters": {},
    }
    assert json.loads(json.dumps(body)) == body


def test_funasr_body_takes_exactly_the_maximum() -> None:
    urls = [f"https://example.com/{i}.wav" for i in range(MAX_FILES_PER_TASK)]
    assert len(build_submit_body("fun-asr", file_urls=urls)["input"]["file_urls"]) == MAX_FILES_PER_TASK


def test_resources_go_top_level() -> None:
    resources = [{"resource_id": "r1", "resource_type": "asr_phrase"}]
    body = build_submit_body("paraformer-v1", file_urls=["https://e.com/a.wav"], resources=resources)
    assert body["resources"] == resources


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"model": ""}, "model", id="empty-model"),
        pytest.param({"model": None}, "model", id="no-model"),
        pytest.param({"model": QWEN3}, "No audio", id="no-audio"),
        pytest.param({"model": "fun-asr", "file_urls": []}, "No audio", id="empty-list"),
        pytest.param({"model": QWEN3, "file_url": "a", "file_urls": ["b"]}, "not both", id="both"),
        pytest.param({"model": "fun-asr", "file_urls": "https://e.com/a.wav"}, "list", id="urls-as-str"),
        pytest.param({"model": "fun-asr", "file_urls": 5}, "list", id="urls-as-int"),
        pytest.param(
            {"model": QWEN3, "file_urls": ["https://e.com/a.wav", "https://e.com/b.wav"]},
            "exactly one",
            id="qwen3-two-files",
        ),
        pytest.param(
            {"model": "fun-asr", "file_urls": [f"https://e.com/{i}.wav" for i in range(101)]},
            "at most 100",
            id="101-files",
        ),
        pytest.param(
            {"model": QWEN3, "file_url": "https://e.com/a.wav", "parameters": "en"}, "dict", id="params-str"
        ),
        pytest.param(
            {"model": QWEN3, "file_url": "https://e.com/a.wav", "parameters": ["x"]}, "dict", id="params-list"
        ),
        pytest.param({"model": QWEN3, "file_url": "ftp://e.com/a.wav"}, "file_url", id="bad-scheme"),
    ],
)
def test_bad_submit_input_is_refused(kwargs: dict[str, Any], match: str) -> None:
    model = kwargs.pop("model")
    with pytest.raises(QwenASRInputError, match=match):
        build_submit_body(model, **kwargs)


def test_unknown_model_warns_and_passes_through() -> None:
    with pytest.warns(UserWarning, match="brand-new-asr"):
        body = build_submit_body("brand-new-asr", file_url="https://e.com/a.wav")
    assert body["model"] == "brand-new-asr"


def test_known_model_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_submit_body("paraformer-v2", file_url="https://e.com/a.wav")


# -- transient statuses, Retry-After, backoff ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "transient"),
    [
        pytest.param(HTTPStatus.TOO_MANY_REQUESTS, True, id="429"),
        pytest.param(HTTPStatus.INTERNAL_SERVER_ERROR, True, id="500"),
        pytest.param(HTTPStatus.BAD_GATEWAY, True, id="502"),
        pytest.param(HTTPStatus.SERVICE_UNAVAILABLE, True, id="503"),
        pytest.param(HTTPStatus.GATEWAY_TIMEOUT, True, id="504"),
        # Regression (issue 17): the predicate said False for 501 while the 501's error said True.
        pytest.param(HTTPStatus.NOT_IMPLEMENTED, True, id="501"),
        pytest.param(HTTPStatus.OK, False, id="200"),
        pytest.param(HTTPStatus.BAD_REQUEST, False, id="400"),
        pytest.param(HTTPStatus.UNAUTHORIZED, False, id="401"),
        pytest.param(HTTPStatus.FORBIDDEN, False, id="403"),
        pytest.param(HTTPStatus.NOT_FOUND, False, id="404"),
    ],
)
def test_is_transient_status(status: HTTPStatus, transient: bool) -> None:
    assert is_transient_status(status) is transient


def _http_date(delta: timedelta) -> str:
    return format_datetime(datetime.now(timezone.utc) + delta, usegmt=True)


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [
        pytest.param(None, None, None, id="absent"),
        pytest.param("", None, None, id="empty"),
        pytest.param("3", 3.0, 3.0, id="seconds"),
        pytest.param("0.25", 0.25, 0.25, id="fraction"),
        pytest.param("-5", 0.0, 0.0, id="negative-clamped"),
        pytest.param("100000", 300.0, 300.0, id="huge-capped"),
        pytest.param("nan", None, None, id="nan"),
        pytest.param("soon", None, None, id="garbage"),
        pytest.param(timedelta(seconds=30), 25.0, 30.0, id="http-date"),
        pytest.param(timedelta(seconds=-30), 0.0, 0.0, id="http-date-past"),
    ],
)
def test_parse_retry_after(header: str | timedelta | None, low: float | None, high: float | None) -> None:
    """An HTTP-date is rendered when the test runs (a date made at collection would be stale)."""
    value = parse_retry_after(_http_date(header) if isinstance(header, timedelta) else header)
    if low is None:
        assert value is None
    else:
        assert value is not None
        assert low <= value <= high


@pytest.mark.parametrize("attempt", range(8))
def test_backoff_is_jittered_within_half_to_full_ceiling(attempt: int) -> None:
    random.seed(attempt)
    ceiling = min(30.0, 1.0 * 2**attempt)
    for _ in range(50):
        assert ceiling / 2 <= backoff_delay(attempt) <= ceiling


def test_backoff_is_capped() -> None:
    assert all(backoff_delay(50, base=1.0, cap=2.0) <= 2.0 for _ in range(50))


@pytest.mark.parametrize(
    ("retry_after", "at_least"),
    [pytest.param(5.0, 5.0, id="longer-wins"), pytest.param(0.001, 0.005, id="shorter-ignored")],
)
def test_backoff_honours_retry_after(retry_after: float, at_least: float) -> None:
    """A server's Retry-After is a floor, never a ceiling: jitter still applies when it is longer."""
    for _ in range(20):
        assert backoff_delay(0, base=0.01, cap=0.05, retry_after=retry_after) >= at_least


def test_backoff_is_not_constant() -> None:
    """Jitter: thousands of triggers must not retry in lockstep."""
    assert len({backoff_delay(3) for _ in range(20)}) > 1


# -- error translation ---------------------------------------------------------------------------------


def _error_body(code: str, message: str = "m", request_id: str = "rid-1") -> dict[str, str]:
    return {"code": code, "message": message, "request_id": request_id}


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        pytest.param(HTTPStatus.BAD_REQUEST, "InvalidParameter", QwenASRApiError, id="400"),
        pytest.param(HTTPStatus.UNAUTHORIZED, "InvalidApiKey", QwenASRAuthError, id="401"),
        pytest.param(HTTPStatus.FORBIDDEN, "AccessDenied", QwenASRAuthError, id="403"),
        pytest.param(HTTPStatus.NOT_FOUND, "ModelNotFound", QwenASRApiError, id="404"),
        pytest.param(HTTPStatus.TOO_MANY_REQUESTS, "Throttling.RateQuota", QwenASRThrottledError, id="429"),
        pytest.param(HTTPStatus.INTERNAL_SERVER_ERROR, "InternalError", QwenASRServerError, id="500"),
        pytest.param(HTTPStatus.BAD_GATEWAY, "InternalError", QwenASRServerError, id="502"),
        pytest.param(HTTPStatus.SERVICE_UNAVAILABLE, "ModelUnavailable", QwenASRServerError, id="503"),
        pytest.param(HTTPStatus.GATEWAY_TIMEOUT, "GatewayTimeout", QwenASRServerError, id="504"),
        pytest.param(HTTPStatus.NOT_IMPLEMENTED, "InternalError", QwenASRServerError, id="501"),
    ],
)
def test_error_from_response_class_and_fields(status: HTTPStatus, code: str, cls: type[QwenASRError]) -> None:
    error = error_from_response(status, _error_body(code), {}, endpoint="query", task_id="t-9")
    assert type(error) is cls
    assert error.is_transient is is_transient_status(status)
    assert (error.code, error.request_id, error.http_status, error.task_id) == (code, "rid-1", status, "t-9")
    for part in ("t-9", code, "rid-1", str(int(status))):
        assert part in str(error)


def test_request_id_falls_back_to_header() -> None:
    error = error_from_response(
        HTTPStatus.BAD_GATEWAY, "<html>bad gateway</html>", {"X-Request-ID": "hdr-7"}, endpoint="query"
    )
    assert error.request_id == "hdr-7"
    assert error.service_message == "<html>bad gateway</html>"


def test_throttled_error_keeps_retry_after() -> None:
    error = error_from_response(
        HTTPStatus.TOO_MANY_REQUESTS, _error_body("Throttling"), {"Retry-After": "7"}, endpoint="query"
    )
    assert isinstance(error, QwenASRThrottledError)
    assert error.retry_after == 7.0


def test_known_codes_get_a_hint() -> None:
    error = error_from_response(HTTPStatus.UNAUTHORIZED, _error_body("InvalidApiKey"), {}, endpoint="submit")
    assert error.hint
    assert "key" in error.hint


def test_error_to_dict_is_json_safe() -> None:
    error = error_from_response(
        HTTPStatus.TOO_MANY_REQUESTS, _error_body("Throttling"), {}, endpoint="q", task_id="t"
    )
    assert json.loads(json.dumps(error.to_dict()))["code"] == "Throttling"


# -- decode_answer ---------------------------------------------------------------------------------------

_QUERY = ApiRequest.query(SETTINGS, "t-1")


@pytest.mark.parametrize(
    ("status", "content", "cls"),
    [
        pytest.param(HTTPStatus.OK, b"<html>502</html>", QwenASRConnectionError, id="200-html"),
        pytest.param(HTTPStatus.OK, b'{"output": {"task_id"', QwenASRConnectionError, id="200-truncated"),
        pytest.param(HTTPStatus.OK, b"[1, 2]", QwenASRConnectionError, id="200-array"),
        pytest.param(HTTPStatus.OK, b"", QwenASRConnectionError, id="200-empty"),
        pytest.param(
            HTTPStatus.OK, b'{"code": "Throttling", "message": "m"}', QwenASRApiError, id="200-gateway-code"
        ),
        pytest.param(HTTPStatus.BAD_GATEWAY, b"<html>502</html>", QwenASRServerError, id="502-html"),
        pytest.param(
            HTTPStatus.UNAUTHORIZED,
            json.dumps(_error_body("InvalidApiKey")).encode(),
            QwenASRAuthError,
            id="401",
        ),
    ],
)
def test_decode_answer_errors(status: HTTPStatus, content: bytes, cls: type[QwenASRError]) -> None:
    with pytest.raises(cls) as caught:
        decode_answer(status, content, {}, _QUERY)
    assert caught.value.task_id == "t-1"


def test_decode_answer_returns_the_document() -> None:
    document = {"request_id": "r", "output": {"task_id": "t-1", "task_status": "RUNNING"}}
    assert decode_answer(HTTPStatus.OK, json.dumps(document).encode(), {}, _QUERY) == document


def test_decode_answer_list_with_code_is_not_an_error() -> None:
    """The flat list answer has no ``output``; a ``code`` field there must not make it an error."""
    request = ApiRequest.list_tasks(SETTINGS, {})
    document = {"request_id": "r", "code": "200", "total": 0, "data": []}
    assert decode_answer(HTTPStatus.OK, json.dumps(document).encode(), {}, request) == document


# -- redaction ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        pytest.param(
            "https://b.example/r.json?Expires=1&Signature=x", "https://b.example/r.json?…", id="signed"
        ),
        pytest.param("https://user:pw@b.example:8443/r.json", "https://b.example:8443/r.json", id="userinfo"),
        pytest.param("https://b.example/r.json#frag", "https://b.example/r.json", id="fragment"),
        pytest.param("http://[::1", "<unparsable URL>", id="unparsable"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("endpoint", "hint"),
    [("query", "query_qps"), ("submit", "submit quota"), ("customization", "hot-word table")],
)
def test_a_429_hint_names_the_quota_of_its_endpoint(endpoint: str, hint: str) -> None:
    """A throttled submit is not paced by ``query_qps``: its hint must not say to lower it."""
    from airflow_provider_qwenasr._api.errors import error_from_response

    error = error_from_response(429, {"code": "Throttling.RateQuota", "message": "x"}, {}, endpoint=endpoint)
    assert hint in str(error.hint)
