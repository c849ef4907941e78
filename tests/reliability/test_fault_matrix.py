"""The fault matrix: every operation of the sync hook under every fault, against the emulator.

One table, :data:`CELLS`, says what each cell must do; :func:`test_fault_matrix` runs each row as
its own test (``test_fault_matrix[<operation>-<fault>]``), and docs/reliability.md carries the same
table, checked by :func:`test_reliability_doc_matches_the_table` so the two never drift. To rewrite
the doc after changing the table::

    QWENASR_WRITE_RELIABILITY_DOC=1 .venv/bin/pytest tests/reliability/test_fault_matrix.py -k doc

Outcomes are observed, never assumed: a "recovered" cell checks the emulator's request log (the
faulted requests, then a success) and, for submit, that exactly one task exists; a failing cell
checks the exception class, that its message names the task id / DashScope code / request_id, and
that it never holds the API key or a signed URL's ``Signature=``. Retry-After is checked through the
sleeps the hook asks for (recorded on the test's thread), not through wall-clock timing.
"""

from __future__ import annotations

import enum
import io
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from airflow_provider_qwenasr.emulator import EmulatorConfig, EmulatorServer
from airflow_provider_qwenasr.exceptions import (
    QwenASRAuthError,
    QwenASRConnectionError,
    QwenASRError,
    QwenASRResultError,
    QwenASRTaskExpiredError,
    QwenASRTaskFailedError,
)
from airflow_provider_qwenasr.hooks.qwen_asr import QwenASRHook
from airflow_provider_qwenasr.models import TaskStatus, Transcription
from airflow_provider_qwenasr.rate import reset_budgets
from airflow_provider_qwenasr.waiting import outcome_error
from tests.conftest import EMULATOR_API_KEY, connection_json

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
START, END = "<!-- fault-matrix:start -->", "<!-- fault-matrix:end -->"

QWEN3 = "qwen3-asr-flash-filetrans"
AUDIO = "https://example.com/meeting.wav"
#: Kept PENDING for a minute by the emulator, so it can be canceled.
PENDING_AUDIO = "https://example.com/pending.wav?pending_seconds=60"
MAX_RETRIES = 3
MAX_DELAY = 0.05
READ_TIMEOUT = 0.5
#: How long a "read timeout" fault holds the answer back: well past the hook's read timeout.
LATENCY = 1.2
RETRY_AFTER = 0.2
#: Every documented code of a FAILED task (dashscope-api.md, section 2).
FAILED_CODES = (
    "FILE_403_FORBIDDEN",
    "FILE_404_NOT_FOUND",
    "FILE_DOWNLOAD_FAILED",
    "AUDIO_DURATION_TOO_LONG",
    "DECODE_ERROR",
    "SUCCESS_WITH_NO_VALID_FRAGMENT",
    "InvalidFile.DownloadFailed",
    "InvalidFile.DecodeFailed",
)


class Expect(enum.Enum):
    """What a cell must end in."""

    RECOVERED = "recovered"  # retried (or reconciled), then succeeded
    RAISES = "raises"  # failed with ``Cell.error``
    RETURNS_FALSE = "returns-false"  # cancel_task answered False
    DELIVERED = "delivered"  # the download handed the bytes over unchanged


@dataclass(frozen=True)
class Fault:
    """How a fault is injected, and how it reads in the doc."""

    label: str
    kind: str | None = None  # an emulator fault kind; None: set up by the test (refused, states)
    status: int | None = None
    retry_after: float | None = None
    count: int = 1
    acted: bool | None = None  # the service handled the request before the fault (emulator's process_request)


