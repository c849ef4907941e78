"""Unit tests of :class:`QwenASRHook`'s decisions, one function at a time, with requests-mock.

What is checked here and not against the emulator: the exact retry/backoff decisions (which errors
are retried, how often, how long the hook means to sleep), the branches of submit reconciliation,
error translation, the headers and timeouts each request carries. ``time.sleep`` is replaced by a
recorder, so no test waits and every computed delay can be asserted.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
import requests
import requests_mock as rm

from airflow_provider_qwenasr.exceptions import (
    QwenASRApiError,
    QwenASRAuthError,
    QwenASRConnectionError,
    QwenASRInputError,
    QwenASRResultError,
    QwenASRServerError,
    QwenASRSubmitUnknownError,
    QwenASRThrottledError,
)
from airflow_provider_qwenasr.hooks.lost_submit import SubmitAttempt
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.hooks.submit import LIST_LAG
from airflow_provider_qwenasr.models import TaskStatus
from airflow_provider_qwenasr.rate import reset_budgets
from tests.conftest import connection_json

KEY = "sk-hook-unit-test-key-0123456789"
BASE = "https://dashscope.test/api/v1"
SUBMIT_URL = f"{BASE}/services/audio/asr/transcription"
TASK = "8fab76d0-0eed-4d20-929f-0123456789ab"
QUERY_URL = f"{BASE}/tasks/{TASK}"
CANCEL_URL = f"{BASE}/tasks/{TASK}/cancel"
LIST_URL = f"{BASE}/tasks"
RESULT_URL = "https://bucket.test/results/r.json?Expires=9999999999&OSSAccessKeyId=ak&Signature=c2lnbmF0dXJl"
QWEN3 = "qwen3-asr-flash-filetrans"
MAX_RETRIES = 3
BASE_DELAY, MAX_DELAY = 0.01, 0.05
TIMEOUT = (1.5, 2.5)


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[QwenASRHook]:
    reset_budgets()
    monkeypatch.setenv("AIRFLOW_CONN_QWEN_ASR_DEFAULT", connection_json(BASE, KEY, query_qps=1_000_000))
    hook = QwenASRHook(
        max_retries=MAX_RETRIES,
        retry_base_delay=BASE_DELAY,
        retry_max_delay=MAX_DELAY,
        timeout=TIMEOUT,
        identify_timeout=0.0,
    )
    yield hook
    hook.close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every ``time.sleep`` the hook asks for, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(time, "sleep", recorded.append)
    return recorded


def backoff_sleeps(sleeps: list[float]) -> list[float]:
    """The backoff sleeps, without the rate budget's microsecond slot waits (the budget runs at 10⁶/s)."""
    return [s for s in sleeps if s > 1e-3]


def task_body(status: str = "PENDING", **output: Any) -> dict[str, Any]:
    return {"request_id": "req-ok", "output": {"task_id": TASK, "task_status": status, **output}}


def error(status: HTTPStatus, code: str, *, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "status_code": status,
        "json": {"code": code, "message": f"{code} happened", "request_id": f"req-{code}"},
        "headers": headers or {},
    }


def ok(body: dict[str, Any]) -> dict[str, Any]:
    return {"status_code": HTTPStatus.OK, "json": body}


def list_page(*items: dict[str, Any]) -> dict[str, Any]:
    return ok(
        {
            "request_id": "req-list",
            "total": len(items),
            "total_page": 1 if items else 0,
            "page_no": 1,
            "page_size": 100,
            "data": list(items),
        }
    )


def list_item(task_id: str, created_ms: int, model: str = QWEN3) -> dict[str, Any]:
    return {"task_id": task_id, "status": "PENDING", "model_name": model, "gmt_create": created_ms}


def requests_to(mock: rm.Mocker, method: str, url: str) -> list[Any]:
    return [r for r in mock.request_history if r.method == method and r.url.split("?")[0] == url]


# -- reads: what is retried --------------------------------------------------------------------------

