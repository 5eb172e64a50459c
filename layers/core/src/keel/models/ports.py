"""Ports of the model capability: what the turn needs from a language model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class ChatMessage:
    """One message of a conversation as the model sees it (already masked)."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may ask to run: name, description and a JSON schema of its input."""

    name: str
    description: str
    input_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass(frozen=True)
class ToolCall:
    """The model's request to run one tool with inputs; nothing runs until actions authorize it."""

    tool_use_id: str
    name: str
    input: dict[str, Any]


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
    tool_calls: tuple[ToolCall, ...] = field(default=())


class ChatModel(Protocol):
    """A language model reached through the Converse protocol."""

    def converse(
        self,
        model_id: str,
        system: str,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """Send one Converse request; raise keel.errors.ModelUnavailable or RateLimited on failure."""
        ...
