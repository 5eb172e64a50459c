"""Lambda handler for the Slack app's endpoints (/slack/events, /slack/commands, /slack/interactivity)."""

from __future__ import annotations

from typing import Any

from keel.channels.wiring import channels_from_environment
from keel.lazy import Lazy

# Built on the first request and kept while the Lambda is warm; verification reuses the cached secret.
_ingress = Lazy(lambda: channels_from_environment().slack_ingress())


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway proxy integration entry point: verify, acknowledge, enqueue (well inside Slack's 3 s)."""
    try:
        ingress = _ingress()
    except Exception as exc:  # a configuration error still answers as JSON, never a stack trace
        from keel.channels.http import correlation_id, error_response

        return error_response(exc, correlation=correlation_id(event))
    return ingress.handle(event)