TRANSIENT_READ_FAILURES = [
    pytest.param(error(HTTPStatus.TOO_MANY_REQUESTS, "Throttling.RateQuota"), id="429"),
    pytest.param(error(HTTPStatus.INTERNAL_SERVER_ERROR, "InternalError"), id="500"),
    pytest.param(error(HTTPStatus.BAD_GATEWAY, "InternalError"), id="502"),
    pytest.param(error(HTTPStatus.SERVICE_UNAVAILABLE, "ModelUnavailable"), id="503"),
    pytest.param(error(HTTPStatus.GATEWAY_TIMEOUT, "GatewayTimeout"), id="504"),
    pytest.param({"exc": requests.ConnectionError("refused")}, id="connection-error"),
    pytest.param({"exc": requests.ConnectTimeout("connect timeout")}, id="connect-timeout"),
    pytest.param({"exc": requests.ReadTimeout("read timeout")}, id="read-timeout"),
    pytest.param({"status_code": HTTPStatus.OK, "text": "<html>gateway</html>"}, id="200-not-json"),
    pytest.param({"status_code": HTTPStatus.OK, "text": '{"output": {"task_'}, id="200-truncated-json"),
]


@pytest.mark.parametrize("failure", TRANSIENT_READ_FAILURES)
def test_query_retries_transient_failures(
    hook: QwenASRHook, sleeps: list[float], failure: dict[str, Any]
) -> None:
    with rm.Mocker() as mock:
        mock.get(QUERY_URL, [failure, failure, ok(task_body("RUNNING"))])
        task = hook.get_task(TASK)
    assert task.status is TaskStatus.RUNNING
    assert len(requests_to(mock, "GET", QUERY_URL)) == 3
    backoffs = backoff_sleeps(sleeps)
    assert len(backoffs) == 2
    assert all(s <= MAX_DELAY for s in backoffs if failure.get("status_code") != HTTPStatus.TOO_MANY_REQUESTS)


FUNASR = "fun-asr"


def finished_funasr(task_id: str, file_url: str) -> dict[str, Any]:
    return task_body(
        "SUCCEEDED",
        task_id=task_id,
        results=[{"file_url": file_url, "transcription_url": RESULT_URL, "subtask_status": "SUCCEEDED"}],
    )


@pytest.mark.parametrize(
    ("candidate_file", "ours"),
    [
        pytest.param("https://e.com/a.wav?X-Amz-Signature=first", True, id="the-url-sent"),
        pytest.param("https://e.com/a.wav?X-Amz-Signature=other", False, id="another-signing"),
        pytest.param("https://e.com/b.wav", False, id="another-file"),
    ],
)
def test_lost_submit_is_identified_by_its_input_file(
    hook: QwenASRHook, sleeps: list[float], candidate_file: str, ours: bool
) -> None:
    """A candidate that ended is ours exactly when it names the URL our submit sent."""
    now_ms = int(time.time() * 1000)
    with rm.Mocker() as mock:
        mock.post(SUBMIT_URL, [error(HTTPStatus.INTERNAL_SERVER_ERROR, "InternalError"), ok(task_body())])
        mock.get(LIST_URL, **list_page(list_item("cand", now_ms, model=FUNASR)))
        mock.get(f"{BASE}/tasks/cand", **ok(finished_funasr("cand", candidate_file)))
        task = hook.submit_transcription(FUNASR, file_url="https://e.com/a.wav?X-Amz-Signature=first")
    assert task.task_id == ("cand" if ours else TASK)
    assert len(requests_to(mock, "POST", SUBMIT_URL)) == (1 if ours else 2)


