"""An in-memory analytics source: a real, small implementation for tests and scripted runs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from keel.analytics.ports import ConversationRecord
from keel.analytics.timeutil import parse_instant


class InMemoryAnalyticsSource:
    """Conversation records held in a list."""

    def __init__(self, records: Iterable[ConversationRecord] = ()) -> None:
        self._records = list(records)

    def add(self, record: ConversationRecord) -> None:
        """Keep one more conversation."""
        self._records.append(record)

    def conversations(self, since: datetime, until: datetime) -> Iterator[ConversationRecord]:
        """The records whose conversation was created in [since, until)."""
        for record in self._records:
            if since <= parse_instant(record.conversation.created_at) < until:
                yield record
