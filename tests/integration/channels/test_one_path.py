"""One path: the same principal asking the same question through the API, the WebSocket and Slack gets the
same policy decision and the same citations, because every channel calls the same turn."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier
from websockets.sync.client import connect

from keel.channels.slack import SlackJob
from keel.local import provision
from tests.integration.channels.conftest import SIGNING_SECRET, ChannelStack

pytestmark = pytest.mark.integration
QUESTION = "How many days of annual leave do I get?"


def via_api(stack: ChannelStack, token: str, bot: str) -> dict[str, Any]:
    body = json.dumps({"bot": bot, "message": QUESTION}).encode()
    request = urllib.request.Request(
        f"{stack.api.url}/v1/chat",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            reply = json.loads(response.read())
            return {"decision": "allowed", "citations": [c["doc_id"] for c in reply["citations"]]}
    except urllib.error.HTTPError as exc:
        return {"decision": json.loads(exc.read())["error"]["code"], "citations": []}


def via_websocket(stack: ChannelStack, token: str, bot: str) -> dict[str, Any]:
    with connect(stack.ws.url, subprotocols=["keel.v1", token]) as socket:  # type: ignore[list-item]
        socket.send(json.dumps({"action": "sendMessage", "bot": bot, "message": QUESTION}))
        while True:
            frame = json.loads(socket.recv(timeout=10))
            if frame["type"] == "done":
                return {"decision": "allowed", "citations": [c["doc_id"] for c in frame["citations"]]}
            if frame["type"] == "error":
                return {"decision": frame["code"], "citations": []}


def via_slack(stack: ChannelStack, slack_user: str, bot: str, event_id: str) -> dict[str, Any]:
    env = stack.env
    worker = env.channels.slack_worker()
    worker._bot = bot  # the workspace's bot is configuration (KEEL_SLACK_BOT); both are exercised here
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": event_id,
            "event": {
                "type": "app_mention",
                "user": slack_user,
                "channel": "C1",
                "ts": f"1700000001.{event_id[-4:]}",
                "text": f"<@UKEELBOT> {QUESTION}",
            },
        }
    ).encode()
    ts = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body),
        "Content-Type": "application/json",
    }
    request = urllib.request.Request(f"{stack.api.url}/slack/events", data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    env.slack.clear()
    for record in env.receive_jobs():
        worker.process(SlackJob.model_validate_json(record["body"]))
    [post] = env.slack.messages()
    if post["blocks"]:
        cited = [c for b in post["blocks"] if b["type"] == "context" for c in _doc_ids(json.dumps(b))]
        return {"decision": "allowed", "citations": cited}
    return {"decision": "forbidden" if "may not use" in post["text"] else post["text"], "citations": []}


def _doc_ids(text: str) -> list[str]:
    import re

    return re.findall(r"`([a-z0-9-]+)`", text)


@pytest.mark.parametrize(("bot", "decision"), [("hr", "allowed"), ("customer", "forbidden")])
def test_same_principal_same_question_same_decision_and_citations_everywhere(
    channel_stack: ChannelStack, bot: str, decision: str
) -> None:
    env = channel_stack.env
    password = provision.ensure_user(
        env.clients.cognito,
        env.pool,
        "olivia",
        groups=["all-staff"],
        email="olivia@acme.example",
        department="engineering",
    )
    token = provision.sign_in(env.clients.cognito, env.pool, "olivia", password)["IdToken"]
    env.slack.add_user("UOLIVIA", "olivia@acme.example")

    api = via_api(channel_stack, token, bot)
    web = via_websocket(channel_stack, token, bot)
    slack = via_slack(channel_stack, "UOLIVIA", bot, f"EvOne{bot[:2]}{int(time.time()) % 10_000:04d}")

    assert api == web == slack
    assert api["decision"] == decision
    if decision == "allowed":
        assert api["citations"] == ["hr-annual-leave"]