def test_lost_qwen3_submit_is_identified_by_its_result_document(
    hook: QwenASRHook, sleeps: list[float]
) -> None:
    """A Qwen3 query names no input file: the head of the result document does."""
    now_ms = int(time.time() * 1000)
    done = task_body("SUCCEEDED", task_id="cand", result={"transcription_url": RESULT_URL})
    with rm.Mocker() as mock:
        mock.post(SUBMIT_URL, [{"exc": requests.ConnectionError("reset")}])
        mock.get(LIST_URL, **list_page(list_item("cand", now_ms)))
        mock.get(f"{BASE}/tasks/cand", **ok(done))
        mock.get(RESULT_URL.split("?")[0], text='{"file_url": "https://e.com/a.wav", "transcripts": []}')
        task = hook.submit_transcription(QWEN3, file_url="https://e.com/a.wav")
    assert task.task_id == "cand"
    assert len(requests_to(mock, "POST", SUBMIT_URL)) == 1


def test_lost_submit_with_two_matching_candidates_is_undecided(
    hook: QwenASRHook, sleeps: list[float]
) -> None:
    """Two ended tasks naming our file cannot be told apart: name both, resend nothing."""
    now_ms = int(time.time() * 1000)
    with rm.Mocker() as mock:
        mock.post(SUBMIT_URL, [error(HTTPStatus.BAD_GATEWAY, "InternalError")])
        mock.get(LIST_URL, **list_page(list_item("c1", now_ms, FUNASR), list_item("c2", now_ms + 1, FUNASR)))
        for name in ("c1", "c2"):
            mock.get(f"{BASE}/tasks/{name}", **ok(finished_funasr(name, "https://e.com/a.wav")))
        with pytest.raises(QwenASRSubmitUnknownError) as caught:
            hook.submit_transcription(FUNASR, file_url="https://e.com/a.wav")
    assert "c1" in str(caught.value)
    assert "c2" in str(caught.value)
    assert len(requests_to(mock, "POST", SUBMIT_URL)) == 1


@pytest.mark.parametrize(
    ("failure", "cls"),
    [
        pytest.param(error(HTTPStatus.BAD_REQUEST, "InvalidParameter"), QwenASRApiError, id="400"),
        pytest.param(error(HTTPStatus.UNAUTHORIZED, "InvalidApiKey"), QwenASRAuthError, id="401"),
        pytest.param(error(HTTPStatus.FORBIDDEN, "AccessDenied"), QwenASRAuthError, id="403"),
        pytest.param(error(HTTPStatus.NOT_FOUND, "ModelNotFound"), QwenASRApiError, id="404"),
    ],
)
def test_query_does_not_retry_permanent_errors(
    hook: QwenASRHook, sleeps: list[float], failure: dict[str, Any], cls: type
) -> None:
    with rm.Mocker() as mock:
        mock.get(QUERY_URL, [failure])
        with pytest.raises(cls) as caught:
            hook.get_task(TASK)
    assert len(requests_to(mock, "GET", QUERY_URL)) == 1
    code = failure["json"]["code"]
    assert (caught.value.code, caught.value.task_id, caught.value.request_id) == (code, TASK, f"req-{code}")
    assert KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("failure", "cls"),
    [
        pytest.param(error(HTTPStatus.TOO_MANY_REQUESTS, "Throttling"), QwenASRThrottledError, id="429"),
        pytest.param(error(HTTPStatus.SERVICE_UNAVAILABLE, "ModelUnavailable"), QwenASRServerError, id="503"),
        pytest.param({"exc": requests.ConnectionError("boom")}, QwenASRConnectionError, id="connection"),
    ],
)
def test_query_gives_up_after_max_retries(
    hook: QwenASRHook, sleeps: list[float], failure: dict[str, Any], cls: type
) -> None:
    with rm.Mocker() as mock:
        mock.get(QUERY_URL, [failure])
        with pytest.raises(cls) as caught:
            hook.get_task(TASK)
    assert len(requests_to(mock, "GET", QUERY_URL)) == MAX_RETRIES + 1
    assert caught.value.task_id == TASK


