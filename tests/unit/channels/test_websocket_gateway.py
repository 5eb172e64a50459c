"""The WebSocket routes: token checked at $connect and again per message; replies streamed as frames."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from keel.channels.streaming import HUMAN_REQUEST
from keel.channels.websocket import (
    ConnectionGone,
    InMemoryConnectionStore,
    WebSocketGateway,
    management_endpoint,
)
from tests.unit.channels.world import World


@dataclass
class Outbox:
    frames: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    endpoints: list[str] = field(default_factory=list)

    def post(self, connection_id: str, frame: Any) -> None:
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        self.frames.setdefault(connection_id, []).append(json.loads(json.dumps(frame)))


def gateway(world: World) -> tuple[WebSocketGateway, Outbox, InMemoryConnectionStore]:
    outbox = Outbox()
    store = InMemoryConnectionStore()

    def poster(endpoint: str) -> Outbox:
        outbox.endpoints.append(endpoint)
        return outbox

    return WebSocketGateway(lambda: world.service, store, poster, lambda: world.feedback), outbox, store


def event(route: str, connection: str = "c1", **extra: Any) -> dict[str, Any]:
    context = {
        "routeKey": route,
        "connectionId": connection,
        "domainName": "abc.execute-api.eu-west-1.amazonaws.com",
        "stage": "prod",
    }
    return {"requestContext": context, **extra}


def send(handler: WebSocketGateway, body: dict[str, Any], connection: str = "c1") -> None:
    assert handler.handle(event(body["action"], connection, body=json.dumps(body)))["statusCode"] == 200


def test_connect_with_the_token_as_subprotocol_echoes_the_protocol() -> None:
    handler, _, store = gateway(World())
    response = handler.handle(event("$connect", headers={"Sec-WebSocket-Protocol": "keel.v1, t-carla"}))
    assert response == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "keel.v1"}}
    assert store.get("c1") is not None


def test_connect_with_the_token_in_the_query_string() -> None:
    handler, _, _ = gateway(World())
    assert handler.handle(event("$connect", queryStringParameters={"token": "t-carla"}))["statusCode"] == 200


@pytest.mark.parametrize("extra", [{}, {"queryStringParameters": {"token": "forged"}}])
def test_connect_without_a_valid_token_is_refused(extra: dict[str, Any]) -> None:
    handler, _, store = gateway(World())
    assert handler.handle(event("$connect", **extra))["statusCode"] == 401
    assert store.get("c1") is None


def test_message_streams_deltas_then_done_with_citations() -> None:
    handler, outbox, _ = gateway(World())
    handler.handle(event("$connect", queryStringParameters={"token": "t-carla"}))
    send(handler, {"action": "sendMessage", "bot": "customer", "message": "Are refunds possible?", "request_id": "r1"})
    frames = outbox.frames["c1"]
    assert len(frames) > 2 and frames[-1]["type"] == "done"
    assert "Refunds are possible" in "".join(f["text"] for f in frames[:-1])
    assert frames[-1]["citations"][0]["doc_id"] == "customer-refunds" and frames[-1]["request_id"] == "r1"
    assert outbox.endpoints == ["https://abc.execute-api.eu-west-1.amazonaws.com/prod"]


def test_policy_applies_the_same_as_the_api() -> None:
    handler, outbox, _ = gateway(World())
    handler.handle(event("$connect", queryStringParameters={"token": "t-carla"}))
    send(handler, {"action": "sendMessage", "bot": "hr", "message": "annual leave"})
    assert outbox.frames["c1"] == [
        {"type": "error", "request_id": None, "code": "forbidden", "message": "you may not use the hr bot"}
    ]


def test_revoked_token_is_refused_on_the_next_message() -> None:
    world = World()
    handler, outbox, _ = gateway(world)
    handler.handle(event("$connect", queryStringParameters={"token": "t-carla"}))
    del world.tokens["t-carla"]
    send(handler, {"action": "sendMessage", "bot": "customer", "message": "refunds?"})
    [frame] = outbox.frames["c1"]
    assert frame["code"] == "unauthenticated" and frame["reconnect"] is True


def test_talk_to_a_person_goes_through_the_same_turn() -> None:
    world = World()
    handler, outbox, _ = gateway(world)
    handler.handle(event("$connect", queryStringParameters={"token": "t-carla"}))
    send(handler, {"action": "sendMessage", "bot": "customer", "message": "Are refunds possible?"})
    conversation = outbox.frames["c1"][-1]["conversation_id"]
    send(handler, {"action": "talkToPerson", "bot": "customer", "conversation_id": conversation})
    assert world.conversations.messages(conversation)[-2].text == HUMAN_REQUEST
    assert outbox.frames["c1"][-1]["type"] == "done"


def test_feedback_and_csat_are_stored() -> None:
    world = World()
    handler, outbox, _ = gateway(world)
    handler.handle(event("$connect", queryStringParameters={"token": "t-carla"}))
    send(handler, {"action": "sendMessage", "bot": "customer", "message": "Are refunds possible?"})
    done = outbox.frames["c1"][-1]
    ids = {"conversation_id": done["conversation_id"], "message_id": done["message_id"]}
    send(handler, {"action": "feedback", **ids, "rating": "up"})
    send(handler, {"action": "feedback", **ids, "csat": 5})
    assert outbox.frames["c1"][-1]["type"] == "feedback"
    stored = world.feedback_store.items[(ids["conversation_id"], ids["message_id"])]
    assert (stored.rating, stored.csat, stored.channel) == ("up", 5, "web")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("not json", "not valid JSON"),
        ('{"action": "dance"}', "action"),
        ("[]", "JSON object"),
        ('{"action": "feedback", "conversation_id": "conv-0001", "message_id": "msg-00001"}', "give rating"),
    ],
)
def test_bad_frames_get_an_error_frame_naming_the_problem(body: str, fragment: str) -> None:
    handler, outbox, _ = gateway(World())
    handler.handle(event("$connect", queryStringParameters={"token": "t-carla"}))
    handler.handle(event("sendMessage", body=body))
    [frame] = outbox.frames["c1"]
    assert frame["type"] == "error" and frame["code"] == "invalid_request" and fragment in frame["message"]


def test_message_on_an_unknown_connection_asks_to_reconnect() -> None:
    handler, outbox, _ = gateway(World())
    send(handler, {"action": "sendMessage", "bot": "customer", "message": "refunds?"}, connection="c9")
    assert outbox.frames["c9"][0]["reconnect"] is True


def test_client_gone_mid_stream_forgets_the_connection() -> None:
    handler, outbox, store = gateway(World())
    handler.handle(event("$connect", queryStringParameters={"token": "t-carla"}))
    outbox.gone.add("c1")
    send(handler, {"action": "sendMessage", "bot": "customer", "message": "Are refunds possible?"})
    assert store.get("c1") is None


def test_disconnect_forgets_the_connection() -> None:
    handler, _, store = gateway(World())
    handler.handle(event("$connect", queryStringParameters={"token": "t-carla"}))
    assert handler.handle(event("$disconnect"))["statusCode"] == 200
    assert store.get("c1") is None


def test_reauthenticate_refreshes_the_token_but_never_the_user() -> None:
    world = World()
    world.tokens["t-carla-2"] = world.tokens["t-carla"]
    handler, outbox, store = gateway(world)
    handler.handle(event("$connect", queryStringParameters={"token": "t-carla"}))
    send(handler, {"action": "authenticate", "token": "t-carla-2"})
    assert outbox.frames["c1"][-1]["type"] == "authenticated"
    assert store.items["c1"].claims["fake:token"] == "t-carla-2"
    send(handler, {"action": "authenticate", "token": "t-emma"})
    assert "cannot change user" in outbox.frames["c1"][-1]["message"]


@pytest.mark.parametrize(
    ("domain", "stage", "expected"),
    [
        ("abc.execute-api.us-east-1.amazonaws.com", "prod", "https://abc.execute-api.us-east-1.amazonaws.com/prod"),
        ("127.0.0.1:4510", "local", "http://127.0.0.1:4510/local"),
    ],
)
def test_management_endpoint_is_the_apis_own_url(domain: str, stage: str, expected: str) -> None:
    assert management_endpoint({"domainName": domain, "stage": stage}) == expected
