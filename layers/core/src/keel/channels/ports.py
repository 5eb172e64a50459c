"""What the channels need of the turn: ChatService satisfies this, and so do the channel tests' fakes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from keel.conversations.models import ChatReply, ChatRequest
from keel.identity.principal import Principal


class TurnOutcome(Protocol):
    """The part of a turn's result a channel sends back."""

    @property
    def reply(self) -> ChatReply:
        """The checked reply."""
        ...


class Turn(Protocol):
    """The one entry point of every channel: identify, then run the turn for that principal."""

    def identify(self, token: str) -> Principal:
        """The principal behind a bearer token, or Unauthenticated."""
        ...

    def identify_session(self, token: str) -> tuple[Principal, dict[str, Any]]:
        """The principal and the verified claims a channel keeps instead of the token."""
        ...

    def resume(self, claims: Mapping[str, Any]) -> Principal:
        """The principal of kept claims, checked again (expiry, revocation), or Unauthenticated."""
        ...

    def reply_as(self, principal: Principal, request: ChatRequest, *, channel: str) -> TurnOutcome:
        """Run the turn for an identified principal."""
        ...
