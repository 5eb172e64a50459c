"""A deadline for the model calls of one turn.

Each model call has its own timeout, but a turn can make several: the action planner, then the answer, each
down a fallback chain. With every model stalled, the waits added up to several timeouts. The turn opens a
deadline; the router starts no new model call once it has passed and answers from the passages instead, so a
stalled provider costs a turn at most the deadline plus the one call already under way.

The deadline lives in a context variable: it follows the turn through the call stack without every port
having to carry it, and a call outside any turn (a CLI, an evaluation) has none.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_DEADLINE: ContextVar[float | None] = ContextVar("keel_model_deadline", default=None)


@contextmanager
def model_deadline(seconds: float | None) -> Iterator[None]:
    """Model calls started inside this block must start within seconds from now (None: no deadline)."""
    if seconds is not None and seconds <= 0:
        raise ValueError(f"a model deadline must be positive seconds or None, got {seconds!r}")
    token = _DEADLINE.set(time.monotonic() + seconds if seconds is not None else None)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def remaining() -> float | None:
    """Seconds left before the current turn's deadline (negative once passed), or None outside a deadline."""
    deadline = _DEADLINE.get()
    return None if deadline is None else deadline - time.monotonic()


def passed() -> bool:
    """Whether the current turn's deadline has passed; never true outside a deadline."""
    left = remaining()
    return left is not None and left <= 0
