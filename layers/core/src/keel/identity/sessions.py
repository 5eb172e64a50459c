"""Open sessions per subject, so a revocation can end them (R5).

WebSocket connections register here. Slack threads do not: the Slack worker reads the revocation record
on every job and ends threads begun before the subject's not_before (keel.channels.slack_worker).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import InvalidRequest, StoreUnavailable

Channel = Literal["websocket", "slack", "web"]
CHANNELS: tuple[str, ...] = ("websocket", "slack", "web")
DEFAULT_SESSION_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Session:
    """One open session: its channel and the channel's own id (a connection id, a Slack channel+user)."""

    subject: str
    channel: str
    session_id: str
    opened_at: float
    expires_at: float

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise InvalidRequest(f"unknown session channel {self.channel!r}; accepted: {', '.join(CHANNELS)}")
        if not self.subject or not self.session_id:
            raise InvalidRequest("a session needs a subject and a session id")


class SessionRegistry(Protocol):
    """Which sessions each subject has open."""

    def register(self, session: Session) -> None:
        """Remember an open session."""
        ...

    def unregister(self, subject: str, channel: str, session_id: str) -> None:
        """Forget a session that closed normally."""
        ...

    def sessions(self, subject: str) -> list[Session]:
        """The subject's sessions that have not expired."""
        ...


class SessionCloser(Protocol):
    """Ends a session in its channel (API Gateway deleteConnection for WebSocket, a Slack notice)."""

    def close(self, session: Session, reason: str) -> None:
        """Close the session; a session that is already gone is not an error."""
        ...


class DynamoDBSessionRegistry:
    """Sessions in a DynamoDB table with partition key ``subject`` and sort key ``session_key``.

    ``session_key`` is ``<channel>#<session id>``; items carry ``expires_at`` for the table's TTL, and
    expired items are also filtered here because TTL deletion lags (and moto never deletes).
    """

    def __init__(
        self,
        client: Any,
        table: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._table = table
        self._clock = clock

    def register(self, session: Session) -> None:
        """PutItem, idempotent per channel and session id."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "subject": {"S": session.subject},
                    "session_key": {"S": f"{session.channel}#{session.session_id}"},
                    "channel": {"S": session.channel},
                    "session_id": {"S": session.session_id},
                    "opened_at": {"N": repr(session.opened_at)},
                    "expires_at": {"N": str(int(session.expires_at))},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable("the session registry cannot be written") from exc

    def unregister(self, subject: str, channel: str, session_id: str) -> None:
        """DeleteItem."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key={"subject": {"S": subject}, "session_key": {"S": f"{channel}#{session_id}"}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable("the session registry cannot be written") from exc

    def sessions(self, subject: str) -> list[Session]:
        """Query the subject's partition (consistent, so a session opened just now is included)."""
        found: list[Session] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "subject = :s",
            "ExpressionAttributeValues": {":s": {"S": subject}},
            "ConsistentRead": True,
        }
        now = self._clock()
        try:
            while True:
                page = self._client.query(**kwargs)
                for item in page.get("Items", []):
                    expires_at = float(item["expires_at"]["N"])
                    if expires_at > now:
                        found.append(
                            Session(
                                subject=subject,
                                channel=item["channel"]["S"],
                                session_id=item["session_id"]["S"],
                                opened_at=float(item["opened_at"]["N"]),
                                expires_at=expires_at,
                            )
                        )
                if "LastEvaluatedKey" not in page:
                    return found
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable("the session registry cannot be read") from exc


class InMemorySessionRegistry:
    """A process-local registry for unit tests and the single-process local server."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._sessions: dict[tuple[str, str, str], Session] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def register(self, session: Session) -> None:
        """Remember the session."""
        with self._lock:
            self._sessions[(session.subject, session.channel, session.session_id)] = session

    def unregister(self, subject: str, channel: str, session_id: str) -> None:
        """Forget the session."""
        with self._lock:
            self._sessions.pop((subject, channel, session_id), None)

    def sessions(self, subject: str) -> list[Session]:
        """Unexpired sessions of the subject."""
        now = self._clock()
        with self._lock:
            return [s for (sub, _, _), s in self._sessions.items() if sub == subject and s.expires_at > now]


def new_session(
    subject: str,
    channel: str,
    session_id: str,
    *,
    now: float,
    ttl_seconds: int = DEFAULT_SESSION_TTL_SECONDS,
) -> Session:
    """A session that opened at now and expires after ttl_seconds."""
    return Session(subject, channel, session_id, now, now + ttl_seconds)