def test_backoff_grows_and_stays_under_the_cap(hook: QwenASRHook, sleeps: list[float]) -> None:
    hook.max_retries = 6
    with rm.Mocker() as mock:
        mock.get(QUERY_URL, [error(HTTPStatus.BAD_GATEWAY, "InternalError")] * 6 + [ok(task_body())])
        hook.get_task(TASK)
    assert len(backoff_sleeps(sleeps)) == 6
    for attempt, delay in enumerate(backoff_sleeps(sleeps)):
        ceiling = min(MAX_DELAY, BASE_DELAY * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling


@pytest.mark.parametrize(
    ("retry_after", "minimum"),
    [pytest.param("2", 2.0, id="seconds"), pytest.param("0.5", 0.5, id="fraction")],
)
def test_query_honours_retry_after(
    hook: QwenASRHook, sleeps: list[float], retry_after: str, minimum: float
) -> None:
    """A 429's Retry-After is slept before the next query, even when backoff alone would be shorter."""
    throttled = error(
        HTTPStatus.TOO_MANY_REQUESTS, "Throttling.RateQuota", headers={"Retry-After": retry_after}
    )
    with rm.Mocker() as mock:
        mock.get(QUERY_URL, [throttled, ok(task_body())])
        hook.get_task(TASK)
    assert max(sleeps) >= minimum


def test_query_without_retry_after_uses_backoff_only(hook: QwenASRHook, sleeps: list[float]) -> None:
    with rm.Mocker() as mock:
        mock.get(QUERY_URL, [error(HTTPStatus.TOO_MANY_REQUESTS, "Throttling.RateQuota"), ok(task_body())])
        hook.get_task(TASK)
    assert sleeps
    assert max(sleeps) <= MAX_DELAY


def test_throttling_cuts_the_shared_budget(hook: QwenASRHook, sleeps: list[float]) -> None:
    with rm.Mocker() as mock:
        mock.get(QUERY_URL, [error(HTTPStatus.TOO_MANY_REQUESTS, "Throttling.RateQuota"), ok(task_body())])
        hook.get_task(TASK)
    budget = hook._budget(hook.settings)
    assert budget.counters.throttled == 1
    assert budget.rate < budget.ceiling


def test_200_with_gateway_code_is_an_error(hook: QwenASRHook, sleeps: list[float]) -> None:
    with rm.Mocker() as mock:
        mock.get(QUERY_URL, [ok({"code": "InvalidParameter", "message": "bad", "request_id": "r-gw"})])
        with pytest.raises(QwenASRApiError, match="r-gw"):
            hook.get_task(TASK)


def test_invalid_task_id_sends_nothing(hook: QwenASRHook) -> None:
    with rm.Mocker() as mock, pytest.raises(QwenASRInputError):
        hook.get_task("../../etc")
    assert mock.call_count == 0


# -- headers and timeouts ---------------------------------------------------------------------------


def test_query_headers_and_timeout(hook: QwenASRHook) -> None:
    with rm.Mocker() as mock:
        mock.get(QUERY_URL, **ok(task_body()))
        hook.get_task(TASK)
    sent = mock.last_request
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert "Content-Type" not in sent.headers
    assert sent.timeout == TIMEOUT


def test_submit_headers_body_and_timeout(hook: QwenASRHook) -> None:
    with rm.Mocker() as mock:
        mock.post(SUBMIT_URL, **ok(task_body()))
        hook.submit_transcription(QWEN3, file_url="https://e.com/a b.wav", parameters={"language": "en"})
    sent = mock.last_request
    assert sent.headers["X-DashScope-Async"] == "enable"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.json() == {
        "model": QWEN3,
        "input": {"file_url": "https://e.com/a%20b.wav"},
        "parameters": {"language": "en"},
    }
    assert sent.timeout == TIMEOUT


def test_connection_read_timeout_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``timeout=``, requests use the connection's ``read_timeout``; with it, the argument."""
    conn = connection_json(BASE, KEY, query_qps=1_000_000, read_timeout=4)
    monkeypatch.setenv("AIRFLOW_CONN_QWEN_ASR_DEFAULT", conn)
    reset_budgets()
    with rm.Mocker() as mock:
        mock.get(QUERY_URL, **ok(task_body()))
        QwenASRHook().get_task(TASK)
        assert mock.last_request.timeout == (10.0, 4.0)
        QwenASRHook(timeout=TIMEOUT).get_task(TASK)
        assert mock.last_request.timeout == TIMEOUT
    monkeypatch.setenv("AIRFLOW_CONN_QWEN_ASR_DEFAULT", connection_json(BASE, KEY, query_qps=1_000_000))
    with rm.Mocker() as mock:
        mock.get(QUERY_URL, **ok(task_body()))
        QwenASRHook().get_task(TASK)
        assert mock.last_request.timeout == (10.0, 60.0)


def test_lost_submit_settles_within_twice_the_read_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The window in which a lost submit may still create its task follows the read timeout."""
    conn = connection_json(BASE, KEY, query_qps=1_000_000, read_timeout=4)
    monkeypatch.setenv("AIRFLOW_CONN_QWEN_ASR_DEFAULT", conn)
    attempts: list[SubmitAttempt] = []
    with rm.Mocker() as mock:
        mock.post(SUBMIT_URL, **ok(task_body()))
        QwenASRHook().submit_transcription(QWEN3, file_url="https://e.com/a.wav", on_attempt=attempts.append)
    [attempt] = attempts
    assert attempt.settle_by - attempt.started == pytest.approx(2 * 4 + LIST_LAG)


def test_oss_url_asks_resolution(hook: QwenASRHook) -> None:
    with rm.Mocker() as mock:
        mock.post(SUBMIT_URL, **ok(task_body()))
        hook.submit_transcription(QWEN3, file_url="oss://dir/a.wav")
    assert mock.last_request.headers["X-DashScope-OssResourceResolve"] == "enable"


# -- submit: never blindly retried ---------------------------------------------------------------


def test_submit_retries_429_without_listing(hook: QwenASRHook, sleeps: list[float]) -> None:
    """A 429 means the service refused the submit: nothing billed, so sending it again is safe."""
    throttled = error(HTTPStatus.TOO_MANY_REQUESTS, "Throttling", headers={"Retry-After": "1.5"})
    with rm.Mocker() as mock:
        mock.post(SUBMIT_URL, [throttled, throttled, ok(task_body())])
        task = hook.submit_transcription(QWEN3, file_url="https://e.com/a.wav")
    assert task.task_id == TASK
    assert len(requests_to(mock, "POST", SUBMIT_URL)) == 3
    assert not requests_to(mock, "GET", LIST_URL)
    assert sleeps.count(1.5) == 2


def test_submit_429_gives_up_after_max_retries(hook: QwenASRHook, sleeps: list[float]) -> None:
    with rm.Mocker() as mock:
        mock.post(SUBMIT_URL, [error(HTTPStatus.TOO_MANY_REQUESTS, "Throttling")])
        with pytest.raises(QwenASRThrottledError):
            hook.submit_transcription(QWEN3, file_url="https://e.com/a.wav")
    assert len(requests_to(mock, "POST", SUBMIT_URL)) == MAX_RETRIES + 1


@pytest.mark.parametrize(
    ("failure", "list_reads"),
    [
        pytest.param(error(HTTPStatus.INTERNAL_SERVER_ERROR, "InternalError"), 1, id="500"),
        pytest.param(error(HTTPStatus.SERVICE_UNAVAILABLE, "ModelUnavailable"), 1, id="503"),
        pytest.param({"exc": requests.ConnectionError("reset")}, 1, id="connection"),
        pytest.param({"exc": requests.ReadTimeout("slow")}, 1, id="read-timeout"),
        pytest.param({"status_code": HTTPStatus.OK, "text": "<html/>"}, 1, id="not-json"),
    ],
)
def test_submit_unknown_outcome_with_no_new_task_is_sent_again(
    hook: QwenASRHook, sleeps: list[float], failure: dict[str, Any], list_reads: int
) -> None:
    """Unknown outcome, and the task list shows no task of this model since the submit: resend once.

    The list is read once, after the service has settled (with no answer, twice the read timeout:
    the service may still be creating the task).
    """
    with rm.Mocker() as mock:
        mock.post(SUBMIT_URL, [failure, ok(task_body())])
        mock.get(LIST_URL, **list_page())
        task = hook.submit_transcription(QWEN3, file_url="https://e.com/a.wav")
    assert task.task_id == TASK
    assert len(requests_to(mock, "POST", SUBMIT_URL)) == 2
    listed = requests_to(mock, "GET", LIST_URL)
    assert len(listed) == list_reads
    assert listed[0].qs["model_name"] == [QWEN3]


def test_submit_unknown_outcome_with_a_new_task_is_not_sent_again(
    hook: QwenASRHook, sleeps: list[float]
) -> None:
    """A task of this model created since the submit began, still running (so naming no input file
    yet) when ``identify_timeout`` ends, may be ours: raise naming it, never resend."""
    now_ms = int(time.time() * 1000)
    with rm.Mocker() as mock:
        mock.post(SUBMIT_URL, [{"exc": requests.ReadTimeout("slow")}])
        mock.get(LIST_URL, **list_page(list_item("task-maybe-ours", now_ms)))
        mock.get(f"{BASE}/tasks/task-maybe-ours", **ok(task_body("RUNNING", task_id="task-maybe-ours")))
        with pytest.raises(QwenASRSubmitUnknownError) as caught:
            hook.submit_transcription(QWEN3, file_url="https://e.com/a.wav")
    assert "task-maybe-ours" in str(caught.value)
    assert caught.value.hint
    assert "asr_task_id" in caught.value.hint
    assert len(requests_to(mock, "POST", SUBMIT_URL)) == 1


def test_submit_reconciliation_ignores_older_tasks(hook: QwenASRHook, sleeps: list[float]) -> None:
    """Tasks created well before the submit began are not candidates."""
    long_ago_ms = int((time.time() - 3600) * 1000)
    with rm.Mocker() as mock:
        mock.post(SUBMIT_URL, [error(HTTPStatus.BAD_GATEWAY, "InternalError"), ok(task_body())])
        mock.get(LIST_URL, **list_page(list_item("old-task", long_ago_ms)))
        assert hook.submit_transcription(QWEN3, file_url="https://e.com/a.wav").task_id == TASK


def test_submit_reconciliation_that_cannot_list_raises_unknown(
    hook: QwenASRHook, sleeps: list[float]
) -> None:
    with rm.Mocker() as mock:
        mock.post(SUBMIT_URL, [{"exc": requests.ConnectionError("reset")}])
        mock.get(LIST_URL, [error(HTTPStatus.UNAUTHORIZED, "InvalidApiKey")])
        with pytest.raises(QwenASRSubmitUnknownError, match="could not be read"):
            hook.submit_transcription(QWEN3, file_url="https://e.com/a.wav")
    assert len(requests_to(mock, "POST", SUBMIT_URL)) == 1


def test_submit_reconciliation_reads_every_page(hook: QwenASRHook, sleeps: list[float]) -> None:
    now_ms = int(time.time() * 1000)
    page1 = ok(
        {
            "total": 101,
            "total_page": 2,
            "page_no": 1,
            "page_size": 100,
            "data": [list_item("old", now_ms - 10**8)] * 100,
        }
    )
    page2 = ok(
        {
            "total": 101,
            "total_page": 2,
            "page_no": 2,
            "page_size": 100,
            "data": [list_item("new-one", now_ms)],
        }
    )
    with rm.Mocker() as mock:
        mock.post(SUBMIT_URL, [error(HTTPStatus.INTERNAL_SERVER_ERROR, "InternalError")])
        mock.get(LIST_URL, [page1, page2])
        mock.get(f"{BASE}/tasks/new-one", **ok(task_body("PENDING", task_id="new-one")))
        with pytest.raises(QwenASRSubmitUnknownError, match="new-one"):
            hook.submit_transcription(QWEN3, file_url="https://e.com/a.wav")
    assert [r.qs["page_no"] for r in requests_to(mock, "GET", LIST_URL)] == [["1"], ["2"]]


@pytest.mark.parametrize(
    ("failure", "cls"),
    [
        pytest.param(error(HTTPStatus.BAD_REQUEST, "InvalidParameter"), QwenASRApiError, id="400"),
        pytest.param(error(HTTPStatus.UNAUTHORIZED, "InvalidApiKey"), QwenASRAuthError, id="401"),
        pytest.param(error(HTTPStatus.FORBIDDEN, "Model.AccessDenied"), QwenASRAuthError, id="403"),
    ],
)
def test_submit_refused_is_not_retried(
    hook: QwenASRHook, sleeps: list[float], failure: dict[str, Any], cls: type
) -> None:
    with rm.Mocker() as mock:
        mock.post(SUBMIT_URL, [failure])
        with pytest.raises(cls) as caught:
            hook.submit_transcription(QWEN3, file_url="https://e.com/a.wav")
    assert mock.call_count == 1
    assert caught.value.request_id == f"req-{failure['json']['code']}"


def test_submit_bad_input_sends_nothing(hook: QwenASRHook) -> None:
    with rm.Mocker() as mock, pytest.raises(QwenASRInputError):
        hook.submit_transcription(QWEN3, file_url="file:///tmp/a.wav")
    assert mock.call_count == 0


# -- cancel, list, test_connection ----------------------------------------------------------------


def test_cancel_pending(hook: QwenASRHook) -> None:
    with rm.Mocker() as mock:
        mock.post(CANCEL_URL, **ok({"request_id": "r"}))
        assert hook.cancel_task(TASK) is True
    assert mock.last_request.body is None
    assert "Content-Type" not in mock.last_request.headers


@pytest.mark.parametrize(
    ("status", "canceled"),
    [
        pytest.param("RUNNING", False, id="running"),
        pytest.param("SUCCEEDED", False, id="finished"),
        pytest.param("CANCELED", True, id="already-canceled"),
    ],
)
def test_cancel_not_pending_reports_whether_the_task_is_canceled(
    hook: QwenASRHook, status: str, canceled: bool
) -> None:
    """UnsupportedOperation: the task is looked up, so a cancel whose answer was lost counts."""
    with rm.Mocker() as mock:
        mock.post(CANCEL_URL, **error(HTTPStatus.BAD_REQUEST, "UnsupportedOperation"))
        mock.get(QUERY_URL, **ok(task_body(status)))
        assert hook.cancel_task(TASK) is canceled


def test_cancel_other_errors_raise(hook: QwenASRHook) -> None:
    with rm.Mocker() as mock:
        mock.post(CANCEL_URL, **error(HTTPStatus.UNAUTHORIZED, "InvalidApiKey"))
        with pytest.raises(QwenASRAuthError):
            hook.cancel_task(TASK)


def test_list_params_are_service_time(hook: QwenASRHook) -> None:
    """The list window is sent as ``YYYYMMDDhhmmss`` in UTC+8, DashScope's zone."""
    from datetime import datetime, timezone

    with rm.Mocker() as mock:
        mock.get(LIST_URL, **list_page())
        hook.list_tasks(
            start_time=datetime(2025, 1, 1, 0, 0, tzinfo=timezone.utc),
            end_time=datetime(2025, 1, 1, 12, 30),
            status="SUCCEEDED",
            page_size=5,
        )
    qs = mock.last_request.qs
    assert qs["start_time"] == ["20250101080000"]
    assert qs["end_time"] == ["20250101203000"]
    assert qs["status"] == ["succeeded"] or qs["status"] == ["SUCCEEDED"]
    assert qs["page_size"] == ["5"]


@pytest.mark.parametrize(
    ("answer", "ok_expected"),
    [
        pytest.param(list_page(), True, id="ok"),
        pytest.param(error(HTTPStatus.UNAUTHORIZED, "InvalidApiKey"), False, id="401"),
    ],
)
def test_test_connection(hook: QwenASRHook, answer: dict[str, Any], ok_expected: bool) -> None:
    with rm.Mocker() as mock:
        mock.get(LIST_URL, **answer)
        good, message = hook.test_connection()
    assert good is ok_expected
    assert KEY not in message
    if not good:
        assert "InvalidApiKey" in message


# -- result downloads --------------------------------------------------------------------------------


def test_download_sends_no_authorization_and_passes_timeout(hook: QwenASRHook) -> None:
    """The signed URL is its own credential; the API key must never travel to the storage host."""
    document = json.dumps({"transcripts": []}).encode()
    with rm.Mocker() as mock:
        mock.get(RESULT_URL, content=document, headers={"Content-Length": str(len(document))})
        sink = io.BytesIO()
        assert hook.download_result(RESULT_URL, sink) == len(document)
    assert sink.getvalue() == document
    assert "Authorization" not in mock.last_request.headers
    assert mock.last_request.timeout == TIMEOUT
    assert mock.last_request.stream is True


def test_download_403_is_a_result_error_without_signature(hook: QwenASRHook, sleeps: list[float]) -> None:
    xml = b"<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>Expired.</Message></Error>"
    with rm.Mocker() as mock:
        mock.get(RESULT_URL, status_code=HTTPStatus.FORBIDDEN, content=xml)
        with pytest.raises(QwenASRResultError) as caught:
            hook.download_result(RESULT_URL, io.BytesIO())
    assert mock.call_count == 1
    assert caught.value.code == "AccessDenied"
    assert "Signature" not in str(caught.value)
    assert "c2lnbmF0dXJl" not in str(caught.value)
    assert "/results/r.json" in str(caught.value)


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param({"status_code": HTTPStatus.SERVICE_UNAVAILABLE, "text": "busy"}, id="503"),
        pytest.param({"status_code": HTTPStatus.TOO_MANY_REQUESTS, "text": "slow down"}, id="429"),
        pytest.param({"exc": requests.ConnectionError(f"cannot reach {RESULT_URL}")}, id="connection"),
    ],
)
def test_download_retries_transient_failures_from_scratch(
    hook: QwenASRHook, sleeps: list[float], failure: dict[str, Any]
) -> None:
    with rm.Mocker() as mock:
        mock.get(RESULT_URL, [failure, {"status_code": HTTPStatus.OK, "content": b"{}"}])
        sink = io.BytesIO(b"stale bytes from an earlier attempt")
        assert hook.download_result(RESULT_URL, sink) == 2
    assert sink.getvalue() == b"{}"
    assert mock.call_count == 2


