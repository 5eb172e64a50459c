"""Lambda handler for POST /v1/session/guest: a token for an anonymous website visitor."""

from __future__ import annotations

from typing import Any

from keel.channels.wiring import channels_from_environment
from keel.lazy import Lazy

# Built on the first request and kept while the Lambda is warm.
_endpoint = Lazy(lambda: channels_from_environment().guest_endpoint())


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway proxy integration entry point."""
    try:
        endpoint = _endpoint()
    except Exception as exc:  # a configuration error still answers as JSON, never a stack trace
        from keel.channels.http import correlation_id, error_response

        return error_response(exc, correlation=correlation_id(event))
    return endpoint.handle(event)
