"""The handoff end to end on moto's Step Functions and the local helpdesk (R18)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from keel.conversations.dynamodb import DynamoDBConversationStore
from keel.escalation.decision import Decision
from keel.escalation.records import Agent
from keel.local.escalation import LocalEscalation
from tests.integration.escalation.conftest import PRINCIPAL, new_conversation

pytestmark = pytest.mark.integration
EXPLICIT = Decision(escalate=True, reason="explicit_request", detail="the user asked for a human")
FRAUD = Decision(escalate=True, reason="high_risk_intent", detail="high-risk intent: fraud", intent="fraud")


def wait_for(condition: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_an_online_agent_is_assigned_and_named(
    clean: LocalEscalation, conversations: DynamoDBConversationStore
) -> None:
    # Given an agent of the IT queue online
    clean.escalations.set_presence(Agent("agent-dana", "Dana", "online", bots=("it",)))
    conversation = new_conversation(conversations)
    # When the conversation is escalated
    handoff = clean.service.escalate(conversation, PRINCIPAL, EXPLICIT, summary="VPN drops hourly")
    # Then the agent is assigned and the user is told who they are talking to
    assert handoff.kind == "agent"
    assert handoff.message == "You're now talking to Dana, a member of our support team."
    record = clean.escalations.require(conversation.conversation_id)
    assert (record.status, record.agent_id) == ("assigned", "agent-dana")
    assert {a.agent_id: a.status for a in clean.escalations.agents()}["agent-dana"] == "busy"
    assert conversations.get(conversation.conversation_id).status == "with_agent"  # type: ignore[union-attr]
    assert clean.helpdesk.tickets(record.escalation_id) == []


def test_an_online_agent_of_another_queue_is_not_offered_the_conversation(
    clean: LocalEscalation, conversations: DynamoDBConversationStore
) -> None:
    # Given only an agent of the customer queue online
    clean.escalations.set_presence(Agent("agent-cora", "Cora", "online", bots=("customer",)))
    conversation = new_conversation(conversations, bot="hr")
    # When an HR conversation is escalated
    handoff = clean.service.escalate(conversation, PRINCIPAL, EXPLICIT, summary="a grievance")
    # Then it goes to the helpdesk, not to the customer agent
    assert handoff.kind == "ticket"
    assert {a.agent_id: a.status for a in clean.escalations.agents()}["agent-cora"] == "online"


def test_with_no_agent_a_ticket_holds_transcript_metadata_and_intent(
    clean: LocalEscalation, conversations: DynamoDBConversationStore
) -> None:
    conversation = new_conversation(conversations)
    handoff = clean.service.escalate(conversation, PRINCIPAL, FRAUD, summary="unknown card payment")
    assert handoff.kind == "ticket"
    [ticket] = clean.helpdesk.tickets(handoff.escalation_id)
    assert str(ticket["id"]) == handoff.ticket_id
    assert f"#{handoff.ticket_id}" in handoff.message
    # The transcript as stored (masked), the user's metadata without PII, the intent and the reason.
    assert "My VPN drops every hour, my email is <EMAIL_1>" in ticket["description"]
    assert "I want to talk to a human please" in ticket["description"]
    assert "alex@example.test" not in str(ticket)
    assert ticket["metadata"]["user"] == {
        "subject": "sub-123",
        "groups": ["all-staff", "engineering"],
        "department": "engineering",
        "tenant": "demo",
        "kind": "internal",
    }
    assert ticket["metadata"]["intent"] == "fraud"
    assert ticket["metadata"]["reason"] == "high_risk_intent"
    assert "keel-intent-fraud" in ticket["tags"]
    assert ticket["priority"] == "high"
    execution = _execution_output(clean, handoff.escalation_id)
    assert execution == {"outcome": "ticket", "ticket_id": handoff.ticket_id}


def test_helpdesk_down_then_back_creates_the_ticket_exactly_once(
    clean: LocalEscalation, conversations: DynamoDBConversationStore
) -> None:
    # Given the helpdesk is down
    clean.helpdesk.fault("down")
    conversation = new_conversation(conversations)
    # When the conversation is escalated, the user is told honestly
    handoff = clean.service.escalate(conversation, PRINCIPAL, EXPLICIT, summary="VPN")
    assert handoff.kind == "pending"
    assert "ticketing system is not responding" in handoff.message.lower()
    # The turn stores that message with the handoff meta; the record asks the worker to post the number
    assert clean.escalations.require(conversation.conversation_id).notify_user
    assert clean.helpdesk.tickets(handoff.escalation_id) == []
    # Then the helpdesk comes back and the workflow's backoff loop creates the ticket, once
    clean.helpdesk.fault("ok")
    [ticket] = wait_for(lambda: clean.helpdesk.tickets(handoff.escalation_id))
    record = wait_for(
        lambda: (r := clean.escalations.get(conversation.conversation_id)) and r.status == "ticketed" and r
    )
    assert record.ticket_id == str(ticket["id"])
    posted = wait_for(
        lambda: [
            m
            for m in conversations.messages(conversation.conversation_id)
            if m.role == "assistant" and f"#{ticket['id']}" in m.text
        ]
    )
    assert len(posted) == 1
    time.sleep(2.5)  # a late duplicate would have arrived within one more backoff step
    assert len(clean.helpdesk.tickets(handoff.escalation_id)) == 1


def test_a_create_that_landed_despite_an_error_is_found_not_repeated(
    clean: LocalEscalation, conversations: DynamoDBConversationStore
) -> None:
    # Given a helpdesk failing while (as after a lost response) the ticket was in fact stored
    clean.helpdesk.fault("error")
    conversation = new_conversation(conversations)
    handoff = clean.service.escalate(conversation, PRINCIPAL, EXPLICIT, summary="VPN")
    assert handoff.kind == "pending"
    # Simulate a create that landed although the worker saw a failure.
    clean.helpdesk.state.create({"subject": "x", "comment": {"body": "y"}, "external_id": handoff.escalation_id})
    clean.helpdesk.fault("ok")
    record = wait_for(
        lambda: (r := clean.escalations.get(conversation.conversation_id)) and r.status == "ticketed" and r
    )
    time.sleep(2.5)
    [ticket] = clean.helpdesk.tickets(handoff.escalation_id)
    assert record.ticket_id == str(ticket["id"])


def ticketed(clean: LocalEscalation, conversation_id: str) -> Any:
    record = clean.escalations.get(conversation_id)
    return record if record is not None and record.status == "ticketed" else None


def _execution_output(clean: LocalEscalation, escalation_id: str) -> dict[str, Any]:
    import json

    sfn = clean.service._sfn
    arn = clean.state_machine_arn.replace(":stateMachine:", ":execution:") + f":esc-{escalation_id}"
    output = json.loads(sfn.describe_execution(executionArn=arn)["output"])
    return {k: output[k] for k in ("outcome", "ticket_id")}


def test_a_second_request_in_a_ticketed_conversation_opens_no_second_ticket(
    clean: LocalEscalation, conversations: DynamoDBConversationStore
) -> None:
    conversation = new_conversation(conversations)
    first = clean.service.escalate(conversation, PRINCIPAL, FRAUD, summary="unknown card payment")
    assert first.kind == "ticket"
    again = clean.service.escalate(conversation, PRINCIPAL, EXPLICIT, summary="still waiting, a person please")
    assert (again.kind, again.ticket_id, again.escalation_id) == ("ticket", first.ticket_id, first.escalation_id)
    assert f"already with our support team as ticket #{first.ticket_id}" in again.message
    assert len(clean.helpdesk.tickets(first.escalation_id)) == 1
    record = clean.escalations.require(conversation.conversation_id)
    assert (record.escalation_id, record.reason, record.ticket_id) == (
        first.escalation_id,
        "high_risk_intent",
        first.ticket_id,
    ), "the first escalation's record is kept, not overwritten"


def test_a_more_urgent_request_in_a_ticketed_conversation_is_handed_over_anew(
    clean: LocalEscalation, conversations: DynamoDBConversationStore
) -> None:
    conversation = new_conversation(conversations)
    first = clean.service.escalate(conversation, PRINCIPAL, EXPLICIT, summary="a person please")
    urgent = Decision(
        escalate=True,
        reason="vulnerable_customer",
        detail="vulnerable customer: self-harm",
        intent="self_harm",
        urgency="urgent",
    )
    second = clean.service.escalate(conversation, PRINCIPAL, urgent, summary="...")
    assert second.escalation_id != first.escalation_id
    assert second.kind == "ticket" and second.ticket_id != first.ticket_id
