"""An agent's reply reaches the user's open widget: WebSocketNotifier over the sessions registry (issue 20)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keel.channels.websocket import (
    SESSION_CHANNEL,
    Connection,
    ConnectionGone,
    InMemoryConnectionStore,
    WebSocketNotifier,
)
from keel.errors import ServiceUnavailable
from keel.identity.sessions import InMemorySessionRegistry, new_session

ENDPOINT = "http://127.0.0.1:9/local"


@dataclass
class Poster:
    gone: set[str] = field(default_factory=set)
    down: bool = False
    posted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def post(self, connection_id: str, frame: Any) -> None:
        if self.down:
            raise ServiceUnavailable("the WebSocket API cannot be reached")
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        self.posted.append((connection_id, frame))


def setup(*connections: str, subject: str = "user-1") -> tuple[InMemorySessionRegistry, InMemoryConnectionStore]:
    sessions, store = InMemorySessionRegistry(), InMemoryConnectionStore()
    for connection in connections:
        sessions.register(new_session(subject, SESSION_CHANNEL, connection, now=0, ttl_seconds=10**10))
        store.put(Connection(connection, "token", subject, 10**10, ENDPOINT))
    return sessions, store


def test_every_open_connection_of_the_user_gets_the_frame_and_nobody_else() -> None:
    sessions, store = setup("c1", "c2")
    sessions.register(new_session("other", SESSION_CHANNEL, "c3", now=0, ttl_seconds=10**10))
    sessions.register(new_session("user-1", "slack", "thread-1", now=0, ttl_seconds=10**10))
    poster = Poster()
    endpoints: list[str] = []

    def factory(endpoint: str) -> Poster:
        endpoints.append(endpoint)
        return poster

    frame = {"type": "agent_message", "conversation_id": "conv-1", "text": "Hello"}
    WebSocketNotifier(sessions, store, factory).notify("user-1", frame)
    assert sorted(c for c, _ in poster.posted) == ["c1", "c2"]
    assert all(f == frame for _, f in poster.posted) and set(endpoints) == {ENDPOINT}


def test_a_connection_that_left_is_forgotten_and_the_others_still_get_the_frame() -> None:
    sessions, store = setup("gone", "open")
    poster = Poster(gone={"gone"})
    WebSocketNotifier(sessions, store, lambda _: poster).notify("user-1", {"type": "status", "text": "x"})
    assert [c for c, _ in poster.posted] == ["open"]
    assert store.get("gone") is None
    assert [s.session_id for s in sessions.sessions("user-1")] == ["open"]


def test_an_unreachable_websocket_api_does_not_fail_the_agents_reply() -> None:
    sessions, store = setup("c1")
    WebSocketNotifier(sessions, store, lambda _: Poster(down=True)).notify("user-1", {"type": "status"})
    assert store.get("c1") is not None  # kept: the API may be back for the next frame


def test_a_user_without_open_connections_gets_nothing() -> None:
    sessions, store = setup()
    poster = Poster()
    WebSocketNotifier(sessions, store, lambda _: poster).notify("user-1", {"type": "status"})
    assert poster.posted == []


def test_one_notifier_failing_neither_stops_the_others_nor_the_agents_action() -> None:
    from keel.channels.wiring import FanOutNotifier

    class Broken:
        def notify(self, subject: str, frame: dict[str, Any]) -> None:
            raise ServiceUnavailable("the sessions cannot be read")

    sessions, store = setup("c1")
    poster = Poster()
    widget = WebSocketNotifier(sessions, store, lambda endpoint: poster)
    FanOutNotifier([Broken(), widget]).notify("user-1", {"type": "agent_message", "text": "hello"})
    assert [c for c, _ in poster.posted] == ["c1"]
