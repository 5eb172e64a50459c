"""Lambda handler for POST /v1/chat: parse, call the core, respond."""

from __future__ import annotations

from typing import Any

from keel.bootstrap import build_chat_service
from keel.channels.api import ChatEndpoint

# Built on the first request, so a cold start imports only what the turn needs.
_endpoint = ChatEndpoint(build_chat_service)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway proxy integration entry point."""
    return _endpoint.handle(event)
