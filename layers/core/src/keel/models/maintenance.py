"""Maintenance mode: an operator switch in an SSM parameter, read through a short cache."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

DEFAULT_MESSAGE = (
    "The assistant is down for maintenance. Please try again later; urgent requests can go to the service desk."
)
_OFF = frozenset({"", "off", "false", "0", "no", "disabled"})
_ON = frozenset({"on", "true", "1", "yes", "enabled"})


@dataclass(frozen=True)
class MaintenanceStatus:
    """Whether maintenance mode is on, and the message every bot answers while it is."""

    enabled: bool
    message: str = DEFAULT_MESSAGE


def parse_switch(value: str) -> MaintenanceStatus:
    """Read a parameter value: on/off words, or JSON {"enabled": bool, "message": str}."""
    text = value.strip()
    if text.lower() in _OFF:
        return MaintenanceStatus(False)
    if text.lower() in _ON:
        return MaintenanceStatus(True)
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("enabled"), bool):
        message = data.get("message")
        return MaintenanceStatus(data["enabled"], message if isinstance(message, str) and message else DEFAULT_MESSAGE)
    # Anything else is an operator's free-text message: turning maintenance on is what they meant.
    return MaintenanceStatus(True, text)


class SsmMaintenanceSwitch:
    """The maintenance switch read from an SSM parameter, cached for ttl seconds."""

    def __init__(
        self, client: Any, name: str, ttl: float = 10.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._name = name
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: MaintenanceStatus | None = None
        self._read_at = 0.0

    def status(self) -> MaintenanceStatus:
        """The switch's state; a missing parameter means off, a failed read keeps the last known state."""
        with self._lock:
            now = self._clock()
            if self._cached is not None and now - self._read_at < self._ttl:
                return self._cached
            self._cached = self._fetch(self._cached)
            self._read_at = now
            return self._cached

    def _fetch(self, last: MaintenanceStatus | None) -> MaintenanceStatus:
        try:
            response = self._client.get_parameter(Name=self._name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
                return MaintenanceStatus(False)
            return last or MaintenanceStatus(False)
        except BotoCoreError:
            # An unreadable switch must not take every bot down; keep what we knew.
            return last or MaintenanceStatus(False)
        return parse_switch(str(response["Parameter"]["Value"]))


class StaticMaintenanceSwitch:
    """A maintenance switch set in code (local stack default, tests)."""

    def __init__(self, status: MaintenanceStatus | None = None) -> None:
        self.current = status or MaintenanceStatus(False)

    def status(self) -> MaintenanceStatus:
        """The configured state."""
        return self.current