def test_download_connection_error_hides_the_signature(hook: QwenASRHook, sleeps: list[float]) -> None:
    """requests puts the full URL in its exception text; the hook must not pass it on."""
    with rm.Mocker() as mock:
        mock.get(RESULT_URL, exc=requests.ConnectionError(f"Max retries exceeded with url: {RESULT_URL}"))
        with pytest.raises(QwenASRConnectionError) as caught:
            hook.download_result(RESULT_URL, io.BytesIO())
    assert "Signature" not in str(caught.value)
    assert caught.value.__cause__ is None or "Signature" not in str(caught.value.__cause__)


def test_download_refuses_a_file_announced_over_the_limit(hook: QwenASRHook) -> None:
    with rm.Mocker() as mock:
        mock.get(RESULT_URL, content=b"x" * 10, headers={"Content-Length": "10"})
        with pytest.raises(QwenASRResultError, match="over the limit"):
            hook.download_result(RESULT_URL, io.BytesIO(), max_bytes=5)


def test_download_refuses_a_file_streamed_over_the_limit(hook: QwenASRHook) -> None:
    """Without a Content-Length the limit is enforced while streaming."""
    with rm.Mocker() as mock:
        mock.get(RESULT_URL, body=io.BytesIO(b"x" * 10))
        with pytest.raises(QwenASRResultError, match="over the limit"):
            hook.download_result(RESULT_URL, io.BytesIO(), max_bytes=5)
