"""The HTTP API channel: POST /v1/chat as an API Gateway proxy integration."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from keel.analytics.logs import correlation_scope
from keel.channels.http import bearer_token, correlation_id, error_response, json_response, parse_body
from keel.conversations.models import ChatRequest
from keel.lazy import Lazy
from keel.turn import ChatService

logger = logging.getLogger("keel.api")


class ChatEndpoint:
    """Identify first (so an anonymous caller learns nothing about the body), then parse, then run the turn."""

    def __init__(self, service_factory: Callable[[], ChatService]) -> None:
        self._service = Lazy(service_factory)

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        """One API Gateway proxy event in, one proxy response out; never raises."""
        correlation = correlation_id(event)
        with correlation_scope(correlation):
            try:
                service = self._service()
                principal = service.identify(bearer_token(event))
                request = parse_body(event, ChatRequest)
                result = service.reply_as(principal, request, channel="api", correlation_id=correlation)
            except Exception as exc:  # every failure becomes a typed JSON error; unknown ones a 500
                return error_response(exc, correlation=correlation)
            return json_response(200, result.reply, correlation=correlation)