FAULTS: dict[str, Fault] = {
    "429-retry-after": Fault(f"429 with `Retry-After: {RETRY_AFTER:g}`", "status", 429, RETRY_AFTER, count=2),
    "429": Fault("429 without `Retry-After`", "status", 429, count=2),
    "500": Fault("500 `InternalError`", "status", 500, count=2),
    "500-acted": Fault("500 after the service created the task", "status", 500, acted=True),
    "502": Fault("502", "status", 502, count=2),
    "503": Fault("503 `ModelUnavailable`", "status", 503, count=2),
    "refused": Fault("connection refused (closed port)"),
    "reset": Fault("connection reset mid-response", "reset"),
    "reset-acted": Fault("connection reset mid-response, after the service acted", "reset", acted=True),
    "read-timeout": Fault(f"read timeout (answer {LATENCY:g} s late, timeout {READ_TIMEOUT:g} s)", "latency"),
    "truncated": Fault("truncated body", "truncate"),
    "truncated-acted": Fault("truncated body, after the service acted", "truncate", acted=True),
    "invalid-json": Fault("200 with a body that is not JSON", "invalid_json"),
    "401": Fault("401 `InvalidApiKey`", "status", 401, count=-1),
    "403": Fault("403 `AccessDenied`", "status", 403, count=-1),
    "403-expired": Fault("403 on the result URL (expired link)"),
    "unknown": Fault("task `UNKNOWN` (past 24 h retention)"),
    "failed": Fault("task `FAILED`"),
    **{f"failed-{code}": Fault(f"task `FAILED` with `{code}`") for code in FAILED_CODES},
}


@dataclass(frozen=True)
class Cell:
    """One row of the matrix: an operation under a fault, and what must happen."""

    operation: str  # submit | query | cancel | result
    fault: str  # a key of FAULTS
    expect: Expect
    outcome: str  # the documented outcome, as the doc shows it
    error: type[QwenASRError] | None = None
    bug: str | None = None  # a known provider bug: the test is xfail(strict) until fixed

    @property
    def id(self) -> str:
        return f"{self.operation}-{self.fault}"


R, F, X, D = Expect.RECOVERED, Expect.RAISES, Expect.RETURNS_FALSE, Expect.DELIVERED
_RETRIED = "retried with backoff, then succeeded"
_RA = "retried after at least `Retry-After`, then succeeded"
_FAST = "retried after backoff only (no invented wait), then succeeded"
_RECONCILED = "task list shows no new task, so sent again once: succeeded, exactly one task"
_IDENTIFIED = (
    "task list shows the new task; once it ends, its input file proves it ours: continued with it, "
    "not resent; exactly one task"
)
_GAVE_UP = f"`QwenASRConnectionError` after {MAX_RETRIES + 1} attempts"

