"""Ports and value types of analytics: what the KPIs are computed from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from keel.conversations.ports import Conversation, StoredMessage


@dataclass(frozen=True)
class FeedbackItem:
    """One answer's stored feedback (pk CONV#<id>, sk FEEDBACK#<message id>): a thumb, a 1-5 CSAT, or both."""

    conversation_id: str
    message_id: str
    rating: str | None
    csat: int | None
    recorded_at: str


@dataclass(frozen=True)
class ConversationRecord:
    """A conversation with its messages in order and the feedback given on its answers."""

    conversation: Conversation
    messages: tuple[StoredMessage, ...] = ()
    feedback: tuple[FeedbackItem, ...] = field(default=())


class ConversationAnalyticsSource(Protocol):
    """Lists conversations for analytics; read-only."""

    def conversations(self, since: datetime, until: datetime) -> Iterator[ConversationRecord]:
        """Every conversation created in [since, until), with all its messages and feedback."""
        ...
