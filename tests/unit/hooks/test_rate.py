"""Unit tests of the AIMD query budget (:mod:`airflow_provider_qwenasr.rate`), on an injected clock."""

from __future__ import annotations

import asyncio
import threading

import pytest

from airflow_provider_qwenasr.rate import RateBudget, budget_for, reset_budgets


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def _fresh_budgets() -> None:
    reset_budgets()


def test_slots_are_spaced_at_the_ceiling(clock: FakeClock) -> None:
    budget = RateBudget(10.0, clock=clock)
    waits = [budget.reserve() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert budget.counters.granted == 5


def test_a_quiet_budget_does_not_bank_slots(clock: FakeClock) -> None:
    """After an idle minute the next query is immediate, but the one after is still paced (no burst)."""
    budget = RateBudget(10.0, clock=clock)
    budget.reserve()
    clock.advance(60)
    assert budget.reserve() == 0.0
    assert budget.reserve() == pytest.approx(0.1)


def test_a_pacer_woken_late_keeps_the_schedule(clock: FakeClock) -> None:
    """Regression: with 10,000 waits the triggerer's loop overslept each 67 ms slot by a few ms, and
    a 15/s budget sent 14/s. Lateness up to half a slot is now made up by the next slot."""
    budget = RateBudget(10.0, clock=clock)
    budget._try_take()
    clock.advance(budget._try_take())
    assert budget._try_take() == 0.0  # on the schedule: the next slot is due 0.1 s later
    clock.advance(0.13)  # the pacer slept 30 ms too long
    assert budget._try_take() == 0.0
    assert budget._try_take() == pytest.approx(0.07)  # due 0.2 s after the last, not 0.23 s
    granted = 4
    for _ in range(100):  # always 20 ms late: still 10 a second
        clock.advance(budget._try_take() + 0.02)
        assert budget._try_take() == 0.0
        granted += 1
    assert granted / (clock.now - 1000.0) == pytest.approx(10.0, rel=0.03)


def test_a_quiet_pacer_makes_up_half_a_slot_at_most(clock: FakeClock) -> None:
    """After an idle minute: no banked slots, so no burst beyond half a slot early."""
    budget = RateBudget(10.0, clock=clock)
    budget._try_take()
    clock.advance(60)
    assert budget._try_take() == 0.0
    assert budget._try_take() == pytest.approx(0.05)


def test_throttle_halves_the_rate_once_per_second(clock: FakeClock) -> None:
    """A burst of 429s inside one second counts as one cut (multiplicative decrease, once)."""
    budget = RateBudget(16.0, clock=clock)
    for _ in range(5):
        budget.on_throttled()
    assert budget.rate == 8.0
    assert budget.counters.throttled == 5
    assert budget.counters.cuts == 1
    clock.advance(1.0)
    budget.on_throttled()
    assert budget.rate == 4.0
    assert budget.counters.cuts == 2


def test_rate_never_falls_below_the_minimum(clock: FakeClock) -> None:
    budget = RateBudget(1.0, minimum=0.2, clock=clock)
    for _ in range(20):
        budget.on_throttled()
        clock.advance(1.0)
    assert budget.rate == 0.2


def test_minimum_above_ceiling_is_clamped(clock: FakeClock) -> None:
    assert RateBudget(0.1, minimum=0.2, clock=clock).minimum == 0.1


def test_retry_after_pauses_the_next_slot(clock: FakeClock) -> None:
    budget = RateBudget(100.0, clock=clock)
    budget.on_throttled(retry_after=3.0)
    assert budget.reserve() == pytest.approx(3.0)


def test_without_retry_after_the_pause_is_one_slot_at_the_new_rate(clock: FakeClock) -> None:
    budget = RateBudget(10.0, clock=clock)
    budget.on_throttled()
    assert budget.reserve() == pytest.approx(1.0 / 5.0)


def test_success_climbs_back_additively_to_the_ceiling(clock: FakeClock) -> None:
    budget = RateBudget(10.0, increase_per_second=1.0, clock=clock)
    budget.on_throttled()
    assert budget.rate == 5.0
    budget.on_success()
    assert 5.0 < budget.rate < 5.5
    for _ in range(1000):
        budget.on_success()
    assert budget.rate == 10.0


def test_success_at_the_ceiling_changes_nothing(clock: FakeClock) -> None:
    budget = RateBudget(10.0, clock=clock)
    budget.on_success()
    assert budget.rate == 10.0


@pytest.mark.parametrize("ceiling", [pytest.param(0.0, id="zero"), pytest.param(-1.0, id="negative")])
def test_ceiling_must_be_positive(ceiling: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        RateBudget(ceiling)


def test_budget_for_shares_one_budget_per_host_and_key() -> None:
    a = budget_for("https://h", "fp1", 10.0)
    assert budget_for("https://h", "fp1", 10.0) is a
    assert budget_for("https://h", "fp2", 10.0) is not a
    assert budget_for("https://other", "fp1", 10.0) is not a


def test_budget_for_the_strictest_ceiling_wins() -> None:
    a = budget_for("https://h", "fp", 10.0)
    budget_for("https://h", "fp", 4.0)
    assert (a.ceiling, a.rate) == (4.0, 4.0)
    budget_for("https://h", "fp", 50.0)
    assert a.ceiling == 4.0


def test_reset_budgets_forgets_them() -> None:
    a = budget_for("https://h", "fp", 10.0)
    reset_budgets()
    assert budget_for("https://h", "fp", 10.0) is not a


def test_reserve_is_thread_safe(clock: FakeClock) -> None:
    """Threads of a worker share a budget: no two of them may get the same slot."""
    budget = RateBudget(1000.0, clock=clock)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(100):
            wait = budget.reserve()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({round(w, 9) for w in waits}) == 800


async def test_acquire_does_not_block_the_event_loop() -> None:
    """Waiting for a slot must yield to the loop: other coroutines progress meanwhile."""
    budget = RateBudget(20.0)  # 50 ms between slots, real clock
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await budget.acquire()
    await budget.acquire()
    task.cancel()
    assert ticks > 1
