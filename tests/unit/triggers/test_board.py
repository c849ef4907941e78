"""The status board's logic against a scripted task list: wakes, page races, fallback, lifetime.

The list is a fake in memory (the HTTP behaviour is tests/integration/test_status_sweep.py's). No
test asserts a duration: each waits for an event (with a generous limit, so a bug fails instead
of hanging).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_qwenasr._api.retry import RetryPolicy
from airflow_provider_qwenasr._api.settings import ApiSettings
from airflow_provider_qwenasr.exceptions import QwenASRApiError, QwenASRServerError, QwenASRThrottledError
from airflow_provider_qwenasr.models import AsrTask, TaskListItem, TaskPage, TaskStatus
from airflow_provider_qwenasr.triggers import board as board_module
from airflow_provider_qwenasr.triggers.board import StatusBoard, Wake

LIMIT = 10.0
#: A creation time a minute ago, in epoch ms (the list window is the last 24 h).
RECENT = int((datetime.now(timezone.utc) - timedelta(minutes=1)).timestamp() * 1000)
MODEL = "qwen3-asr-flash-filetrans"
SETTINGS = ApiSettings(base_url="http://127.0.0.1:1/api/v1", api_key="sk-unit", status_sweep=True)


class FakeList:
    """An account's open tasks, newest first, served a page at a time; ``before_page`` may change it."""

    def __init__(self, tasks: dict[str, tuple[TaskStatus, int]]) -> None:
        self.tasks = tasks
        #: The model the list names each task with (absent: :data:`MODEL`).
        self.models: dict[str, str] = {}
        self.calls: list[dict[str, Any]] = []
        self.error: Exception | None = None
        self.before_page: Callable[[str, int], None] | None = None
        self.retry_policy = RetryPolicy(5, 0.001, 0.002)

    async def list_tasks(self, **params: Any) -> TaskPage:
        self.calls.append(params)
        if self.before_page is not None:
            self.before_page(params["status"], params["page_no"])
        if self.error is not None:
            raise self.error
        start_ms, end_ms = (int(params[name].timestamp() * 1000) for name in ("start_time", "end_time"))
        rows = sorted(
            (
                TaskListItem(task_id=task_id, status=status, created_ms=created)
                for task_id, (status, created) in self.tasks.items()
                if status.value == params["status"]
                and start_ms <= created <= end_ms
                and params.get("model_name") in (None, self.models.get(task_id, MODEL))
            ),
            key=lambda row: -(row.created_ms or 0),
        )
        size, page_no = params["page_size"], params["page_no"]
        return TaskPage(
            total=len(rows),
            page_no=page_no,
            page_size=size,
            total_page=-(-len(rows) // size),
            items=tuple(rows[(page_no - 1) * size : page_no * size]),
        )

    def sweeps(self) -> int:
        return sum(1 for call in self.calls if call["status"] == "PENDING" and call["page_no"] == 1)


@pytest.fixture(autouse=True)
def quick_board(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_module, "SWEEP_INTERVAL", 0.001)
    monkeypatch.setattr(board_module, "UNSEEN_GRACE", 0.0)
    monkeypatch.setattr(board_module, "LIST_RETRY_SECONDS", 0.01)
    monkeypatch.setattr(board_module, "FALLBACK_AFTER_SECONDS", 0.0)


def _board(fake: FakeList) -> StatusBoard:
    return StatusBoard(fake, SETTINGS)  # type: ignore[arg-type]


async def _until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        # The board's counters and the fake's log have no event to wait on: look again and again.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.001)

    await asyncio.wait_for(poll(), LIMIT)


def _board_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("qwenasr-board-")]


async def test_wakes_exactly_the_tasks_no_longer_open() -> None:
    fake = FakeList({"open": (TaskStatus.RUNNING, RECENT + 1000)})
    board = _board(fake)
    still_open, finished = board.register("open"), board.register("done")
    waits = [asyncio.create_task(board.wait(e, LIMIT)) for e in (still_open, finished)]
    assert await asyncio.wait_for(waits[1], LIMIT) is Wake.SWEPT
    assert await asyncio.wait_for(waits[0], LIMIT) is Wake.LISTED  # first seen RUNNING: a change to log
    again = asyncio.create_task(board.wait(still_open, LIMIT))
    sweeps = fake.sweeps()
    await _until(lambda: fake.sweeps() >= sweeps + 3)
    assert not again.done()  # listed and unchanged: never woken
    again.cancel()
    board.deregister(still_open)
    board.deregister(finished)


