"""The agent console on moto: queue, take, reply, hand back, close; only support agents may use it."""

from __future__ import annotations

import json

import pytest

from keel.channels.agent import AgentEndpoint
from keel.conversations.dynamodb import DynamoDBConversationStore
from keel.errors import Conflict, Forbidden
from keel.escalation.console import AgentConsole
from keel.escalation.decision import Decision
from keel.escalation.queues import AgentQueues
from keel.identity.principal import Principal
from keel.local.escalation import LocalEscalation
from tests.integration.escalation.conftest import PRINCIPAL, new_conversation

pytestmark = pytest.mark.integration
SAM = Principal("agent-sam", "sam", frozenset({"it-desk"}), "demo", attributes={"name": "Sam"})
KIM = Principal("agent-kim", "kim", frozenset({"it-desk"}), "demo", attributes={"name": "Kim"})
CORA = Principal("agent-cora", "cora", frozenset({"customer-desk"}), "demo", attributes={"name": "Cora"})
QUEUES = AgentQueues({"it": ["it-desk"], "hr": ["hr-desk"], "customer": ["customer-desk"]})
DECISION = Decision(escalate=True, reason="negative_sentiment", detail="sarcasm")


def test_an_agent_takes_replies_hands_back_and_another_closes(
    clean: LocalEscalation, conversations: DynamoDBConversationStore
) -> None:
    console = AgentConsole(clean.escalations, conversations, QUEUES)
    conversation = new_conversation(conversations)
    handoff = clean.service.escalate(conversation, PRINCIPAL, DECISION, summary="VPN drops hourly")
    assert handoff.kind == "ticket"
    queued = {q["conversation_id"]: q for q in console.queue(SAM)}[conversation.conversation_id]
    assert (queued["reason"], queued["summary"], queued["ticket_id"]) == (
        "negative_sentiment",
        "VPN drops hourly",
        handoff.ticket_id,
    )

    console.take(SAM, conversation.conversation_id)
    with pytest.raises(Conflict):
        console.take(KIM, conversation.conversation_id)
    with pytest.raises(Forbidden):
        console.reply(KIM, conversation.conversation_id, "hi")
    console.reply(SAM, conversation.conversation_id, "Hi, I'm looking at your VPN now.")
    transcript = console.conversation(SAM, conversation.conversation_id)["messages"]
    assert transcript[-2] == {
        **transcript[-2],
        "role": "agent",
        "text": "You're now talking to Sam, a member of our support team.",
    }
    assert transcript[-1]["role"] == "agent" and "VPN now" in transcript[-1]["text"]
    assert conversations.get(conversation.conversation_id).status == "with_agent"  # type: ignore[union-attr]

    console.handback(SAM, conversation.conversation_id)
    assert conversations.get(conversation.conversation_id).status == "open"  # type: ignore[union-attr]
    assert conversation.conversation_id not in {q["conversation_id"] for q in console.queue(SAM)}
    assert {a.agent_id: a.status for a in clean.escalations.agents()}["agent-sam"] == "online"

    console.close(KIM, conversation.conversation_id)
    assert conversations.get(conversation.conversation_id).status == "closed"  # type: ignore[union-attr]


def test_an_agent_of_the_customer_queue_cannot_list_read_or_take_an_internal_escalation(
    clean: LocalEscalation, conversations: DynamoDBConversationStore
) -> None:
    # Given an IT and an HR escalation, and an agent assigned to the customer queue only
    console = AgentConsole(clean.escalations, conversations, QUEUES)
    escalated = []
    for bot in ("it", "hr"):
        conversation = new_conversation(conversations, bot=bot)
        clean.service.escalate(conversation, PRINCIPAL, DECISION, summary=f"{bot} matter")
        escalated.append(conversation.conversation_id)
    # Then neither appears in their queue, and reading, taking, replying or closing either is refused
    assert not set(escalated) & {q["conversation_id"] for q in console.queue(CORA)}
    for conversation_id in escalated:
        for attempt in (console.conversation, console.take, console.close, console.handback):
            with pytest.raises(Forbidden, match="not in a queue you are assigned to"):
                attempt(CORA, conversation_id)
        with pytest.raises(Forbidden):
            console.reply(CORA, conversation_id, "hello")
        assert clean.escalations.require(conversation_id).status != "assigned"
    # While the IT agent sees the IT one and not the HR one
    mine = {q["conversation_id"] for q in console.queue(SAM)}
    assert escalated[0] in mine and escalated[1] not in mine


def test_someone_outside_support_agents_is_refused(
    clean: LocalEscalation, conversations: DynamoDBConversationStore
) -> None:
    with pytest.raises(Forbidden):
        AgentConsole(clean.escalations, conversations, QUEUES).queue(PRINCIPAL)


def test_the_endpoint_routes_and_maps_errors(clean: LocalEscalation, conversations: DynamoDBConversationStore) -> None:
    console = AgentConsole(clean.escalations, conversations, QUEUES)
    users = {"sam-token": SAM, "alex-token": PRINCIPAL}
    endpoint = AgentEndpoint(lambda: (users.__getitem__, console))

    def call(method: str, path: str, token: str, body: object | None = None) -> tuple[int, dict[str, object]]:
        event = {
            "httpMethod": method,
            "path": path,
            "headers": {"Authorization": f"Bearer {token}"},
            "body": json.dumps(body) if body is not None else None,
        }
        response = endpoint.handle(event)
        return response["statusCode"], json.loads(response["body"])

    assert call("GET", "/v1/agent/queue", "sam-token")[0] == 200
    assert call("GET", "/v1/agent/queue", "alex-token")[0] == 403
    assert call("POST", "/v1/agent/presence", "sam-token", {"status": "away"})[0] == 400
    assert call("POST", "/v1/agent/presence", "sam-token", {"status": "online"})[0] == 200
    assert call("POST", "/v1/agent/conversations/does-not-exist-123/take", "sam-token")[0] == 404
    assert call("POST", "/v1/agent/conversations/abcdefgh-1/explode", "sam-token")[0] == 404
