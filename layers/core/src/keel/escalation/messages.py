"""What the user is told at each step of a handoff, and how escalation writes into a conversation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from keel.conversations.ports import StoredMessage
from keel.errors import Conflict
from keel.escalation.ports import StatusStore


def agent_joined(agent_name: str) -> str:
    """Said when an agent takes the conversation."""
    return f"You're now talking to {agent_name}, a member of our support team."


def ticket_opened(ticket_id: str) -> str:
    """Said when no agent is free and a ticket was opened."""
    return (
        f"No one from our support team is available right now, so I've opened ticket #{ticket_id} for you with "
        "this whole conversation attached, so you won't need to repeat anything. A member of the team will pick it "
        f"up and get back to you; please quote #{ticket_id} if you contact support."
    )


def already_ticketed(ticket_id: str) -> str:
    """Said when the conversation already has an open ticket: no second one is opened."""
    return (
        f"Your request in this conversation is already with our support team as ticket #{ticket_id}; they will get "
        f"back to you. Please quote #{ticket_id} if you contact support."
    )


ALREADY_PENDING = (
    "Your request in this conversation is already being handed to our support team; I'll post the ticket number "
    "or the name of the person helping you here as soon as I have it."
)
HELPDESK_DOWN = (
    "Our ticketing system is not responding right now. Your request is saved and a ticket will be created as soon "
    "as it is back; I'll post the ticket number in this conversation."
)
STILL_WORKING = (
    "I'm handing this conversation to our support team; your request is saved and I'll post the ticket number or "
    "the name of the person helping you here shortly."
)
HANDED_BACK = "The support team has handed this conversation back to me. How else can I help?"
CLOSED = "This conversation has been closed by our support team. Start a new one any time."


def post(
    store: StatusStore,
    conversation_id: str,
    role: Literal["assistant", "agent", "event"],
    text: str,
    meta: dict[str, Any] | None = None,
    *,
    attempts: int = 5,
) -> StoredMessage:
    """Append a message after the last one, retrying when another writer took the sequence number."""
    for _ in range(attempts):
        last = store.messages(conversation_id, limit=1)
        seq = last[-1].seq + 1 if last else 0
        message = StoredMessage(
            conversation_id, str(uuid.uuid4()), seq, role, text, datetime.now(UTC).isoformat(), meta=meta or {}
        )
        try:
            store.append(message)
        except Conflict:
            continue
        return message
    raise Conflict(f"conversation {conversation_id} is being written too often; try again")
