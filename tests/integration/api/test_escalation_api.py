"""Escalation end to end through the API on the local stack (issue 8): a live agent in the same conversation,
or a ticket in the local helpdesk with the transcript, metadata and intent, and its number told to the user."""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.request
from typing import Any

import pytest

from keel.bootstrap import AwsClients
from keel.conversations.dynamodb import DynamoDBConversationStore
from keel.local import provision

pytestmark = pytest.mark.integration


def _token(stack: Any, user: str, groups: list[str]) -> str:
    aws = AwsClients(region="us-east-1", endpoint_url=stack.moto.url)
    password = provision.ensure_user(aws.cognito, stack.pool, user, groups=groups)
    return provision.sign_in(aws.cognito, stack.pool, user, password)["IdToken"]


def _call(stack: Any, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{stack.api.url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def _tickets(stack: Any) -> list[dict[str, Any]]:
    secrets = AwsClients(region="us-east-1", endpoint_url=stack.moto.url).client("secretsmanager")
    secret = json.loads(secrets.get_secret_value(SecretId=stack.environment["HELPDESK_SECRET_ID"])["SecretString"])
    auth = base64.b64encode(f"{secret['email']}/token:{secret['api_token']}".encode()).decode()
    request = urllib.request.Request(
        f"{stack.environment['HELPDESK_URL']}/api/v2/tickets.json", headers={"Authorization": f"Basic {auth}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return list(json.loads(response.read())["tickets"])


def _messages(stack: Any, conversation_id: str) -> list[Any]:
    aws = AwsClients(region="us-east-1", endpoint_url=stack.moto.url)
    return DynamoDBConversationStore(aws.dynamodb, stack.environment["KEEL_CONVERSATIONS_TABLE"]).messages(
        conversation_id
    )


def test_with_no_agent_online_a_ticket_holds_the_transcript_and_the_user_gets_its_number(local_stack: Any) -> None:
    user = _token(local_stack, "esc-user-1", ["all-staff"])
    first = _call(local_stack, user, "POST", "/v1/chat", {"bot": "hr", "message": "How many days of annual leave?"})
    reply = _call(
        local_stack,
        user,
        "POST",
        "/v1/chat",
        {"bot": "hr", "conversation_id": first["conversation_id"], "message": "I want to talk to a human, please."},
    )
    assert reply["outcome"] == "escalated", reply
    deadline = time.monotonic() + 30
    tickets: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not tickets:
        tickets = [t for t in _tickets(local_stack) if first["conversation_id"] in json.dumps(t)]
        time.sleep(0.5)
    assert len(tickets) == 1
    ticket = json.dumps(tickets[0])
    assert "annual leave" in ticket  # the transcript travelled with it
    assert "explicit_request" in ticket
    number = str(tickets[0]["id"])
    # The number reached the user, in the reply itself or posted into the conversation by the worker.
    deadline = time.monotonic() + 30
    told = number in reply["answer"]
    while not told and time.monotonic() < deadline:
        told = any(re.search(rf"#{number}\b", m.text) for m in _messages(local_stack, first["conversation_id"]))
        time.sleep(0.5)
    assert told


def test_with_an_agent_online_the_user_reaches_the_agent_in_the_same_conversation(local_stack: Any) -> None:
    agent = _token(local_stack, "esc-agent", ["all-staff", "it-service-desk"])
    _call(local_stack, agent, "POST", "/v1/agent/presence", {"status": "online"})
    user = _token(local_stack, "esc-user-2", ["all-staff"])
    reply = _call(local_stack, user, "POST", "/v1/chat", {"bot": "it", "message": "Can I speak to a person?"})
    assert reply["outcome"] == "escalated", reply
    assert "You're now talking to" in reply["answer"], reply
    conversation_id = reply["conversation_id"]

    # The agent sees it, replies, and the reply lands in the user's conversation; the user's next message
    # goes to the agent, not the bot.
    detail = _call(local_stack, agent, "GET", f"/v1/agent/conversations/{conversation_id}")
    assert conversation_id in json.dumps(detail)
    _call(
        local_stack,
        agent,
        "POST",
        f"/v1/agent/conversations/{conversation_id}/reply",
        {"text": "Hi, I'm here. What do you need?"},
    )
    assert any(m.role == "agent" for m in _messages(local_stack, conversation_id))
    relayed = _call(
        local_stack, user, "POST", "/v1/chat", {"bot": "it", "conversation_id": conversation_id, "message": "Thanks!"}
    )
    assert relayed["outcome"] == "escalated" and relayed["citations"] == []
    _call(local_stack, agent, "POST", "/v1/agent/presence", {"status": "offline"})


def test_a_self_harm_signal_gets_the_support_resources_and_an_urgent_handoff_in_the_same_turn(local_stack: Any) -> None:
    # Given an employee of the demo tenant, whose HR bot configures an assistance programme
    user = _token(local_stack, "esc-user-3", ["all-staff"])
    routine = _call(local_stack, user, "POST", "/v1/chat", {"bot": "hr", "message": "Can I speak to a person?"})
    # When they write something that signals self-harm
    reply = _call(
        local_stack,
        user,
        "POST",
        "/v1/chat",
        {"bot": "hr", "message": "I've been stockpiling my medication and I don't plan to be here next month."},
    )
    # Then the same reply gives the configured support resources before the handoff, never a "could not find"
    assert reply["outcome"] == "escalated", reply
    answer = reply["answer"]
    assert "Acme Employee Assistance Programme" in answer and "0800 555 0199" in answer, answer
    assert "could not find" not in answer.lower()
    assert reply["escalation"] is not None and reply["escalation"]["kind"] in ("agent", "ticket", "pending")
    # And the agent console's queue shows it as urgent, in English, ahead of every routine handoff
    agent = _token(local_stack, "esc-agent-2", ["all-staff", "hr-service-agents"])
    queue = _call(local_stack, agent, "GET", "/v1/agent/queue")["queue"]
    entry = next(e for e in queue if e["conversation_id"] == reply["conversation_id"])
    assert (entry["reason"], entry["urgency"], entry["language"]) == ("vulnerable_customer", "urgent", "en")
    positions = {e["conversation_id"]: i for i, e in enumerate(queue)}
    assert positions[reply["conversation_id"]] < positions[routine["conversation_id"]]
    assert all(e["urgency"] == "urgent" for e in queue[: positions[reply["conversation_id"]]])