async def test_a_status_change_on_the_list_wakes_once_without_a_query() -> None:
    fake = FakeList({"t": (TaskStatus.PENDING, RECENT + 1000)})
    board = _board(fake)
    entry = board.register("t")
    assert await board.wait(entry, LIMIT) is Wake.LISTED
    assert entry.listed is TaskStatus.PENDING
    fake.tasks["t"] = (TaskStatus.RUNNING, RECENT + 1000)
    assert await board.wait(entry, LIMIT) is Wake.LISTED
    assert entry.listed is TaskStatus.RUNNING
    board.deregister(entry)


async def test_a_task_hidden_by_a_page_shift_is_not_woken() -> None:
    """Regression for a live list: a task ending while the sweep pages pulls page 2 up by one row,
    so the sweep never sees the task that moved to page 1; it must not be taken for finished."""
    tasks = {f"t{i}": (TaskStatus.PENDING, RECENT + i) for i in range(150)}
    fake = FakeList(tasks)
    board = _board(fake)
    entries = {task_id: board.register(task_id) for task_id in tasks}
    for entry in entries.values():
        entry.created_ms = tasks[entry.task_id][1]
        entry.listed = TaskStatus.PENDING
    waits = {task_id: asyncio.create_task(board.wait(e, LIMIT)) for task_id, e in entries.items()}

    def end_the_newest(status: str, page_no: int) -> None:
        if status == "PENDING" and page_no == 2 and "t149" in fake.tasks:
            del fake.tasks["t149"]  # t49 now opens page 1's last place: page 2 starts at t48

    fake.before_page = end_the_newest
    assert await asyncio.wait_for(waits["t149"], LIMIT) is Wake.SWEPT
    sweeps = fake.sweeps()
    await _until(lambda: fake.sweeps() >= sweeps + 2)
    woken = sorted(task_id for task_id, wait in waits.items() if wait.done())
    assert woken == ["t149"]
    for wait in waits.values():
        wait.cancel()
    for entry in entries.values():
        board.deregister(entry)


async def test_a_stretch_of_tasks_that_moved_on_is_not_taken_for_a_page_shift() -> None:
    """Regression: with other programs' tasks filling the first pages and a block of ours gone
    RUNNING or finished, two pages' edges lie far apart in time; only a shrinking list makes that
    stretch unsure, so the finished tasks in it are woken."""
    tasks = {f"foreign{i}": (TaskStatus.PENDING, RECENT + 10_000 + i) for i in range(100)}
    tasks |= {f"ours{i}": (TaskStatus.PENDING, RECENT + i) for i in range(300)}
    fake = FakeList(tasks)
    board = _board(fake)
    entries = {f"ours{i}": board.register(f"ours{i}") for i in range(300)}
    await _until(lambda: fake.sweeps() >= 2)
    for i in range(150, 300):  # the newer half of ours moves on: RUNNING, or finished
        if i % 3:
            fake.tasks[f"ours{i}"] = (TaskStatus.RUNNING, RECENT + i)
        else:
            del fake.tasks[f"ours{i}"]
    waits = {task_id: asyncio.create_task(board.wait(e, LIMIT)) for task_id, e in entries.items()}
    finished = sorted(f"ours{i}" for i in range(150, 300) if not i % 3)
    await _until(lambda: all(waits[t].done() for t in finished))
    sweeps = fake.sweeps()
    await _until(lambda: fake.sweeps() >= sweeps + 2)
    swept = sorted(t for t, w in waits.items() if w.done() and w.result() is Wake.SWEPT)
    assert swept == finished
    for wait in waits.values():
        wait.cancel()
    for entry in entries.values():
        board.deregister(entry)


async def test_a_false_wake_pauses_the_next_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_module, "FALSE_WAKE_PAUSE", 3600.0)
    fake = FakeList({})
    board = _board(fake)
    entry = board.register("lagging")
    assert await board.wait(entry, LIMIT) is Wake.SWEPT
    created = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=1)
    task = AsrTask(task_id="lagging", status=TaskStatus.PENDING, raw_status="PENDING", submit_time=created)
    board.confirmed_open(entry, task, Wake.SWEPT)
    assert entry.created_ms == int(created.timestamp() * 1000)
    again = asyncio.create_task(board.wait(entry, LIMIT))
    sweeps = fake.sweeps()
    await _until(lambda: fake.sweeps() >= sweeps + 3)
    assert not again.done()
    assert board.counters.false_wakes == 1
    again.cancel()
    board.deregister(entry)


