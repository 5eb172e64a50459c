"""Circuit breaker state machine (fake clock), backoff bounds, the bounded queue."""

from __future__ import annotations

import random
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.errors import RateLimited
from keel.models.resilience import BreakerBoard, BreakerState, CircuitBreaker, ConcurrencyGate, RetryPolicy
from tests.fakes.models import FakeClock


def _breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker("m", threshold=3, window=10.0, cooldown=5.0, clock=clock)


def test_breaker_opens_after_threshold_failures_in_the_window() -> None:
    clock = FakeClock()
    breaker = _breaker(clock)
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()


def test_failures_outside_the_window_do_not_count() -> None:
    clock = FakeClock()
    breaker = _breaker(clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.advance(11)
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_success_in_closed_state_forgets_earlier_failures() -> None:
    clock = FakeClock()
    breaker = _breaker(clock)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_after_cooldown_one_probe_passes_and_success_closes() -> None:
    clock = FakeClock()
    breaker = _breaker(clock)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(4.9)
    assert not breaker.allow()
    clock.advance(0.2)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow(), "a second caller must not probe while the first probe runs"
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert [(t.old, t.new) for t in breaker.transitions] == [
        (BreakerState.CLOSED, BreakerState.OPEN),
        (BreakerState.OPEN, BreakerState.HALF_OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]


def test_failed_probe_reopens_for_another_cooldown() -> None:
    clock = FakeClock()
    breaker = _breaker(clock)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(5)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.advance(4)
    assert not breaker.allow()
    clock.advance(1)
    assert breaker.allow()


def test_released_probe_lets_the_next_caller_probe() -> None:
    clock = FakeClock()
    breaker = _breaker(clock)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(5)
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()


def test_only_one_of_many_threads_probes_a_half_open_breaker() -> None:
    clock = FakeClock()
    breaker = _breaker(clock)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(5)
    allowed: list[bool] = []
    barrier = threading.Barrier(20)

    def probe() -> None:
        barrier.wait()
        allowed.append(breaker.allow())

    threads = [threading.Thread(target=probe) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 1


def test_board_keeps_one_breaker_per_model() -> None:
    board = BreakerBoard(threshold=1, clock=FakeClock())
    board.get("a").record_failure()
    assert board.get("a").state is BreakerState.OPEN
    assert board.get("b").state is BreakerState.CLOSED


def test_breaker_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="threshold"):
        CircuitBreaker("m", threshold=0)


@given(
    attempt=st.integers(min_value=1, max_value=40),
    base=st.floats(min_value=0.0, max_value=5.0),
    extra=st.floats(min_value=0.0, max_value=30.0),
    seed=st.integers(),
)
def test_backoff_delay_is_within_full_jitter_bounds(attempt: int, base: float, extra: float, seed: int) -> None:
    policy = RetryPolicy(attempts=5, base_seconds=base, cap_seconds=base + extra)
    delay = policy.delay(attempt, random.Random(seed))
    assert 0.0 <= delay <= min(policy.cap_seconds, base * 2 ** (attempt - 1)) + 1e-9


def test_retry_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_seconds=2, cap_seconds=1)


def test_gate_refuses_with_retry_after_when_full() -> None:
    gate = ConcurrencyGate(1, max_wait=0.01, retry_after=3)
    with gate, pytest.raises(RateLimited) as caught, gate:
        pass
    assert caught.value.retry_after == 3
    with gate:
        pass
