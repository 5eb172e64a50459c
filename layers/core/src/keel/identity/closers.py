"""Session closers: how a revocation ends a subject's open sessions in each channel (R5).

WebSocket sessions are API Gateway connections, ended with the Management API's DeleteConnection.
Slack threads and web sessions hold no connection: nothing can be torn down on the channel side, so
closing one only forgets it, and the revocation record ends it on its next request: a web request's token
issued before ``not_before`` is refused (``RevocationCheck``); the Slack worker reads the record on every
job, refuses a disabled subject, and ends a thread whose conversation began before ``not_before``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import ServiceUnavailable
from keel.identity.sessions import Session, SessionCloser

# A connection the client already left answers 410 Gone: the session is over, which is what was wanted.
_GONE = frozenset({"GoneException", "410"})


class ApiGatewayConnectionCloser:
    """Ends a WebSocket session with DeleteConnection through an ``apigatewaymanagementapi`` client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def close(self, session: Session, reason: str) -> None:
        """DeleteConnection for the session's connection id; an already closed connection is not an error."""
        try:
            self._client.delete_connection(ConnectionId=session.session_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _GONE:
                return
            raise ServiceUnavailable("the WebSocket API refused to close the connection") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable("the WebSocket API cannot be reached to close the connection") from exc


class ForgetSession:
    """For channels without a connection (Slack, web): the revocation record ends the session on its next request."""

    def close(self, session: Session, reason: str) -> None:
        """Nothing to end on the channel's side; the Revoker then unregisters the session."""
        return None


class ChannelSessionCloser:
    """Sends each session to the closer of its channel; a channel with no closer is a failure, not a skip."""

    def __init__(self, closers: Mapping[str, SessionCloser]) -> None:
        self._closers = dict(closers)

    def close(self, session: Session, reason: str) -> None:
        """Close through the channel's closer."""
        closer = self._closers.get(session.channel)
        if closer is None:
            # ServiceUnavailable is a KeelError, so the Revoker counts it as failed and keeps the session.
            raise ServiceUnavailable(
                f"no way to close {session.channel} sessions here; configured: {', '.join(sorted(self._closers))}"
            )
        closer.close(session, reason)