#: THE table. Each row is a test and a line of docs/reliability.md.
CELLS: tuple[Cell, ...] = (
    # -- submit: billed, no idempotency key, never resent blindly --------------------------------
    Cell("submit", "429-retry-after", R, "refused by the service, so " + _RA + "; exactly one task"),
    Cell("submit", "429", R, "refused by the service, so " + _FAST + "; exactly one task"),
    Cell("submit", "500", R, _RECONCILED),
    Cell("submit", "502", R, _RECONCILED),
    Cell("submit", "503", R, _RECONCILED),
    Cell("submit", "500-acted", R, _IDENTIFIED),
    Cell(
        "submit",
        "refused",
        F,
        "never reached the service, so sent again with backoff; " + _GAVE_UP + "; no task",
        QwenASRConnectionError,
    ),
    Cell("submit", "reset-acted", R, _IDENTIFIED),
    Cell(
        "submit",
        "read-timeout",
        R,
        "the service creates the task after the client gave up: " + _IDENTIFIED,
    ),
    Cell("submit", "truncated-acted", R, _IDENTIFIED),
    Cell("submit", "invalid-json", R, "gateway page, service not reached: " + _RECONCILED),
    Cell("submit", "401", F, "`QwenASRAuthError` (code, request_id), not retried, no task", QwenASRAuthError),
    Cell("submit", "403", F, "`QwenASRAuthError` (code, request_id), not retried, no task", QwenASRAuthError),
    # -- query -------------------------------------------------------------------------------------
    Cell("query", "429-retry-after", R, _RA),
    Cell("query", "429", R, _FAST),
    Cell("query", "500", R, _RETRIED),
    Cell("query", "502", R, _RETRIED),
    Cell("query", "503", R, _RETRIED),
    Cell("query", "refused", F, _GAVE_UP + ", naming the task", QwenASRConnectionError),
    Cell("query", "reset", R, _RETRIED),
    Cell("query", "read-timeout", R, _RETRIED),
    Cell("query", "truncated", R, _RETRIED),
    Cell("query", "invalid-json", R, _RETRIED),
    Cell("query", "401", F, "`QwenASRAuthError` (task id, code, request_id), not retried", QwenASRAuthError),
    Cell("query", "403", F, "`QwenASRAuthError` (task id, code, request_id), not retried", QwenASRAuthError),
    Cell(
        "query",
        "unknown",
        F,
        "status `UNKNOWN` returned; as an outcome `QwenASRTaskExpiredError`",
        QwenASRTaskExpiredError,
    ),
    *(
        Cell(
            "query",
            f"failed-{code}",
            F,
            f"status `FAILED`; as an outcome `QwenASRTaskFailedError` with `{code}` and a hint",
            QwenASRTaskFailedError,
        )
        for code in FAILED_CODES
    ),
    # -- cancel ------------------------------------------------------------------------------------
    Cell("cancel", "429-retry-after", R, _RA + "; task CANCELED"),
    Cell("cancel", "429", R, _FAST + "; task CANCELED"),
    Cell("cancel", "500", R, _RETRIED + "; task CANCELED"),
    Cell("cancel", "502", R, _RETRIED + "; task CANCELED"),
    Cell("cancel", "503", R, _RETRIED + "; task CANCELED"),
    Cell("cancel", "refused", F, _GAVE_UP + ", naming the task", QwenASRConnectionError),
    Cell("cancel", "reset", R, _RETRIED + "; task CANCELED"),
    Cell(
        "cancel",
        "reset-acted",
        R,
        "the retry finds the task CANCELED by the lost first attempt: reported as canceled (True)",
    ),
    Cell("cancel", "read-timeout", R, _RETRIED + "; task CANCELED"),
    Cell("cancel", "truncated", R, _RETRIED + "; task CANCELED"),
    Cell("cancel", "invalid-json", R, _RETRIED + "; task CANCELED"),
    Cell("cancel", "401", F, "`QwenASRAuthError` (task id, code, request_id), not retried", QwenASRAuthError),
    Cell("cancel", "403", F, "`QwenASRAuthError` (task id, code, request_id), not retried", QwenASRAuthError),
    Cell("cancel", "unknown", X, "`False`: not PENDING (400 `UnsupportedOperation`), no error"),
    Cell("cancel", "failed", X, "`False`: not PENDING (400 `UnsupportedOperation`), no error"),
    # -- result download (the signed URL, no Authorization header) -------------------------------
    Cell(
        "result",
        "429-retry-after",
        R,
        _RA,
    ),
    Cell("result", "429", R, _FAST),
    Cell("result", "500", R, "download restarted from the first byte, then succeeded"),
    Cell("result", "502", R, "download restarted from the first byte, then succeeded"),
    Cell("result", "503", R, "download restarted from the first byte, then succeeded"),
    Cell(
        "result",
        "refused",
        F,
        _GAVE_UP + "; the message shows the URL without its query",
        QwenASRConnectionError,
    ),
    Cell("result", "reset", R, "download restarted from the first byte, then succeeded"),
    Cell("result", "read-timeout", R, "download restarted from the first byte, then succeeded"),
    Cell("result", "truncated", R, "short body detected, download restarted, then succeeded"),
    Cell("result", "invalid-json", D, "bytes handed over unchanged (the parser judges them), not retried"),
    Cell("result", "401", F, "`QwenASRResultError`, not retried", QwenASRResultError),
    Cell(
        "result",
        "403-expired",
        F,
        "`QwenASRResultError` `AccessDenied`: the link expired and cannot be renewed; not retried",
        QwenASRResultError,
    ),
    Cell(
        "result",
        "unknown",
        F,
        "the re-query answers `UNKNOWN`: no download attempted, `QwenASRTaskExpiredError`",
        QwenASRTaskExpiredError,
    ),
)


# -- the doc ---------------------------------------------------------------------------------------


def render_table(cells: tuple[Cell, ...] = CELLS) -> str:
    """The markdown table of docs/reliability.md, from :data:`CELLS`."""
    lines = ["| Operation | Fault | Expected outcome | Test |", "|---|---|---|---|"]
    for cell in cells:
        outcome = cell.outcome + (f" — **known bug**: {cell.bug}" if cell.bug else "")
        lines.append(
            f"| {cell.operation} | {FAULTS[cell.fault].label} | {outcome} | `test_fault_matrix[{cell.id}]` |"
        )
    return "\n".join(lines)


