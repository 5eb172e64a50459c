"""The web channel over an API Gateway WebSocket API: $connect, $disconnect, and the message routes.

$connect verifies the bearer token (query string `token`, or the Sec-WebSocket-Protocol list
`keel.v1, <token>`) with the same verification as the HTTP API; the connection keeps the verified claims,
never the token, and each later message is identified again from them (expiry, issuer, revocation), so a
revoked user is refused on the next message (R5) and a stolen table row is no bearer credential.
Replies are pushed back with the Management API (post_to_connection) as delta frames and a done frame.
Each open connection is also registered in the identity sessions registry, so a revocation can close it
(WebSocketSessionCloser: a last error frame, then DeleteConnection) instead of waiting for the next message.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keel.channels.feedback import FeedbackRequest, FeedbackService
from keel.channels.ports import Turn
from keel.channels.streaming import HUMAN_REQUEST, frames
from keel.conversations.models import MAX_MESSAGE_CHARS, ChatRequest
from keel.errors import InvalidRequest, KeelError, ServiceUnavailable, Unauthenticated
from keel.identity.principal import Principal
from keel.identity.sessions import Session, SessionRegistry, new_session

logger = logging.getLogger("keel.websocket")
SUBPROTOCOL = "keel.v1"
# API Gateway closes a WebSocket after two hours whatever happens; the record needs no longer life.
CONNECTION_TTL_SECONDS = 2 * 3600
MAX_FRAME_BYTES = 32 * 1024
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
M = TypeVar("M", bound=BaseModel)
SESSION_CHANNEL = "websocket"
# What a revoked user's widget shows; the operator's reason stays in the audit trail, not on the screen.
SIGNED_OUT_MESSAGE = "You have been signed out. Sign in again to continue."


class ConnectionGone(Exception):
    """The client disconnected before a frame could be delivered."""


@dataclass(frozen=True)
class Connection:
    """An open WebSocket and the verified claims of the token it authenticated with (not the token)."""

    connection_id: str
    claims: dict[str, Any]
    subject: str
    expires_at: int
    # The Management API endpoint of the API the client is connected to (what closes it on revocation).
    endpoint: str = ""


class ConnectionStore(Protocol):
    """Open connections by id."""

    def put(self, connection: Connection) -> None:
        """Remember a connection."""
        ...

    def get(self, connection_id: str) -> Connection | None:
        """The connection, or None when unknown or expired."""
        ...

    def delete(self, connection_id: str) -> None:
        """Forget a connection."""
        ...


class ConnectionPoster(Protocol):
    """Pushes a frame to one connection (the Management API's PostToConnection)."""

    def post(self, connection_id: str, frame: Mapping[str, Any]) -> None:
        """Send; ConnectionGone when the client has left."""
        ...


class ConnectionManager(ConnectionPoster, Protocol):
    """Pushes frames and closes connections (PostToConnection and DeleteConnection)."""

    def disconnect(self, connection_id: str) -> None:
        """Close the connection; one that is already gone is not an error."""
        ...


class InMemoryConnectionStore:
    """Connections in a dict, for tests."""

    def __init__(self) -> None:
        self.items: dict[str, Connection] = {}

    def put(self, connection: Connection) -> None:
        """Keep."""
        self.items[connection.connection_id] = connection

    def get(self, connection_id: str) -> Connection | None:
        """Lookup, ignoring expired records."""
        found = self.items.get(connection_id)
        return found if found is not None and found.expires_at > time.time() else None

    def delete(self, connection_id: str) -> None:
        """Drop."""
        self.items.pop(connection_id, None)


class DynamoDBConnectionStore:
    """Connections as items (pk WSCONN#<id>, sk CONNECTION) with a TTL, holding verified claims, never a token."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def put(self, connection: Connection) -> None:
        """PutItem."""
        self._call(
            "put_item",
            TableName=self._table,
            Item={
                **self._key(connection.connection_id),
                "claims": {"S": json.dumps(connection.claims, sort_keys=True, separators=(",", ":"))},
                "subject": {"S": connection.subject},
                "expires_at": {"N": str(connection.expires_at)},
                "endpoint": {"S": connection.endpoint},
            },
        )

    def get(self, connection_id: str) -> Connection | None:
        """GetItem; an expired record counts as gone (TTL deletion lags)."""
        item = self._call("get_item", TableName=self._table, Key=self._key(connection_id), ConsistentRead=True).get(
            "Item"
        )
        if not item or int(item["expires_at"]["N"]) <= time.time() or "claims" not in item:
            return None  # a record from before claims were kept holds no usable session: reconnect
        return Connection(
            connection_id,
            json.loads(item["claims"]["S"]),
            item["subject"]["S"],
            int(item["expires_at"]["N"]),
            item.get("endpoint", {}).get("S", ""),
        )

    def delete(self, connection_id: str) -> None:
        """DeleteItem."""
        self._call("delete_item", TableName=self._table, Key=self._key(connection_id))

    @staticmethod
    def _key(connection_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"WSCONN#{connection_id}"}, "sk": {"S": "CONNECTION"}}

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self._client, operation)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the connection table cannot be reached") from exc
        return result


class ApiGatewayPoster:
    """PostToConnection through a boto3 `apigatewaymanagementapi` client made for the API's endpoint."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def post(self, connection_id: str, frame: Mapping[str, Any]) -> None:
        """PostToConnection; GoneException becomes ConnectionGone."""
        data = json.dumps(frame).encode()
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("GoneException", "410"):
                raise ConnectionGone(connection_id) from exc
            raise ServiceUnavailable("the WebSocket API refused a frame") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable("the WebSocket API cannot be reached") from exc

    def disconnect(self, connection_id: str) -> None:
        """DeleteConnection; a connection that is already gone counts as closed."""
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("GoneException", "410"):
                return
            raise ServiceUnavailable("the WebSocket API refused to close a connection") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable("the WebSocket API cannot be reached") from exc


class WebSocketSessionCloser:
    """The SessionCloser of the web channel: tells the client it was signed out, then closes the connection.

    The connection record holds the endpoint of the API the client is connected to, so the revocation path
    needs no WebSocket setting of its own.
    """

    def __init__(self, connections: ConnectionStore, manager: Callable[[str], ConnectionManager]) -> None:
        self._connections = connections
        self._manager = manager

    def close(self, session: Session, reason: str) -> None:
        """Close one WebSocket session; unknown or already closed connections are not an error."""
        if session.channel != SESSION_CHANNEL:
            raise InvalidRequest(f"the WebSocket closer cannot end a {session.channel!r} session")
        connection = self._connections.get(session.session_id)
        if connection is None or not connection.endpoint:
            # The client already left (or the record expired): nothing stays open to close.
            self._connections.delete(session.session_id)
            return
        manager = self._manager(connection.endpoint)
        frame = {"type": "error", "code": "unauthenticated", "message": SIGNED_OUT_MESSAGE, "reconnect": False}
        with contextlib.suppress(ConnectionGone):  # it left on its own; closing below is then a no-op
            manager.post(session.session_id, frame)
        manager.disconnect(session.session_id)
        # Forget the token now: a message racing the close must not find a signed-in connection.
        self._connections.delete(session.session_id)


class WebSocketNotifier:
    """Pushes a frame to every open WebSocket of a subject: how an agent's reply reaches the user's widget."""

    def __init__(
        self, sessions: SessionRegistry, connections: ConnectionStore, poster: Callable[[str], ConnectionPoster]
    ) -> None:
        self._sessions = sessions
        self._connections = connections
        self._poster = poster

    def notify(self, subject: str, frame: dict[str, Any]) -> None:
        """Best effort per connection: a closed one is forgotten, an unreachable API is logged."""
        for session in self._sessions.sessions(subject):
            if session.channel != SESSION_CHANNEL:
                continue
            connection = self._connections.get(session.session_id)
            if connection is None or not connection.endpoint:
                continue
            try:
                self._poster(connection.endpoint).post(session.session_id, frame)
            except ConnectionGone:
                self._connections.delete(session.session_id)
                self._sessions.unregister(subject, SESSION_CHANNEL, session.session_id)
            except KeelError as exc:
                logger.warning("could not push a frame to a connection: %s", exc.code)


def management_endpoint(request_context: Mapping[str, Any]) -> str:
    """The Management API endpoint of the API that sent the event (plain HTTP only for the loopback stand-in)."""
    domain = str(request_context.get("domainName") or "")
    stage = str(request_context.get("stage") or "")
    if not domain:
        raise InvalidRequest("WebSocket event has no requestContext.domainName")
    scheme = "http" if domain.split(":", maxsplit=1)[0] in LOOPBACK_HOSTS or domain.startswith("[::1]") else "https"
    return f"{scheme}://{domain}/{stage}" if stage else f"{scheme}://{domain}"


class ClientMessage(BaseModel):
    """A frame from the widget; `action` picks the route ($request.body.action)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    action: str = Field(pattern=r"^(sendMessage|talkToPerson|feedback|authenticate)$")
    request_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    bot: str = Field(default="auto", min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9-]*$")
    conversation_id: str | None = Field(default=None, min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    message: str | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)
    message_id: str | None = None
    rating: str | None = None
    csat: int | None = None
    token: str | None = Field(default=None, max_length=8192)


class WebSocketGateway:
    """Handles the WebSocket API's route events; never raises (errors go to the client as frames)."""

    def __init__(
        self,
        service: Callable[[], Turn],
        connections: ConnectionStore,
        poster: Callable[[str], ConnectionPoster],
        feedback: Callable[[], FeedbackService],
        *,
        sessions: SessionRegistry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._service = service
        self._connections = connections
        self._poster = poster
        self._feedback = feedback
        self._sessions = sessions
        self._clock = clock

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """One WebSocket route event in, the integration response out."""
        context = event.get("requestContext") or {}
        route = str(context.get("routeKey") or "")
        connection_id = str(context.get("connectionId") or "")
        if not connection_id:
            return {"statusCode": 400, "body": "no connection id"}
        if route == "$connect":
            return self._connect(event, connection_id)
        if route == "$disconnect":
            self._disconnect(connection_id)
            return {"statusCode": 200}
        return self._message(event, context, connection_id)

    def _connect(self, event: Mapping[str, Any], connection_id: str) -> dict[str, Any]:
        try:
            token, subprotocol = _connect_token(event)
            principal, claims = self._service().identify_session(token)
            endpoint = management_endpoint(event.get("requestContext") or {})
            self._remember(connection_id, claims, principal, endpoint)
            if self._sessions is not None:
                # Registered before the handshake completes: a connection revocation cannot find is refused.
                self._sessions.register(
                    new_session(
                        principal.subject,
                        SESSION_CHANNEL,
                        connection_id,
                        now=self._clock(),
                        ttl_seconds=CONNECTION_TTL_SECONDS,
                    )
                )
        except Unauthenticated as exc:
            return {"statusCode": 401, "body": exc.message}
        except KeelError as exc:
            logger.warning("connect refused: %s", exc.code)
            return {"statusCode": 503, "body": "the chat is unavailable right now"}
        response: dict[str, Any] = {"statusCode": 200}
        if subprotocol:
            response["headers"] = {"Sec-WebSocket-Protocol": SUBPROTOCOL}
        return response

    def _remember(self, connection_id: str, claims: dict[str, Any], principal: Principal, endpoint: str) -> None:
        expires = int(self._clock()) + CONNECTION_TTL_SECONDS
        self._connections.put(Connection(connection_id, claims, principal.subject, expires, endpoint))

    def _disconnect(self, connection_id: str) -> None:
        try:
            connection = self._connections.get(connection_id)
            self._connections.delete(connection_id)
            if connection is not None and self._sessions is not None:
                self._sessions.unregister(connection.subject, SESSION_CHANNEL, connection_id)
        except KeelError:
            # Both records expire on their own (TTL), so a failed clean-up only leaves them a little longer.
            logger.warning("could not forget connection %s", connection_id)

    def _message(self, event: Mapping[str, Any], context: Mapping[str, Any], connection_id: str) -> dict[str, Any]:
        try:
            poster = self._poster(management_endpoint(context))
        except KeelError as exc:
            return {"statusCode": 400, "body": exc.message}
        request_id: str | None = None
        try:
            message = _client_message(event.get("body"))
            request_id = message.request_id
            self._dispatch(poster, connection_id, message)
        except ConnectionGone:
            self._forget(connection_id)
        except Exception as exc:  # the client gets a typed error frame; unknown errors carry no internals
            self._send_error(poster, connection_id, exc, request_id)
        return {"statusCode": 200}

    def _dispatch(self, poster: ConnectionPoster, connection_id: str, message: ClientMessage) -> None:
        connection = self._connections.get(connection_id)
        if connection is None:
            raise Unauthenticated("this connection is not signed in; reconnect with a token")
        if message.action == "authenticate":
            principal, claims = self._service().identify_session(message.token or "")
            if principal.subject != connection.subject:
                raise Unauthenticated("a connection cannot change user; open a new one")
            self._remember(connection_id, claims, principal, connection.endpoint)
            poster.post(connection_id, {"type": "authenticated", "request_id": message.request_id})
            return
        principal = self._service().resume(connection.claims)
        if message.action == "feedback":
            request = _validated(
                FeedbackRequest,
                {
                    "conversation_id": message.conversation_id,
                    "message_id": message.message_id,
                    "rating": message.rating,
                    "csat": message.csat,
                },
            )
            receipt = self._feedback().give(principal, request, channel="web")
            poster.post(
                connection_id, {"type": "feedback", "request_id": message.request_id, **receipt.model_dump(mode="json")}
            )
            return
        text = HUMAN_REQUEST if message.action == "talkToPerson" else (message.message or "")
        chat = _validated(
            ChatRequest, {"bot": message.bot, "conversation_id": message.conversation_id, "message": text}
        )
        reply = self._service().reply_as(principal, chat, channel="web").reply
        for frame in frames(reply, request_id=message.request_id):
            poster.post(connection_id, frame)

    def _send_error(
        self, poster: ConnectionPoster, connection_id: str, error: Exception, request_id: str | None
    ) -> None:
        if isinstance(error, KeelError):
            body: dict[str, Any] = {"code": error.code, "message": error.message}
            if isinstance(error, Unauthenticated):
                body["reconnect"] = True
        else:
            logger.exception("unhandled error on connection %s", connection_id)
            body = {"code": "internal_error", "message": "something went wrong on our side; please try again"}
        try:
            poster.post(connection_id, {"type": "error", "request_id": request_id, **body})
        except (ConnectionGone, KeelError):
            self._forget(connection_id)

    def _forget(self, connection_id: str) -> None:
        try:
            self._connections.delete(connection_id)
        except KeelError:
            logger.warning("could not forget connection %s", connection_id)


def _connect_token(event: Mapping[str, Any]) -> tuple[str, bool]:
    """The token of a $connect event and whether it came as a subprotocol (which must then be echoed)."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
    if SUBPROTOCOL in offered:
        others = [p for p in offered if p != SUBPROTOCOL]
        if len(others) == 1:
            return others[0], True
    query = event.get("queryStringParameters") or {}
    token = str(query.get("token") or "")
    if not token:
        raise Unauthenticated(
            f"no token; connect with ?token=<token> or Sec-WebSocket-Protocol: {SUBPROTOCOL}, <token>"
        )
    return token, False


def _client_message(body: Any) -> ClientMessage:
    if not body:
        raise InvalidRequest("empty frame; expected a JSON object with an action")
    if len(str(body).encode()) > MAX_FRAME_BYTES:
        raise InvalidRequest(f"frame is larger than {MAX_FRAME_BYTES} bytes")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise InvalidRequest("frame is not valid JSON") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("frame must be a JSON object")
    return _validated(ClientMessage, data)


def _validated(model: type[M], data: Mapping[str, Any]) -> M:
    try:
        return model.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'frame'}: {e['msg']}" for e in exc.errors())
        raise InvalidRequest(f"invalid {model.__name__}: {problems}") from None
