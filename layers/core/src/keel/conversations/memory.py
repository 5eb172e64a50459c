"""An in-memory conversation store: a real, small implementation for unit tests and pure logic."""

from __future__ import annotations

import threading
from dataclasses import replace

from keel.conversations.ports import Conversation, StoredMessage
from keel.errors import Conflict


class InMemoryConversationStore:
    """Conversations in a dict, with the same conflict rules as the DynamoDB adapter."""

    def __init__(self) -> None:
        self._headers: dict[str, Conversation] = {}
        self._messages: dict[str, dict[int, StoredMessage]] = {}
        self._lock = threading.Lock()

    def get(self, conversation_id: str) -> Conversation | None:
        """The header, or None."""
        return self._headers.get(conversation_id)

    def create(self, conversation: Conversation) -> None:
        """Create; Conflict when the id exists."""
        with self._lock:
            if conversation.conversation_id in self._headers:
                raise Conflict(f"conversation {conversation.conversation_id} already exists")
            self._headers[conversation.conversation_id] = conversation
            self._messages[conversation.conversation_id] = {}

    def append(self, message: StoredMessage) -> None:
        """Append; Conflict when the seq is taken."""
        with self._lock:
            messages = self._messages.setdefault(message.conversation_id, {})
            if message.seq in messages:
                raise Conflict(f"message {message.seq} of {message.conversation_id} was written concurrently")
            messages[message.seq] = message

    def set_status(self, conversation_id: str, status: str) -> None:
        """Change the status of an existing conversation."""
        with self._lock:
            self._headers[conversation_id] = replace(self._headers[conversation_id], status=status)

    def messages(self, conversation_id: str, *, limit: int = 50) -> list[StoredMessage]:
        """The last messages in order."""
        stored = self._messages.get(conversation_id, {})
        return [stored[s] for s in sorted(stored)][-limit:]
