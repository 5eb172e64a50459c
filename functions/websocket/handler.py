"""Lambda handler for the WebSocket API routes ($connect, $disconnect, sendMessage, talkToPerson, feedback)."""

from __future__ import annotations

from typing import Any

from keel.channels.wiring import channels_from_environment
from keel.lazy import Lazy

# Built on the first event and kept while the Lambda is warm.
_gateway = Lazy(lambda: channels_from_environment().websocket_gateway())


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """WebSocket route entry point: replies are pushed with PostToConnection, the return is the route status."""
    try:
        gateway = _gateway()
    except Exception:  # a configuration error refuses the connection instead of raising
        import logging

        logging.getLogger("keel.websocket").exception("the WebSocket channel cannot start")
        return {"statusCode": 500, "body": "the chat is unavailable right now"}
    return gateway.handle(event)