async def test_an_unlisted_task_is_woken_until_the_list_is_seen_to_trail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A task no sweep listed may simply have ended (a short one): it is woken. Once such a wake
    proves premature (the list trails the query), unlisted tasks get a grace to appear first."""
    monkeypatch.setattr(board_module, "UNSEEN_GRACE", 3600.0)
    fake = FakeList({})
    board = _board(fake)
    first = board.register("quick")
    assert await board.wait(first, LIMIT) is Wake.SWEPT
    task = AsrTask(task_id="quick", status=TaskStatus.PENDING, raw_status="PENDING")
    board.confirmed_open(first, task, Wake.SWEPT)  # still open: the list had not caught up
    young = board.register("young")
    wait = asyncio.create_task(board.wait(young, LIMIT))
    sweeps = fake.sweeps()
    await _until(lambda: fake.sweeps() >= sweeps + 3)
    assert not wait.done()
    wait.cancel()
    board.deregister(young)
    board.deregister(first)


async def test_unlisted_tasks_are_woken_a_few_a_sweep() -> None:
    """A thousand waits registering on a list that trails would otherwise be confirmed all at once."""
    fake = FakeList({})
    board = _board(fake)
    entries = [board.register(f"t{i}") for i in range(20)]
    woken_per_sweep: list[int] = []

    def count(status: str, page_no: int) -> None:
        if status == "PENDING" and page_no == 1:
            woken_per_sweep.append(board.counters.wakes)

    fake.before_page = count
    waits = [asyncio.create_task(board.wait(e, LIMIT)) for e in entries]
    await _until(lambda: len(woken_per_sweep) >= 4)
    # The fake's sweeps take about a millisecond: the budget confirms one or two in that time.
    steps = [b - a for a, b in itertools.pairwise(woken_per_sweep)]
    assert steps
    assert max(steps) < len(entries) / 2
    for wait in waits:
        wait.cancel()
    for entry in entries:
        board.deregister(entry)


async def test_one_model_is_swept_with_its_filter_and_mixed_models_without() -> None:
    """While every wait names one model, other models' open tasks fill no pages; a wait of another
    model (or of an unknown one) makes the sweeps list every model again."""
    foreign = {f"other{i}": (TaskStatus.RUNNING, RECENT + i) for i in range(250)}
    fake = FakeList({**foreign, "ours": (TaskStatus.RUNNING, RECENT + 500)})
    fake.models.update(dict.fromkeys(foreign, "fun-asr"))
    board = _board(fake)
    ours = board.register("ours", MODEL)
    assert await board.wait(ours, LIMIT) is Wake.LISTED
    filtered = [call for call in fake.calls if call["model_name"] == MODEL]
    assert filtered
    assert len(filtered) == len(fake.calls)
    assert {call["page_no"] for call in filtered} == {1}  # one page per status: the 250 are not read
    unknown = board.register("sensor-wait")  # a sensor's wait: its model is not known
    calls = len(fake.calls)
    await _until(lambda: any(call["model_name"] is None for call in fake.calls[calls:]))
    board.deregister(unknown)
    await _until(lambda: fake.calls[-1]["model_name"] == MODEL)
    board.deregister(ours)


async def test_a_model_filter_that_hides_our_tasks_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The list names the model differently from the submit: the filtered sweep never shows our
    task. The first confirmed-open wake is taken for a trailing list; the second, past the grace,
    drops the filter for that model, and the sweeps then find the task."""
    monkeypatch.setattr(board_module, "FALSE_WAKE_PAUSE", 0.001)
    fake = FakeList({"ours": (TaskStatus.RUNNING, RECENT + 1000)})
    fake.models["ours"] = "qwen3-asr-flash-filetrans-2025-11-17"
    board = _board(fake)
    entry = board.register("ours", MODEL)
    task = AsrTask(task_id="ours", status=TaskStatus.RUNNING, raw_status="RUNNING")
    for _ in range(2):
        assert await board.wait(entry, LIMIT) is Wake.SWEPT
        assert fake.calls[-1]["model_name"] == MODEL
        board.confirmed_open(entry, task, Wake.SWEPT)
    assert await board.wait(entry, LIMIT) is Wake.LISTED
    assert entry.seen
    assert fake.calls[-1]["model_name"] is None
    board.deregister(entry)


