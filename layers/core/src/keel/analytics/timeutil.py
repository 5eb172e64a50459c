"""Instants and windows: ISO-8601 parsing that treats naive times as UTC, and `7d`-style durations."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from keel.errors import InvalidRequest

_DURATION = re.compile(r"^(\d{1,4})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_WINDOW = timedelta(days=366)


def parse_instant(value: str) -> datetime:
    """An aware datetime from ISO-8601 text ('Z' accepted; naive means UTC)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_duration(text: str) -> timedelta:
    """A window length like 30m, 12h, 7d or 2w; InvalidRequest saying what is accepted otherwise."""
    match = _DURATION.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise InvalidRequest(
            f"invalid window {text!r}; expected a positive number followed by m, h, d or w (e.g. 7d, 12h)"
        )
    window = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if window > MAX_WINDOW:
        raise InvalidRequest(f"window {text!r} is longer than the 366 days accepted")
    return window
