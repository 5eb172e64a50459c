"""The WebSocket channel through the local API Gateway stand-in: real handshake, DynamoDB connection records,
frames pushed back with boto3's apigatewaymanagementapi client (PostToConnection) over loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from keel.local.websocket import LocalWebSocketApi
from tests.integration.channels.conftest import ChannelEnv

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ws(channel_env: ChannelEnv) -> Iterator[LocalWebSocketApi]:
    gateway = channel_env.channels.websocket_gateway()
    server = LocalWebSocketApi(lambda event, context: gateway.handle(event)).start()
    yield server
    server.stop()


def guest_token(env: ChannelEnv) -> str:
    session = env.channels.guest_endpoint().handle({"headers": {}, "requestContext": {"requestId": "g"}})
    assert session["statusCode"] == 200, session
    return str(json.loads(session["body"])["token"])


def until_done(socket: Any) -> list[dict[str, Any]]:
    frames = []
    while True:
        frame = json.loads(socket.recv(timeout=10))
        frames.append(frame)
        if frame["type"] in ("done", "error", "feedback"):
            return frames


def real_service_token(env: ChannelEnv, token: str) -> str:
    # The fake-model world knows tokens by value: register the guest's real Cognito token as a customer.
    from tests.unit.channels.world import CARLA

    env.world.tokens[token] = CARLA
    return token


def test_guest_session_is_a_cognito_user_in_customers(channel_env: ChannelEnv) -> None:
    from jose import jwt

    claims = jwt.get_unverified_claims(guest_token(channel_env))
    assert claims["cognito:groups"] == ["customers"]
    assert claims["cognito:username"].startswith("guest-")


def test_streamed_answer_with_citations_then_feedback(channel_env: ChannelEnv, ws: LocalWebSocketApi) -> None:
    token = real_service_token(channel_env, guest_token(channel_env))
    with connect(ws.url, subprotocols=["keel.v1", token]) as socket:  # type: ignore[list-item]
        assert socket.subprotocol == "keel.v1"
        socket.send(
            json.dumps(
                {"action": "sendMessage", "bot": "customer", "message": "Are refunds possible?", "request_id": "q1"}
            )
        )
        frames = until_done(socket)
        assert [f["type"] for f in frames].count("delta") >= 2 and frames[-1]["type"] == "done"
        assert frames[-1]["citations"][0]["doc_id"] == "customer-refunds"
        done = frames[-1]
        socket.send(
            json.dumps(
                {
                    "action": "feedback",
                    "conversation_id": done["conversation_id"],
                    "message_id": done["message_id"],
                    "csat": 5,
                }
            )
        )
        receipt = until_done(socket)[-1]
        assert (receipt["type"], receipt["csat"], receipt["message_id"]) == ("feedback", 5, done["message_id"])
    item = channel_env.clients.dynamodb.get_item(
        TableName=channel_env.names.tables["conversations"].name,
        Key={"pk": {"S": f"CONV#{done['conversation_id']}"}, "sk": {"S": f"FEEDBACK#{done['message_id']}"}},
    )["Item"]
    assert item["csat"]["N"] == "5" and item["channel"]["S"] == "web"


def test_handshake_without_a_valid_token_is_refused_with_401(ws: LocalWebSocketApi) -> None:
    for protocols in (["keel.v1", "forged-token"], None):
        with pytest.raises(InvalidStatus) as refused:
            connect(ws.url, subprotocols=protocols).close()  # type: ignore[arg-type]
        assert refused.value.response.status_code == 401


def test_connection_records_are_kept_then_forgotten_on_close(channel_env: ChannelEnv, ws: LocalWebSocketApi) -> None:
    table = channel_env.names.tables["idempotency"].name
    token = real_service_token(channel_env, guest_token(channel_env))

    def connections() -> int:
        items = channel_env.clients.dynamodb.scan(TableName=table)["Items"]
        return sum(1 for i in items if i["pk"]["S"].startswith("WSCONN#"))

    before = connections()
    with connect(f"{ws.url}/?token={token}") as socket:
        assert connections() == before + 1
        socket.send(json.dumps({"action": "talkToPerson", "bot": "customer"}))
        assert until_done(socket)[-1]["type"] == "done"
    import time

    deadline = time.monotonic() + 5
    while connections() != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connections() == before
