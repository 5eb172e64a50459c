"""Ports and value types of the conversations capability."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class StoredMessage:
    """One message of a conversation as stored (masked text only)."""

    conversation_id: str
    message_id: str
    seq: int
    role: Literal["user", "assistant", "agent", "event"]
    text: str
    created_at: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conversation:
    """A conversation header: who owns it and through which bot and channel."""

    conversation_id: str
    owner: str
    bot: str
    channel: str
    created_at: str
    status: str = "open"


def next_user_turn(messages: Sequence[StoredMessage]) -> int:
    """The number of the next user message of a conversation (0 for the first), given its latest messages.

    Each user message is stored with its own number ("turn" in its meta), so the count goes on past the window of
    messages a turn reads: counting the user messages among the last twelve stopped at six, and an action's
    confirmation (which counts only on the very next user turn) then never matched again. Messages stored before
    they carried a number are counted instead, as before. A window that holds no user message at all (a person and
    the system wrote more than a window's worth since the user last did) numbers from the seq of its first message:
    no number exceeds its message's seq, so this keeps the numbers growing, and a confirmation asked before the
    window matches only if the window starts right after the question's own message.
    """
    users = [m for m in messages if m.role == "user"]
    if users:
        turn = users[-1].meta.get("turn")
        if isinstance(turn, int) and not isinstance(turn, bool) and turn >= 0:
            return turn + 1
        return len(users)
    return messages[0].seq if messages else 0


class ConversationStore(Protocol):
    """Keeps conversations and their messages."""

    def get(self, conversation_id: str) -> Conversation | None:
        """The conversation header, or None."""
        ...

    def create(self, conversation: Conversation) -> None:
        """Create a conversation; raise Conflict if the id exists."""
        ...

    def append(self, message: StoredMessage) -> None:
        """Append one message; raise Conflict if its seq is taken."""
        ...

    def messages(self, conversation_id: str, *, limit: int = 50) -> list[StoredMessage]:
        """The last messages of a conversation in order."""
        ...
