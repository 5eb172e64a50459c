"""HTTP endpoints of the web channel beside POST /v1/chat: feedback and anonymous guest sessions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from keel.channels.feedback import FeedbackRequest, FeedbackService
from keel.channels.guests import GuestIssuer
from keel.channels.http import bearer_token, correlation_id, error_response, json_response, parse_body
from keel.channels.ports import Turn


class FeedbackEndpoint:
    """POST /v1/feedback: identify, validate, store; never raises."""

    def __init__(self, service: Callable[[], Turn], feedback: Callable[[], FeedbackService]) -> None:
        self._service = service
        self._feedback = feedback

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """One API Gateway proxy event in, one proxy response out."""
        correlation = correlation_id(event)
        try:
            principal = self._service().identify(bearer_token(event))
            request = parse_body(event, FeedbackRequest)
            receipt = self._feedback().give(principal, request, channel="api")
        except Exception as exc:  # every failure becomes a typed JSON error; unknown ones a 500
            return error_response(exc, correlation=correlation)
        return json_response(200, receipt, correlation=correlation)


class GuestSessionEndpoint:
    """POST /v1/session/guest: a token for an anonymous website visitor (group customers); never raises."""

    def __init__(self, issuer: Callable[[], GuestIssuer]) -> None:
        self._issuer = issuer

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """One API Gateway proxy event in, one proxy response out."""
        correlation = correlation_id(event)
        try:
            session = self._issuer().issue()
        except Exception as exc:  # every failure becomes a typed JSON error; unknown ones a 500
            return error_response(exc, correlation=correlation)
        return json_response(200, session, correlation=correlation)
