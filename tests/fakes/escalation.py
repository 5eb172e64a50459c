"""In-memory stand-ins for the escalation ports."""

from __future__ import annotations

import threading
from collections.abc import Callable


class InMemoryClaims:
    """ClaimStore with the same expiry rule as the DynamoDB one (a claim past its expiry can be taken)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.expires: dict[str, float] = {}

    def claim(self, key: str, ttl_seconds: int) -> bool:
        """Take key unless a live claim holds it."""
        now = self._clock()
        with self._lock:
            if self.expires.get(key, 0.0) >= now:
                return False
            self.expires[key] = now + ttl_seconds
            return True
