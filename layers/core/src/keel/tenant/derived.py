"""Settings that follow the tenant: derived from the current document, again only when it changes.

The input screen's policy and the escalation settings of each bot come from the tenant (tenant.yaml
`bots[].guardrails`, `bots[].escalation`). Read once when a function started, an AppConfig deployment that
tightened one bot's screen reached nobody until the next cold start. A `PerBot` mapping asks the tenant source
on each lookup (AppConfig's own cache decides how often that fetches) and derives the settings anew only when
the source hands back a different tenant; a derivation that fails keeps the last good settings, as the tenant
source keeps the last good document. `Derived` does the same for one value of the whole tenant (the bots that
offer each family of actions).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from keel.errors import ConfigurationError

logger = logging.getLogger("keel.tenant")
T = TypeVar("T")


class Derived(Generic[T]):
    """What `derive(tenant)` makes of the current tenant, derived again only when the source returns another one."""

    def __init__(self, source: Callable[[], Any], derive: Callable[[Any], T], what: str) -> None:
        self._source = source
        self._derive = derive
        self._what = what  # for the log: "per-bot settings", "offered actions"
        self._lock = threading.Lock()
        self._tenant: Any = None
        self._value: T | None = None
        self._refused: Any = None  # the last tenant whose derivation failed, so it is logged once, not per message
        self._source_failing = False

    def current(self) -> T:
        """The value for the tenant the source returns now (derived once per tenant document).

        The source is asked under the lock, so a thread holding an older tenant cannot replace a value another
        thread derived from a newer one. Once a value exists, a source that fails (AppConfig unreachable when its
        cache expires) or a derivation that fails leave it in place, logged once per failure.
        """
        with self._lock:
            try:
                tenant = self._source()
            except Exception as exc:
                if self._value is None:
                    raise
                if not self._source_failing:
                    logger.error("tenant source failed; keeping the last %s: %s", self._what, exc)
                self._source_failing = True
                return self._value
            self._source_failing = False
            if self._value is not None and (tenant is self._tenant or tenant is self._refused):
                return self._value
            try:
                value = self._derive(tenant)
            except ConfigurationError as exc:
                if self._value is None:
                    raise
                logger.error("%s of the new tenant refused; keeping the last good ones: %s", self._what, exc)
                self._refused = tenant
                return self._value
            self._tenant, self._value = tenant, value
            return value


class PerBot(Mapping[str, T], Generic[T]):
    """Bot id -> settings of the current tenant; derive(bots) runs when the tenant object changes."""

    def __init__(self, source: Callable[[], Any], derive: Callable[[Any], Mapping[str, T]]) -> None:
        self._derived: Derived[Mapping[str, T]] = Derived(
            source, lambda tenant: dict(derive(tenant.spec.bots)), "per-bot settings"
        )

    def current(self) -> Mapping[str, T]:
        """The settings of the tenant the source returns now (see `Derived.current`)."""
        return self._derived.current()

    def __getitem__(self, bot: str) -> T:
        return self.current()[bot]

    def __iter__(self) -> Iterator[str]:
        return iter(self.current())

    def __len__(self) -> int:
        return len(self.current())
