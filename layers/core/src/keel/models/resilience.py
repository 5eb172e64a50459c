"""Resilience primitives for model calls: backoff with full jitter, a circuit breaker, a bounded wait."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from keel.errors import RateLimited

Clock = Callable[[], float]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries on throttling: exponential backoff capped, with full jitter (AWS guidance)."""

    attempts: int = 3
    base_seconds: float = 0.2
    cap_seconds: float = 2.0
    # The sum of all sleeps never exceeds this, whatever attempts says; a chat turn cannot wait forever.
    budget_seconds: float = 4.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_seconds < 0 or self.cap_seconds < self.base_seconds or self.budget_seconds < 0:
            raise ValueError("need 0 <= base_seconds <= cap_seconds and budget_seconds >= 0")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Sleep before retry number attempt (1-based): uniform in [0, min(cap, base * 2**(attempt-1))]."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** max(0, attempt - 1)))
        return (rng or random).uniform(0.0, ceiling)


class BreakerState(StrEnum):
    """The three states of a circuit breaker."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class Transition:
    """One change of a breaker's state, for metrics and for tests that show the breaker at work."""

    at: float
    name: str
    old: BreakerState
    new: BreakerState


class CircuitBreaker:
    """Opens after `threshold` failures within `window` seconds; after `cooldown` one probe may pass.

    A successful probe closes it, a failed one opens it again. Thread-safe; the clock is injectable.
    """

    def __init__(
        self,
        name: str,
        *,
        threshold: int = 5,
        window: float = 30.0,
        cooldown: float = 15.0,
        clock: Clock = time.monotonic,
        on_transition: Callable[[Transition], None] | None = None,
    ) -> None:
        if threshold < 1 or window <= 0 or cooldown <= 0:
            raise ValueError("threshold >= 1, window > 0 and cooldown > 0 are required")
        self.name = name
        self._threshold = threshold
        self._window = window
        self._cooldown = cooldown
        self._clock = clock
        self._on_transition = on_transition
        self._lock = threading.Lock()
        self._failures: deque[float] = deque()
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probe_in_flight = False
        self.transitions: list[Transition] = []

    @property
    def state(self) -> BreakerState:
        """The current state (an open breaker past its cool-down reads as half-open)."""
        with self._lock:
            if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self._cooldown:
                return BreakerState.HALF_OPEN
            return self._state

    def allow(self) -> bool:
        """May a call go through now? In half-open only one probe at a time is let through."""
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return True
            if self._state is BreakerState.OPEN:
                if self._clock() - self._opened_at < self._cooldown:
                    return False
                self._move(BreakerState.HALF_OPEN)
            if self._probe_in_flight:
                return False
            self._probe_in_flight = True
            return True

    def record_success(self) -> None:
        """A call succeeded: a probe closes the breaker; in closed state old failures are forgotten."""
        with self._lock:
            self._probe_in_flight = False
            self._failures.clear()
            if self._state is not BreakerState.CLOSED:
                self._move(BreakerState.CLOSED)

    def record_failure(self) -> None:
        """A call failed: a failed probe reopens; enough failures in the window open the breaker."""
        with self._lock:
            now = self._clock()
            if self._state is BreakerState.HALF_OPEN:
                self._probe_in_flight = False
                self._open(now)
                return
            if self._state is BreakerState.OPEN:
                return
            self._failures.append(now)
            while self._failures and now - self._failures[0] > self._window:
                self._failures.popleft()
            if len(self._failures) >= self._threshold:
                self._open(now)

    def release(self) -> None:
        """A let-through call ended with neither success nor failure (e.g. throttled): free the probe."""
        with self._lock:
            self._probe_in_flight = False

    def _open(self, now: float) -> None:
        self._opened_at = now
        self._failures.clear()
        self._move(BreakerState.OPEN)

    def _move(self, new: BreakerState) -> None:
        transition = Transition(self._clock(), self.name, self._state, new)
        self._state = new
        self.transitions.append(transition)
        if self._on_transition is not None:
            self._on_transition(transition)


class BreakerBoard:
    """One circuit breaker per model id, created on first use with shared settings."""

    def __init__(
        self,
        *,
        threshold: int = 5,
        window: float = 30.0,
        cooldown: float = 15.0,
        clock: Clock = time.monotonic,
        on_transition: Callable[[Transition], None] | None = None,
    ) -> None:
        self._options = {"threshold": threshold, "window": window, "cooldown": cooldown}
        self._clock = clock
        self._listeners: list[Callable[[Transition], None]] = [on_transition] if on_transition else []
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}

    def subscribe(self, listener: Callable[[Transition], None]) -> None:
        """Call listener on every state change of every breaker (metrics, logs)."""
        self._listeners.append(listener)

    def _notify(self, transition: Transition) -> None:
        for listener in list(self._listeners):
            listener(transition)

    def get(self, model_id: str) -> CircuitBreaker:
        """The breaker of model_id."""
        with self._lock:
            breaker = self._breakers.get(model_id)
            if breaker is None:
                breaker = CircuitBreaker(
                    model_id,
                    threshold=int(self._options["threshold"]),
                    window=self._options["window"],
                    cooldown=self._options["cooldown"],
                    clock=self._clock,
                    on_transition=self._notify,
                )
                self._breakers[model_id] = breaker
            return breaker


class ConcurrencyGate:
    """A bounded in-process queue in front of a provider: at most `limit` calls in flight.

    A caller waits up to `max_wait` seconds for a slot, then gets RateLimited with Retry-After.
    """

    def __init__(self, limit: int = 16, *, max_wait: float = 5.0, retry_after: int = 2) -> None:
        if limit < 1 or max_wait < 0:
            raise ValueError("limit >= 1 and max_wait >= 0 are required")
        self._slots = threading.BoundedSemaphore(limit)
        self._max_wait = max_wait
        self._retry_after = retry_after

    def __enter__(self) -> ConcurrencyGate:
        if not self._slots.acquire(timeout=self._max_wait):
            raise RateLimited(
                f"the model queue is full; retry after {self._retry_after} s", retry_after=self._retry_after
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self._slots.release()
