"""Per-bot settings that follow the tenant: derived from the current document, again only when it changes.

The input screen's policy and the escalation settings of each bot come from the tenant (tenant.yaml
`bots[].guardrails`, `bots[].escalation`). Read once when a function started, an AppConfig deployment that
tightened one bot's screen reached nobody until the next cold start. A `PerBot` mapping asks the tenant source
on each lookup (AppConfig's own cache decides how often that fetches) and derives the settings anew only when
the source hands back a different tenant; a derivation that fails keeps the last good settings, as the tenant
source keeps the last good document.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from keel.errors import ConfigurationError

logger = logging.getLogger("keel.tenant")
T = TypeVar("T")


class PerBot(Mapping[str, T], Generic[T]):
    """Bot id -> settings of the current tenant; derive(bots) runs when the tenant object changes."""

    def __init__(self, source: Callable[[], Any], derive: Callable[[Any], Mapping[str, T]]) -> None:
        self._source = source
        self._derive = derive
        self._lock = threading.Lock()
        self._tenant: Any = None
        self._settings: Mapping[str, T] | None = None
        self._refused: Any = None  # the last tenant whose settings failed, so it is logged once, not per message
        self._source_failing = False

    def current(self) -> Mapping[str, T]:
        """The settings of the tenant the source returns now (derived once per tenant document).

        The source is asked under the lock, so a thread holding an older tenant cannot replace settings another
        thread derived from a newer one. Once settings exist, a source that fails (AppConfig unreachable when its
        cache expires) or settings that fail to derive leave them in place, logged once per failure.
        """
        with self._lock:
            try:
                tenant = self._source()
            except Exception as exc:
                if self._settings is None:
                    raise
                if not self._source_failing:
                    logger.error("tenant source failed; keeping the last per-bot settings: %s", exc)
                self._source_failing = True
                return self._settings
            self._source_failing = False
            if self._settings is not None and (tenant is self._tenant or tenant is self._refused):
                return self._settings
            try:
                settings = dict(self._derive(tenant.spec.bots))
            except ConfigurationError as exc:
                if self._settings is None:
                    raise
                logger.error("per-bot settings of the new tenant refused; keeping the last good ones: %s", exc)
                self._refused = tenant
                return self._settings
            self._tenant, self._settings = tenant, settings
            return settings

    def __getitem__(self, bot: str) -> T:
        return self.current()[bot]

    def __iter__(self) -> Iterator[str]:
        return iter(self.current())

    def __len__(self) -> int:
        return len(self.current())
