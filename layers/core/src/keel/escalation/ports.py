"""Ports and value types of the escalation capability."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from keel.conversations.ports import Conversation, StoredMessage
from keel.errors import ServiceUnavailable


class HelpdeskUnavailable(ServiceUnavailable):
    """The helpdesk did not answer or answered with a server error; the ticket will be retried."""

    code = "helpdesk_unavailable"


@dataclass(frozen=True)
class TicketRequest:
    """What a ticket carries: the masked transcript, user metadata (no raw PII), intent and reason."""

    external_id: str
    subject: str
    body: str
    tags: tuple[str, ...]
    priority: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreatedTicket:
    """A ticket as the helpdesk knows it."""

    ticket_id: str
    helpdesk: str
    url: str = ""


class Helpdesk(Protocol):
    """A helpdesk that opens tickets (Zendesk, ServiceNow, Jira Service Management)."""

    name: str

    def find(self, external_id: str) -> CreatedTicket | None:
        """The ticket opened earlier for this escalation, or None."""
        ...

    def create(self, request: TicketRequest) -> CreatedTicket:
        """Open a ticket; raise HelpdeskUnavailable when the helpdesk is down."""
        ...


class StatusStore(Protocol):
    """The conversation store as escalation needs it: read, append and change the status."""

    def get(self, conversation_id: str) -> Conversation | None:
        """The header, or None."""
        ...

    def append(self, message: StoredMessage) -> None:
        """Append one message; Conflict if its seq is taken."""
        ...

    def messages(self, conversation_id: str, *, limit: int = 50) -> list[StoredMessage]:
        """The last messages in order."""
        ...

    def set_status(self, conversation_id: str, status: str) -> None:
        """Change the conversation's status."""
        ...


class UserNotifier(Protocol):
    """Delivers a frame to the user's open chat sessions (the widget's WebSocket, in AWS and locally)."""

    def notify(self, subject: str, frame: dict[str, Any]) -> None:
        """Best effort: the message is already stored, and a user who is not connected reads it later."""
        ...