def test_every_cell_is_unique_and_uses_a_known_fault() -> None:
    ids = [cell.id for cell in CELLS]
    assert len(ids) == len(set(ids))
    assert {cell.fault for cell in CELLS} <= set(FAULTS)
    for cell in CELLS:
        assert (cell.error is not None) is (cell.expect is Expect.RAISES), cell.id
    for operation in ("submit", "query", "cancel", "result"):
        faults = {cell.fault.removesuffix("-acted") for cell in CELLS if cell.operation == operation}
        required = {
            "429-retry-after",
            "429",
            "500",
            "502",
            "503",
            "refused",
            "reset",
            "read-timeout",
            "truncated",
            "invalid-json",
            "401",
        }
        assert required <= faults, (operation, required - faults)


def test_reliability_doc_matches_the_table() -> None:
    """docs/reliability.md shows exactly :data:`CELLS`; set QWENASR_WRITE_RELIABILITY_DOC=1 to rewrite it."""
    table = render_table()
    text = DOC.read_text(encoding="utf-8")
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    assert before, f"{DOC} lacks the {START} marker"
    assert rest, f"{DOC} lacks the {END} marker"
    if os.environ.get("QWENASR_WRITE_RELIABILITY_DOC"):
        DOC.write_text(f"{before}{START}\n{table}\n{END}{after}", encoding="utf-8")
        text = DOC.read_text(encoding="utf-8")
    current = text.partition(START)[2].partition(END)[0].strip()
    assert current == table, "docs/reliability.md is out of date; rerun with QWENASR_WRITE_RELIABILITY_DOC=1"


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """The emulator with a very short task lifecycle (overrides the conftest fixture)."""
    config = EmulatorConfig(
        api_keys=(EMULATOR_API_KEY,), pending_seconds=0.05, running_seconds=0.1, query_qps=0
    )
    server = EmulatorServer(config, host="127.0.0.1", port=0).start()
    try:
        yield server
    finally:
        server.stop()


def make_hook(conn_id: str) -> QwenASRHook:
    return QwenASRHook(
        conn_id,
        max_retries=MAX_RETRIES,
        retry_base_delay=0.01,
        retry_max_delay=MAX_DELAY,
        timeout=(1.0, READ_TIMEOUT),
    )


