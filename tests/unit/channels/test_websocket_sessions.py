"""WebSocket connections in the identity sessions registry, and the closer a revocation uses to end them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from keel.channels.websocket import (
    SIGNED_OUT_MESSAGE,
    ConnectionGone,
    InMemoryConnectionStore,
    WebSocketGateway,
    WebSocketSessionCloser,
)
from keel.errors import InvalidRequest, ServiceUnavailable, StoreUnavailable
from keel.identity.admin import Revoker
from keel.identity.revocation import InMemoryRevocationStore
from keel.identity.sessions import InMemorySessionRegistry, Session, new_session
from tests.unit.channels.world import CARLA, World

ENDPOINT = "https://abc.execute-api.eu-west-1.amazonaws.com/prod"


@dataclass
class Manager:
    """The Management API as the closer sees it: frames posted and connections deleted, per endpoint."""

    endpoints: list[str] = field(default_factory=list)
    frames: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    broken: bool = False

    def post(self, connection_id: str, frame: Any) -> None:
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        self.frames.setdefault(connection_id, []).append(dict(frame))

    def disconnect(self, connection_id: str) -> None:
        if self.broken:
            raise ServiceUnavailable("the WebSocket API cannot be reached")
        self.deleted.append(connection_id)


class FailingRegistry(InMemorySessionRegistry):
    def register(self, session: Session) -> None:
        raise StoreUnavailable("the session registry cannot be written")


def event(route: str, connection: str = "c1", **extra: Any) -> dict[str, Any]:
    context = {"routeKey": route, "connectionId": connection, "domainName": "abc.execute-api.eu-west-1.amazonaws.com"}
    return {"requestContext": {**context, "stage": "prod"}, **extra}


def setup(registry: InMemorySessionRegistry | None = None) -> tuple[WebSocketGateway, InMemoryConnectionStore, Any]:
    world = World()
    connections = InMemoryConnectionStore()
    registry = registry if registry is not None else InMemorySessionRegistry()
    gateway = WebSocketGateway(
        lambda: world.service, connections, lambda endpoint: Manager(), lambda: world.feedback, sessions=registry
    )
    return gateway, connections, registry


def connect(gateway: WebSocketGateway, connection: str = "c1") -> int:
    response = gateway.handle(event("$connect", connection, queryStringParameters={"token": "t-carla"}))
    return int(response["statusCode"])


def test_connect_registers_a_websocket_session_for_the_subject_and_keeps_the_endpoint() -> None:
    gateway, connections, registry = setup()
    assert connect(gateway) == 200
    [session] = registry.sessions(CARLA.subject)
    assert (session.channel, session.session_id) == ("websocket", "c1")
    stored = connections.get("c1")
    assert stored is not None and stored.endpoint == ENDPOINT


def test_disconnect_unregisters_the_session() -> None:
    gateway, connections, registry = setup()
    connect(gateway)
    gateway.handle(event("$disconnect"))
    assert registry.sessions(CARLA.subject) == [] and connections.get("c1") is None


def test_refused_connect_registers_nothing() -> None:
    gateway, _, registry = setup()
    assert gateway.handle(event("$connect", queryStringParameters={"token": "forged"}))["statusCode"] == 401
    assert registry.sessions(CARLA.subject) == []


def test_connect_is_refused_when_the_session_cannot_be_registered() -> None:
    # Fail closed: a connection the revocation path cannot find could outlive a revoked user.
    gateway, _, _ = setup(FailingRegistry())
    assert connect(gateway) == 503


def test_closer_tells_the_client_then_deletes_the_connection_and_forgets_its_token() -> None:
    gateway, connections, registry = setup()
    connect(gateway)
    manager = Manager()
    [session] = registry.sessions(CARLA.subject)
    WebSocketSessionCloser(connections, lambda endpoint: (manager.endpoints.append(endpoint), manager)[1]).close(
        session, "left the company"
    )
    assert manager.endpoints == [ENDPOINT]
    [frame] = manager.frames["c1"]
    assert frame == {"type": "error", "code": "unauthenticated", "message": SIGNED_OUT_MESSAGE, "reconnect": False}
    assert "left the company" not in str(frame)  # the operator's reason is for the audit trail only
    assert manager.deleted == ["c1"] and connections.get("c1") is None


def test_closer_treats_a_connection_that_already_left_as_closed() -> None:
    gateway, connections, registry = setup()
    connect(gateway)
    manager = Manager(gone={"c1"})
    [session] = registry.sessions(CARLA.subject)
    WebSocketSessionCloser(connections, lambda endpoint: manager).close(session, "signed out")
    assert manager.deleted == ["c1"]
    unknown = new_session(CARLA.subject, "websocket", "never-seen", now=0, ttl_seconds=10**10)
    WebSocketSessionCloser(connections, lambda endpoint: manager).close(unknown, "signed out")
    assert manager.deleted == ["c1"]


def test_closer_refuses_sessions_of_other_channels() -> None:
    slack = new_session(CARLA.subject, "slack", "T1:U1", now=0, ttl_seconds=10**10)
    with pytest.raises(InvalidRequest, match="cannot end a 'slack' session"):
        WebSocketSessionCloser(InMemoryConnectionStore(), lambda endpoint: Manager()).close(slack, "x")


def test_revoker_closes_every_open_connection_of_the_user_and_counts_a_failed_one() -> None:
    gateway, connections, registry = setup()
    for connection in ("c1", "c2", "c3"):
        connect(gateway, connection)
    healthy, broken = Manager(), Manager(broken=True)
    closer = WebSocketSessionCloser(connections, lambda endpoint: healthy)
    result = Revoker(InMemoryRevocationStore(), registry, closer).revoke(CARLA.subject, "signed out")
    assert (result.sessions_closed, sorted(healthy.deleted)) == (3, ["c1", "c2", "c3"])
    assert registry.sessions(CARLA.subject) == []

    connect(gateway, "c4")
    failing = WebSocketSessionCloser(connections, lambda endpoint: broken)
    result = Revoker(InMemoryRevocationStore(), registry, failing).revoke(CARLA.subject, "signed out")
    assert (result.sessions_closed, result.sessions_failed) == (0, 1)
    # A session that could not be closed stays registered, so a retry of the revocation finds it.
    assert [s.session_id for s in registry.sessions(CARLA.subject)] == ["c4"]