async def test_a_filter_that_lists_our_tasks_is_kept_when_the_list_trails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A trailing list also hides young tasks; once any task of the model was listed under the
    filter, a confirmed-open unlisted task never drops it."""
    monkeypatch.setattr(board_module, "FALSE_WAKE_PAUSE", 0.001)
    fake = FakeList({"old": (TaskStatus.RUNNING, RECENT + 1000)})
    board = _board(fake)
    old = board.register("old", MODEL)
    assert await board.wait(old, LIMIT) is Wake.LISTED
    young = board.register("young", MODEL)  # not on the list yet
    task = AsrTask(task_id="young", status=TaskStatus.PENDING, raw_status="PENDING")
    for _ in range(2):
        assert await board.wait(young, LIMIT) is Wake.SWEPT
        board.confirmed_open(young, task, Wake.SWEPT)
    calls = len(fake.calls)
    await _until(lambda: len(fake.calls) >= calls + 4)
    assert all(call["model_name"] == MODEL for call in fake.calls[calls:])
    board.deregister(young)
    board.deregister(old)


async def test_the_window_starts_at_the_oldest_task_once_all_are_known() -> None:
    fake = FakeList({})
    board = _board(fake)
    entry = board.register("t")
    await _until(lambda: fake.sweeps() >= 1)
    first = fake.calls[0]
    assert timedelta(hours=23) < first["end_time"] - first["start_time"] < timedelta(hours=24)
    created = datetime.now(timezone.utc) - timedelta(hours=1)
    entry.created_ms = int(created.timestamp() * 1000)
    calls = len(fake.calls)
    await _until(lambda: len(fake.calls) > calls + 2)
    start = fake.calls[-1]["start_time"]
    assert created - timedelta(seconds=3) <= start <= created
    assert all(call["page_size"] == 100 and call["retry"] is False for call in fake.calls)
    board.deregister(entry)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(QwenASRApiError("refused", code="AccessDenied", http_status=403), id="refused"),
        pytest.param(
            QwenASRServerError("down", code="ModelUnavailable", http_status=503), id="down-for-long"
        ),
    ],
)
async def test_a_failing_list_falls_back_and_recovers(error: Exception) -> None:
    fake = FakeList({"t": (TaskStatus.PENDING, RECENT + 1000)})
    fake.error = error
    board = _board(fake)
    entry = board.register("t")
    assert await board.wait(entry, LIMIT) is Wake.FALLBACK
    assert not board.sweeping
    assert await board.wait(entry, LIMIT) is Wake.FALLBACK  # fallen back: per-task polling at once
    assert board.counters.fallbacks == 1
    fake.error = None
    await _until(lambda: board.sweeping)
    assert await board.wait(entry, LIMIT) is Wake.LISTED
    board.deregister(entry)


async def test_transient_failures_are_retried_before_falling_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_module, "FALLBACK_AFTER_SECONDS", 3600.0)
    fake = FakeList({})
    failures = iter(range(3))

    def fail_three_times(status: str, page_no: int) -> None:
        fake.error = QwenASRThrottledError("busy", code="Throttling.RateQuota", http_status=429)
        if next(failures, None) is None:
            fake.error = None

    fake.before_page = fail_three_times
    board = _board(fake)
    entry = board.register("gone")
    assert await board.wait(entry, LIMIT) is Wake.SWEPT
    assert board.counters.fallbacks == 0
    assert len(fake.calls) >= 4
    board.deregister(entry)


async def test_the_last_deregistration_stops_the_board() -> None:
    fake = FakeList({"a": (TaskStatus.PENDING, RECENT + 1), "b": (TaskStatus.PENDING, RECENT + 2)})
    board = _board(fake)
    a, b = board.register("a"), board.register("b")
    await _until(lambda: fake.sweeps() >= 1)
    board.deregister(a)
    assert len(_board_tasks()) == 1
    board.deregister(b)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert _board_tasks() == []
    assert len(board) == 0
    again = board.register("c")  # a later registration starts it again
    assert len(_board_tasks()) == 1
    board.deregister(again)
    await asyncio.sleep(0)
    assert _board_tasks() == []


async def test_a_cancelled_wait_leaves_its_entry_for_the_caller_to_remove() -> None:
    fake = FakeList({"a": (TaskStatus.PENDING, RECENT)})
    board = _board(fake)
    entry = board.register("a")
    assert await board.wait(entry, LIMIT) is Wake.LISTED
    wait = asyncio.create_task(board.wait(entry, LIMIT))
    sweeps = fake.sweeps()
    await _until(lambda: fake.sweeps() >= sweeps + 2)
    wait.cancel()
    with pytest.raises(asyncio.CancelledError):
        await wait
    assert not entry.waiting
    board.deregister(entry)
    await asyncio.sleep(0)
    assert _board_tasks() == []


def test_safety_polls_keep_to_a_share_of_the_query_budget() -> None:
    board = _board(FakeList({}))
    assert (
        board_module.SAFETY_POLL_SECONDS * 0.9
        <= board.safety_interval()
        <= board_module.SAFETY_POLL_SECONDS * 1.1
    )
    board._entries = {str(i): board_module.Registration(str(i), 0.0) for i in range(10_000)}
    # 10,000 tasks under 15 queries/s: a tenth of the budget is 1.5/s, so each every ~6,667 s.
    assert board.safety_interval() >= 10_000 / (board_module.SAFETY_SHARE * SETTINGS.rate_ceiling) * 0.9