@pytest.fixture
def hook(qwen_conn: str) -> Iterator[QwenASRHook]:
    hook = make_hook(qwen_conn)
    yield hook
    hook.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def refused_hook(closed_port: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[QwenASRHook]:
    reset_budgets()
    monkeypatch.setenv("AIRFLOW_CONN_QWEN_REFUSED", connection_json(f"http://127.0.0.1:{closed_port}/api/v1"))
    hook = make_hook("qwen_refused")
    yield hook
    hook.close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The sleeps the test's thread asks for (still slept); the emulator's own threads are left alone."""
    recorded: list[float] = []
    real_sleep = time.sleep
    test_thread = threading.get_ident()

    def sleep(seconds: float) -> None:
        if threading.get_ident() == test_thread:
            recorded.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    return recorded


# -- the runner ------------------------------------------------------------------------------------


@dataclass
class Context:
    """What one cell's run sees."""

    cell: Cell
    emulator: EmulatorServer
    hook: QwenASRHook
    refused_hook: QwenASRHook
    closed_port: int
    sleeps: list[float]
    task_id: str | None = None
    #: A signed URL: kept out of ``repr`` so a failing assertion never prints its signature.
    url: str | None = field(default=None, repr=False)

    @property
    def fault(self) -> Fault:
        return FAULTS[self.cell.fault]

    def arm(self, endpoint: str) -> None:
        """Inject the cell's fault on ``endpoint``; sleeps are recorded from here on."""
        self.sleeps.clear()
        fault = self.fault
        if fault.kind is None:
            return
        options: dict[str, Any] = {"count": fault.count}
        if fault.status is not None:
            options["status"] = fault.status
        if fault.retry_after is not None:
            options["retry_after"] = fault.retry_after
        if fault.kind == "latency":
            options["delay_seconds"] = LATENCY
        if fault.acted is not None:
            options["process_request"] = fault.acted
        self.emulator.backend.faults.add(endpoint, fault.kind, **options)

    def log(self, endpoint: str) -> list[dict[str, Any]]:
        return self.emulator.backend.requests.entries(endpoint)


def finished_task(hook: QwenASRHook, audio: str = AUDIO, model: str = QWEN3) -> str:
    task = hook.submit_transcription(model, file_url=audio)
    deadline = time.time() + 10
    while not hook.get_task(task.task_id).is_terminal:
        assert time.time() < deadline
        time.sleep(0.03)
    return task.task_id


def act_submit(ctx: Context) -> object:
    ctx.arm("submit")
    hook = ctx.refused_hook if ctx.cell.fault == "refused" else ctx.hook
    return hook.submit_transcription(QWEN3, file_url=AUDIO)


def act_query(ctx: Context) -> object:
    fault = ctx.cell.fault
    if fault.startswith("failed-"):
        code = fault.removeprefix("failed-")
        model = "fun-asr" if code.startswith("InvalidFile") else QWEN3
        ctx.task_id = finished_task(ctx.hook, f"{AUDIO}?fail={code}", model)
    else:
        ctx.task_id = ctx.hook.submit_transcription(QWEN3, file_url=AUDIO).task_id
    if fault == "unknown":
        ctx.emulator.backend.clock.advance(25 * 3600)
    ctx.emulator.backend.requests.clear()
    ctx.arm("query")
    hook = ctx.refused_hook if fault == "refused" else ctx.hook
    task = hook.get_task(ctx.task_id)
    error = outcome_error(task)
    if error is not None:
        raise error
    return task


def act_cancel(ctx: Context) -> object:
    fault = ctx.cell.fault
    if fault == "failed":
        ctx.task_id = finished_task(ctx.hook, f"{AUDIO}?fail=FILE_404_NOT_FOUND")
    else:
        ctx.task_id = ctx.hook.submit_transcription(QWEN3, file_url=PENDING_AUDIO).task_id
    if fault == "unknown":
        ctx.task_id = "00000000-0000-0000-0000-000000000000"
    ctx.emulator.backend.requests.clear()
    ctx.arm("cancel")
    hook = ctx.refused_hook if fault == "refused" else ctx.hook
    return hook.cancel_task(ctx.task_id)


def act_result(ctx: Context) -> object:
    fault = ctx.cell.fault
    ctx.task_id = finished_task(ctx.hook)
    if fault == "unknown":
        ctx.emulator.backend.clock.advance(25 * 3600)
    task = ctx.hook.get_task(ctx.task_id)
    if not task.succeeded_files:
        error = outcome_error(task)
        assert error is not None
        raise error
    url = task.succeeded_files[0].transcription_url or ""
    if fault == "403-expired":
        ctx.emulator.backend.clock.advance(25 * 3600)
    if fault == "refused":
        parts = urlsplit(url)
        url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{ctx.closed_port}"))
    ctx.url = url
    ctx.emulator.backend.requests.clear()
    ctx.arm("result")
    sink = io.BytesIO(b"left over from an earlier attempt")
    ctx.hook.download_result(url, sink)
    return sink.getvalue()


ACTIONS: dict[str, Callable[[Context], object]] = {
    "submit": act_submit,
    "query": act_query,
    "cancel": act_cancel,
    "result": act_result,
}


def wait_for_requests(ctx: Context, endpoint: str, count: int) -> None:
    """Wait until the emulator logged ``count`` requests to ``endpoint`` (a late one is still running)."""
    deadline = time.monotonic() + LATENCY + 3
    while len(ctx.log(endpoint)) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def check_recovered(ctx: Context, value: object) -> None:
    fault, operation = ctx.fault, ctx.cell.operation
    endpoint = operation
    if fault.kind == "latency":
        wait_for_requests(ctx, endpoint, 2)
    entries = ctx.log(endpoint)
    faulted = [e for e in entries if e["fault"]]
    assert len(faulted) == (fault.count if fault.count > 0 else 1), entries
    if operation == "submit":
        assert ctx.emulator.backend.task_count() == 1
        lists = ctx.log("list")
        created = ctx.hook.list_tasks().items
        assert [getattr(value, "task_id", None)] == [item.task_id for item in created]
        if fault.acted or fault.kind == "latency":
            # The service acted on the faulted submit: that task is ours, and nothing was resent.
            assert len(entries) == 1, entries
        else:
            assert entries[-1]["status"] == 200
        # One look at the list per unknown outcome (after the service has settled), never on a 429.
        per_outcome = 0 if fault.status == 429 else 1
        assert len(lists) == per_outcome * len(faulted), "lists per unknown outcome, never on 429"
    elif operation == "query":
        assert getattr(value, "task_id", None) == ctx.task_id
        assert any(e["status"] == 200 and not e["fault"] for e in entries)
    elif operation == "cancel":
        assert value is True
        assert ctx.hook.get_task(ctx.task_id or "").status is TaskStatus.CANCELED
    elif operation == "result":
        assert isinstance(value, bytes)
        assert Transcription.from_dict(json.loads(value)).file_url == AUDIO
        assert all("authorization" not in {k.lower() for k in e["headers"]} for e in entries)
    if fault.retry_after is not None:
        assert max(ctx.sleeps) >= fault.retry_after, f"Retry-After not honoured: slept {ctx.sleeps}"
    elif fault.status == 429:
        assert max(ctx.sleeps, default=0.0) < RETRY_AFTER, (
            f"429 without Retry-After waited long: {ctx.sleeps}"
        )


def check_raised(ctx: Context, error: BaseException) -> None:
    cell, fault = ctx.cell, ctx.fault
    assert cell.error is not None
    assert isinstance(error, cell.error), f"{type(error).__name__}: {error}"
    text = str(error)
    assert EMULATOR_API_KEY not in text
    assert EMULATOR_API_KEY not in repr(error)
    assert "Signature=" not in text
    assert isinstance(error, QwenASRError)
    if error.request_id:
        assert error.request_id in text
    if ctx.task_id:
        assert ctx.task_id in text, text
    if fault.status in (401, 403) and cell.operation != "result":
        assert error.code in ("InvalidApiKey", "AccessDenied")
        assert error.code in text
        assert error.request_id
        assert len(ctx.log(cell.operation)) == 1, "a permanent error is not retried"
    if cell.fault.startswith("failed-"):
        code = cell.fault.removeprefix("failed-")
        assert error.code == code
        assert code in text
        assert error.request_id
    if cell.fault == "refused" and cell.operation != "submit":
        assert not ctx.log(cell.operation)
    if cell.operation == "submit":
        created = [item.task_id for item in ctx.hook.list_tasks().items]
        if fault.kind == "latency":
            wait_for_requests(ctx, "submit", 1)
            created = [item.task_id for item in ctx.hook.list_tasks().items]
        assert len(created) <= 1, f"more than one billed task: {created}"
        assert len([e for e in ctx.log("submit")]) <= 1 or fault.status == 429
        for task_id in created:
            assert task_id in text
    if cell.operation == "result" and cell.fault == "403-expired":
        assert error.code == "AccessDenied"
        assert error.hint
        assert "expire" in error.hint
        assert len(ctx.log("result")) == 1


def check_returns_false(ctx: Context, value: object) -> None:
    assert value is False
    assert [e["status"] for e in ctx.log("cancel")] == [400]


def check_delivered(ctx: Context, value: object) -> None:
    assert isinstance(value, bytes)
    assert value.startswith(b"<html>")
    assert len(ctx.log("result")) == 1


def _param(cell: Cell) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=cell.bug)] if cell.bug else []
    return pytest.param(cell, id=cell.id, marks=marks)


@pytest.mark.parametrize("cell", [_param(cell) for cell in CELLS])
def test_fault_matrix(
    cell: Cell,
    emulator: EmulatorServer,
    hook: QwenASRHook,
    refused_hook: QwenASRHook,
    closed_port: int,
    sleeps: list[float],
) -> None:
    ctx = Context(cell, emulator, hook, refused_hook, closed_port, sleeps)
    action = ACTIONS[cell.operation]
    if cell.expect is Expect.RAISES:
        with pytest.raises(QwenASRError) as caught:
            action(ctx)
        check_raised(ctx, caught.value)
        return
    value = action(ctx)
    {
        Expect.RECOVERED: check_recovered,
        Expect.RETURNS_FALSE: check_returns_false,
        Expect.DELIVERED: check_delivered,
    }[cell.expect](ctx, value)
