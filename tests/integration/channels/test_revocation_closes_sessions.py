"""Issue 3 acceptance on the local stack: after an admin disable, and separately after a global sign-out, the very
next API call with the old token gets 401, an open WebSocket is closed, and the next reply in an existing Slack
thread is refused (R5).

The revocation path is the identity package's Revoker with the adapters the stack uses (the revocations and
sessions tables in moto DynamoDB, Cognito in moto); its SessionCloser is the web channel's, which reaches the
local WebSocket API through its Management API exactly as it reaches API Gateway's in AWS.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from keel.bootstrap import AwsClients
from keel.channels.slack_worker import SIGNED_OUT_MESSAGE as SLACK_SIGNED_OUT_MESSAGE
from keel.channels.websocket import SIGNED_OUT_MESSAGE
from keel.channels.wiring import ChannelConfig, Channels
from keel.errors import KeelError
from keel.identity.admin import Revoker
from keel.identity.cognito import CognitoDirectory
from keel.identity.revocation import DynamoDBRevocationStore
from keel.identity.sessions import DynamoDBSessionRegistry
from keel.settings import load_settings
from tests.integration.channels.live import Live, mention, new_channel, slack_citations, until_terminal

pytestmark = pytest.mark.integration
QUESTION = "How many days of annual leave do I get?"


def revoker(live: Live) -> tuple[Revoker, DynamoDBSessionRegistry]:
    settings = load_settings(live.stack.environment)
    clients = AwsClients.from_settings(settings)

    def no_turn() -> object:
        raise KeelError("the revocation path never runs a turn")

    channels = Channels(ChannelConfig.from_settings(settings), clients, no_turn)  # type: ignore[arg-type]
    sessions = DynamoDBSessionRegistry(clients.dynamodb, settings.sessions_table)
    store = DynamoDBRevocationStore(clients.dynamodb, settings.revocations_table)
    directory = CognitoDirectory(clients.cognito, live.stack.pool.pool_id)
    return Revoker(store, sessions, channels.websocket_closer(), directory), sessions


@pytest.mark.parametrize("disable", [True, False], ids=["admin-disable", "global-sign-out"])
def test_revocation_refuses_the_next_api_call_and_closes_the_open_websocket(live: Live, disable: bool) -> None:
    # Given a signed-in employee with an open, working chat WebSocket and a working API token
    username, token = live.new_user("leaver", ["all-staff"], department="engineering")
    assert live.post("/v1/chat", {"bot": "auto", "message": QUESTION}, token)[0] == 200
    with live.websocket(token) as socket:
        socket.send(json.dumps({"action": "sendMessage", "bot": "auto", "message": QUESTION}))
        assert until_terminal(socket)[-1]["type"] == "done"
        path, sessions = revoker(live)
        subject = live.clients.cognito.admin_get_user(UserPoolId=live.stack.pool.pool_id, Username=username)
        sub = next(a["Value"] for a in subject["UserAttributes"] if a["Name"] == "sub")
        assert [s.channel for s in sessions.sessions(sub)] == ["websocket"]

        # When an administrator disables the user, or signs them out everywhere
        started = time.perf_counter()
        reason = "left the company" if disable else "signed out by an administrator"
        result = path.revoke(username, reason, disable=disable)
        assert (result.sessions_closed, result.sessions_failed) == (1, 0)

        # Then the open WebSocket is told why and closed by the server
        frame = json.loads(socket.recv(timeout=10))
        assert frame == {"type": "error", "code": "unauthenticated", "message": SIGNED_OUT_MESSAGE, "reconnect": False}
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)
        print(f"{'disable' if disable else 'sign-out'}: socket closed {1000 * (time.perf_counter() - started):.0f} ms")
        assert socket.close_code == 1000
        assert sessions.sessions(sub) == []

    # And the very next API call with the old token is refused, as is a new WebSocket with it
    status, body = live.post("/v1/chat", {"bot": "auto", "message": QUESTION}, token)
    assert status == 401, body
    assert ("disabled" if disable else "signed out") in body["error"]["message"]
    with pytest.raises(InvalidStatus) as refused:
        live.websocket(token).close()
    assert refused.value.response.status_code == 401


def test_closing_the_websocket_forgets_the_session(live: Live) -> None:
    username, token = live.new_user("closer", ["all-staff"])
    subject = live.clients.cognito.admin_get_user(UserPoolId=live.stack.pool.pool_id, Username=username)
    sub = next(a["Value"] for a in subject["UserAttributes"] if a["Name"] == "sub")
    _, sessions = revoker(live)
    with live.websocket(token):
        assert len(sessions.sessions(sub)) == 1
    deadline = time.monotonic() + 5
    while sessions.sessions(sub) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sessions.sessions(sub) == []


def in_thread(user: str, channel: str, text: str, root: str) -> bytes:
    """A mention replying in the thread that root started."""
    body = json.loads(mention(user, channel, text))
    body["event"]["thread_ts"] = root
    return json.dumps(body).encode()


@pytest.mark.parametrize("disable", [True, False], ids=["admin-disable", "global-sign-out"])
def test_revocation_ends_the_existing_slack_thread(live: Live, disable: bool) -> None:
    # Given an employee talking to Keel in a Slack thread (Slack sends no token: the worker maps the e-mail)
    username, _ = live.new_user("slacker", ["all-staff"], department="engineering")
    slack_user = f"U{uuid.uuid4().hex[:8].upper()}"
    live.add_slack_user(slack_user, f"{username}@acme.example")
    channel, root = new_channel(), f"{time.time():.6f}"
    assert live.send(live.slack_request("/slack/events", mention(slack_user, channel, QUESTION, ts=root)))[0] == 200
    live.wait_for_slack(channel, 1)
    follow_up = "Do unused days of annual leave carry over?"
    assert live.send(live.slack_request("/slack/events", in_thread(slack_user, channel, follow_up, root)))[0] == 200
    answers = live.wait_for_slack(channel, 2)
    assert all(slack_citations(a) for a in answers), answers

    # When an administrator disables the user, or signs them out everywhere
    path, _ = revoker(live)
    path.revoke(username, "left the company" if disable else "signed out by an administrator", disable=disable)

    # Then the next reply in the thread is refused, saying why, and no answer follows it
    assert live.send(live.slack_request("/slack/events", in_thread(slack_user, channel, follow_up, root)))[0] == 200
    refusal = live.wait_for_slack(channel, 3)[2]
    assert refusal["thread_ts"] == root and slack_citations(refusal) == []
    assert ("disabled" if disable else SLACK_SIGNED_OUT_MESSAGE) in refusal["text"]

    # And a new message in the channel: refused for a disabled user, a new conversation after a sign-out
    fresh = f"{time.time():.6f}"
    assert live.send(live.slack_request("/slack/events", mention(slack_user, channel, QUESTION, ts=fresh)))[0] == 200
    last = live.wait_for_slack(channel, 4)[3]
    assert last["thread_ts"] == fresh
    if disable:
        assert "disabled" in last["text"] and slack_citations(last) == []
    else:
        assert "hr-annual-leave" in slack_citations(last)
