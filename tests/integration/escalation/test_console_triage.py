"""The agent console on moto (issue 20): the queue ordered by urgency then age with language and summary, the
open conversation says whose it is, and the user's open chat is told about take, reply and hand back."""

from __future__ import annotations

from typing import Any

import pytest

from keel.conversations.dynamodb import DynamoDBConversationStore
from keel.escalation.console import AgentConsole
from keel.escalation.decision import Decision
from keel.escalation.queues import AgentQueues
from keel.identity.principal import Principal
from keel.local.escalation import LocalEscalation
from tests.integration.escalation.conftest import PRINCIPAL, new_conversation

pytestmark = pytest.mark.integration
SAM = Principal("agent-sam", "sam", frozenset({"it-desk"}), "demo", attributes={"name": "Sam"})
KIM = Principal("agent-kim", "kim", frozenset({"it-desk"}), "demo", attributes={"name": "Kim"})
QUEUES = AgentQueues({"it": ["it-desk"]})


class Recorder:
    """The UserNotifier port, recording what the user's chat would receive."""

    def __init__(self) -> None:
        self.frames: list[tuple[str, dict[str, Any]]] = []

    def notify(self, subject: str, frame: dict[str, Any]) -> None:
        self.frames.append((subject, frame))


def test_queue_is_ordered_by_urgency_then_age_with_language_and_summary(
    clean: LocalEscalation, conversations: DynamoDBConversationStore
) -> None:
    console = AgentConsole(clean.escalations, conversations, QUEUES)
    cases = [
        ("low_confidence", "Where is the travel policy for contractors working abroad?"),
        ("explicit_request", "Ich möchte bitte mit einem Menschen über meine Rechnung sprechen"),
        ("high_risk_intent", "Someone is threatening me and I need help right now please"),
    ]
    ids = []
    for reason, summary in cases:
        conversation = new_conversation(conversations)
        clean.service.escalate(conversation, PRINCIPAL, Decision(escalate=True, reason=reason), summary=summary)
        ids.append(conversation.conversation_id)
    queue = [q for q in console.queue(SAM) if q["conversation_id"] in ids]
    assert [q["reason"] for q in queue] == ["high_risk_intent", "explicit_request", "low_confidence"]
    assert [q["urgency"] for q in queue] == ["high", "normal", "low"]
    german = queue[1]
    assert (german["language"], german["language_name"]) == ("de", "German")
    assert german["summary"].startswith("Ich möchte")


def test_the_users_chat_hears_take_reply_and_hand_back_and_mine_follows_the_assignment(
    clean: LocalEscalation, conversations: DynamoDBConversationStore
) -> None:
    recorder = Recorder()
    console = AgentConsole(clean.escalations, conversations, QUEUES, recorder)
    conversation = new_conversation(conversations)
    clean.service.escalate(conversation, PRINCIPAL, Decision(escalate=True, reason="explicit_request"), summary="hi")
    cid = conversation.conversation_id
    assert console.conversation(SAM, cid)["mine"] is False

    console.take(SAM, cid)
    assert console.conversation(SAM, cid)["mine"] is True and console.conversation(KIM, cid)["mine"] is False
    console.reply(SAM, cid, "I am looking at it now.")
    console.handback(SAM, cid)

    assert {subject for subject, _ in recorder.frames} == {PRINCIPAL.subject}
    kinds = [(frame["type"], frame["conversation_id"]) for _, frame in recorder.frames]
    assert kinds == [("status", cid), ("agent_message", cid), ("status", cid)]
    assert "Sam" in recorder.frames[0][1]["text"]
    assert recorder.frames[1][1] == {**recorder.frames[1][1], "text": "I am looking at it now.", "agent": "Sam"}
