"""Ports of the model capability: what the turn needs from a language model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True)
class ChatMessage:
    """One message of a conversation as the model sees it (already masked)."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class Completion:
    """What a model returned, with the figures every call records (R2)."""

    text: str
    model_id: str
    input_tokens: int
    output_tokens: int
    latency_ms: float
    stop_reason: str = "end_turn"
    cost_usd: float = 0.0
    degradations: tuple[str, ...] = field(default=())


class ChatModel(Protocol):
    """A language model reached through the Converse protocol."""

    def converse(
        self, model_id: str, system: str, messages: list[ChatMessage], *, max_tokens: int
    ) -> Completion:
        """Send one Converse request; raise keel.errors.ModelUnavailable or RateLimited on failure."""
        ...
