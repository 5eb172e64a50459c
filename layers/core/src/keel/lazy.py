"""Build-once values shared by every thread: heavy models, and the services a warm Lambda keeps.

`functools.lru_cache` and a bare `if self._x is None: self._x = build()` do not stop concurrent first
calls: every thread that misses builds its own copy. Under the local API's thread per request, 50 users
arriving together each built the whole chat service and a spaCy pipeline (3 GB, a minute of CPU, client
timeouts). `Lazy` builds exactly once; callers arriving during the build wait for it. A build that raises
is not kept, so the next call tries again. Use it as a decorator on a no-argument function or wrap a factory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """A value built on first use and then shared; thread-safe, and cheap once built (no lock taken)."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._box: list[T] = []
        self._lock = threading.Lock()
        self.__doc__ = build.__doc__
        self.__wrapped__ = build  # the bare builder, as functools.wraps exposes it (tests call it directly)

    def __call__(self) -> T:
        """The value."""
        if self._box:
            return self._box[0]
        with self._lock:
            if not self._box:
                self._box.append(self._build())
            return self._box[0]

    @property
    def built(self) -> bool:
        """Whether the value exists yet (a health check must not build it)."""
        return bool(self._box)


once = Lazy
