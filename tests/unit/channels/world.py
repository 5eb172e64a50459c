"""A small Keel world for channel tests: a turn with the ChatService interface over in-memory stores.

Channels only call identify() and reply_as(); this fake turn keeps their contract (ownership of
conversations, bot authorization, citations, escalation on an explicit human request) without the
model, guardrail and audit stages, which have their own tests.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from keel.channels.feedback import FeedbackService, InMemoryFeedbackStore
from keel.channels.streaming import HUMAN_REQUEST
from keel.conversations.memory import InMemoryConversationStore
from keel.conversations.models import ChatReply, ChatRequest, Citation, EscalationStatus
from keel.conversations.ports import Conversation, StoredMessage
from keel.errors import Forbidden, NotFound, Unauthenticated
from keel.identity.principal import Principal

EMMA = Principal("sub-emma", "emma", frozenset({"all-staff"}), "demo", email="emma@acme.example")
CARLA = Principal("sub-carla", "carla", frozenset({"customers"}), "demo", external=True)

CORPUS = {
    "hr": [("hr-annual-leave", "Annual leave", "Employees get 25 days of annual leave. Unused days carry over.")],
    "customer": [
        (
            "customer-refunds",
            "Refunds",
            "Refunds are possible within 30 days of purchase for every plan. Contact support to start one.",
        )
    ],
}
BOT_GROUPS = {"hr": "all-staff", "customer": "customers"}


@dataclass(frozen=True)
class Result:
    """What reply_as returns (the part channels read)."""

    reply: ChatReply


@dataclass
class FakeTurn:
    """identify + reply_as over a token table, the bot table and a conversation store."""

    tokens: dict[str, Principal]
    conversations: Any
    # Real token verification for tokens not in the table (the loopback tests' Cognito tokens).
    verify: Any = None
    # When conversations are created (epoch seconds), as the real turn stamps created_at.
    clock: Callable[[], float] = time.time
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    _ids: Any = field(default_factory=itertools.count)

    def identify(self, token: str) -> Principal:
        """The principal of a known token."""
        if token not in self.tokens:
            if self.verify is not None:
                principal: Principal = self.verify(token)
                return principal
            raise Unauthenticated("token is not valid")
        return self.tokens[token]

    def identify_session(self, token: str) -> tuple[Principal, dict[str, Any]]:
        """The principal and the claims a channel keeps; the fake's claims name the token it stands for."""
        principal = self.identify(token)
        return principal, {"sub": principal.subject, "fake:token": token}

    def resume(self, claims: Mapping[str, Any]) -> Principal:
        """Identify again from kept claims: a token removed from the table (revoked) is refused."""
        return self.identify(str(claims.get("fake:token", "")))

    def reply_as(self, principal: Principal, request: ChatRequest, *, channel: str) -> Result:
        """Authorize, keep the conversation, answer from the bot's corpus with a citation."""
        bot = (
            request.bot
            if request.bot != "auto"
            else next((b for b, g in BOT_GROUPS.items() if g in principal.groups), "none")
        )
        if bot not in BOT_GROUPS:
            raise NotFound(f"bot {bot!r} does not exist")
        if BOT_GROUPS[bot] not in principal.groups:
            raise Forbidden(f"you may not use the {bot} bot")
        conversation = self._conversation(principal, request, bot, channel)
        self.calls.append((principal.subject, channel, request.message))
        history = self.conversations.messages(conversation, limit=100)
        seq = history[-1].seq + 1 if history else 0
        words = {w for w in request.message.lower().split() if len(w) > 3}
        hits = [d for d in CORPUS[bot] if words & set(d[2].lower().split())]
        if request.message == HUMAN_REQUEST:
            answer, citations, outcome = "I am handing this conversation to a person.", [], "escalated"
        elif hits:
            doc_id, title, text = hits[0]
            answer = f"{text.split('. ')[0]}. [{doc_id}]"
            citations, outcome = [Citation(doc_id=doc_id, title=title, snippet=text)], "answered"
        else:
            answer, citations, outcome = "I could not find this in the sources available to me.", [], "no_answer"
        message_id = self._id()
        self.conversations.append(StoredMessage(conversation, self._id(), seq, "user", request.message, "t"))
        self.conversations.append(StoredMessage(conversation, message_id, seq + 1, "assistant", answer, "t"))
        reply = ChatReply(
            conversation_id=conversation,
            message_id=message_id,
            answer=answer,
            citations=citations,
            confidence=1.0 if citations else 0.0,
            outcome=outcome,
            escalation=(
                EscalationStatus(kind="ticket", escalation_id="esc-0001", ticket_id="1001")
                if outcome == "escalated"
                else None
            ),
        )
        return Result(reply)

    def _conversation(self, principal: Principal, request: ChatRequest, bot: str, channel: str) -> str:
        if request.conversation_id is None:
            conversation_id = self._id()
            created_at = datetime.fromtimestamp(self.clock(), UTC).isoformat()
            self.conversations.create(Conversation(conversation_id, principal.subject, bot, channel, created_at))
            return conversation_id
        found = self.conversations.get(request.conversation_id)
        if found is None or found.owner != principal.subject:
            raise NotFound(f"conversation {request.conversation_id} does not exist")
        return found.conversation_id

    def _id(self) -> str:
        return f"id-{next(self._ids):08d}-{id(self) % 10_000:04d}"


@dataclass
class World:
    """The fake turn, its stores and the token table (mutable, to revoke a token)."""

    tokens: dict[str, Principal] = field(default_factory=lambda: {"t-emma": EMMA, "t-carla": CARLA})
    conversations: Any = field(default_factory=InMemoryConversationStore)
    feedback_store: InMemoryFeedbackStore = field(default_factory=InMemoryFeedbackStore)
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.service = FakeTurn(self.tokens, self.conversations, clock=self.clock)
        self.feedback = FeedbackService(self.conversations, self.feedback_store)
