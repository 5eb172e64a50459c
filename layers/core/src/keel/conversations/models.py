"""Request and reply models of a chat turn, shared by every channel."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_MESSAGE_CHARS = 4000
Outcome = Literal["answered", "no_answer", "refused", "escalated", "maintenance", "degraded", "rate_limited", "failed"]


class ChatRequest(BaseModel):
    """What a channel asks of the turn: which bot, which conversation, what the user said."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    bot: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9-]*$")
    conversation_id: str | None = Field(default=None, min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


class Citation(BaseModel):
    """A source that informed the answer."""

    doc_id: str
    title: str
    snippet: str
    version: int = 1


class EscalationStatus(BaseModel):
    """Where an escalated conversation went: a named agent, a ticket number, or pending (a ticket follows)."""

    kind: Literal["agent", "ticket", "pending"]
    escalation_id: str
    agent_name: str = ""
    ticket_id: str = ""


class ChatReply(BaseModel):
    """What the turn returns to the channel."""

    conversation_id: str
    message_id: str
    answer: str
    citations: list[Citation]
    confidence: float = Field(ge=0.0, le=1.0)
    outcome: Outcome = "answered"
    degradations: list[str] = Field(default_factory=list)
    escalation: EscalationStatus | None = None
