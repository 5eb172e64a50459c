"""A deadline for the model calls of one turn.

Each model call has its own timeout, but a turn can make several: the action planner, then the answer, each
down a fallback chain. With every model stalled, the waits added up to several timeouts. The turn opens a
budget; its clock starts with the turn's first model call (searching and screening do not spend it), and once
it has run out the router starts no new model call and answers from the passages instead. A stalled provider
then costs a turn at most the budget plus the one call already under way.

When the deadline ends a call, the turn says why it ran out: the budget keeps what the turn's earlier model
calls met (throttling, an outage, an open breaker), and the router reports those beside "model_deadline".
Without that, a planner throttled until the deadline left the answer saying only that time was up.

The budget lives in a context variable: it follows the turn through the call stack without every port having
to carry it, and a call outside any turn (a CLI, an evaluation) has none.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class _Budget:
    seconds: float
    started: float | None = None
    met: list[str] = field(default_factory=list)


_BUDGET: ContextVar[_Budget | None] = ContextVar("keel_model_deadline", default=None)


@contextmanager
def model_deadline(seconds: float | None) -> Iterator[None]:
    """Model calls in this block may start only within seconds of its first model call (None: no deadline)."""
    if seconds is not None and seconds <= 0:
        raise ValueError(f"a model deadline must be positive seconds or None, got {seconds!r}")
    token = _BUDGET.set(_Budget(seconds) if seconds is not None else None)
    try:
        yield
    finally:
        _BUDGET.reset(token)


def start() -> None:
    """Start the clock, if this is the block's first model call (the router calls it before each call)."""
    budget = _BUDGET.get()
    if budget is not None and budget.started is None:
        budget.started = time.monotonic()


def remaining() -> float | None:
    """Seconds left of the current budget (negative once spent), or None outside a deadline."""
    budget = _BUDGET.get()
    if budget is None:
        return None
    if budget.started is None:
        return budget.seconds
    return budget.seconds - (time.monotonic() - budget.started)


def passed() -> bool:
    """Whether the current budget is spent; never true outside a deadline or before the first model call."""
    left = remaining()
    return left is not None and left <= 0


def note(tag: str) -> None:
    """Remember what a model call of this turn met (a degradation tag), once; nothing outside a deadline."""
    budget = _BUDGET.get()
    if budget is not None and tag not in budget.met:
        budget.met.append(tag)


def met() -> tuple[str, ...]:
    """What the model calls of the current budget met, in order (empty outside a deadline)."""
    budget = _BUDGET.get()
    return tuple(budget.met) if budget is not None else ()
